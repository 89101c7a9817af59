//! IncrementalAlterConfigs: change topic-level settings (`kafka-configs --alter`).
//! Broker settings come from `server.properties` only and are refused here.

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::alter_configs::alter_topic;
use super::{error_code, topic_error_code, RequestContext};

const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;

/// Serves IncrementalAlterConfigs.
pub async fn handle(
    ctx: &RequestContext,
    req: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let mut responses = Vec::with_capacity(req.resources.len());
    for res in req.resources {
        let name = res.resource_name.to_string();
        let mut r = AlterConfigsResourceResponse::default()
            .with_resource_type(res.resource_type)
            .with_resource_name(res.resource_name.clone());
        let outcome = alter_topic(ctx, res.resource_type, &name, req.validate_only, |topic| {
            let mut config = topic.config();
            for c in &res.configs {
                match (c.config_operation, c.value.as_ref()) {
                    (OP_SET, Some(v)) => config.set(c.name.as_str(), v.as_str()),
                    (OP_DELETE, _) => config.remove(c.name.as_str()),
                    _ => {
                        return Err((
                            error_code::INVALID_REQUEST,
                            format!(
                                "unsupported operation {} on {}",
                                c.config_operation,
                                c.name.as_str()
                            ),
                        ))
                    }
                }
            }
            ctx.state
                .topics
                .check_config(&config)
                .map_err(|e| (topic_error_code(&e), e.to_string()))?;
            Ok(config)
        });
        if let Err((code, msg)) = outcome {
            r.error_code = code;
            r.error_message = Some(StrBytes::from_string(msg));
        }
        responses.push(r);
    }
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}
