//! CreatePartitions: grow a topic's partition count.

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::StrBytes;

use super::{error_code, topic_error_code, RequestContext};
use crate::topics::MAX_PARTITIONS;

/// Serves CreatePartitions.
pub async fn handle(
    ctx: &RequestContext,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let state = &ctx.state;
    let mut results = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let name = t.name.0.to_string();
        let mut r = CreatePartitionsTopicResult::default().with_name(t.name.clone());
        let outcome = match state.topics.get(&name) {
            None => Err((
                error_code::UNKNOWN_TOPIC_OR_PARTITION,
                format!("Topic '{name}' does not exist."),
            )),
            Some(topic) if t.count <= topic.partition_count() || t.count > MAX_PARTITIONS => Err((
                error_code::INVALID_PARTITIONS,
                format!(
                    "Topic currently has {} partitions, {} would not be an increase.",
                    topic.partition_count(),
                    t.count
                ),
            )),
            Some(_) if req.validate_only => Ok(()),
            Some(_) => state
                .topics
                .add_partitions(&name, t.count)
                .map_err(|e| (topic_error_code(&e), e.to_string())),
        };
        if let Err((code, msg)) = outcome {
            r.error_code = code;
            r.error_message = Some(StrBytes::from_string(msg));
        }
        results.push(r);
    }
    CreatePartitionsResponse::default().with_results(results)
}
