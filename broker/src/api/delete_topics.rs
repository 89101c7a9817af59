//! DeleteTopics: by name (all versions) or by topic id (v6+).

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use super::{error_code, topic_error_code, RequestContext};

/// Serves DeleteTopics.
pub async fn handle(ctx: &RequestContext, req: DeleteTopicsRequest) -> DeleteTopicsResponse {
    let state = &ctx.state;
    let mut targets: Vec<(Option<String>, Uuid)> = req
        .topic_names
        .iter()
        .map(|n| (Some(n.0.to_string()), Uuid::nil()))
        .collect();
    targets.extend(
        req.topics
            .iter()
            .map(|t| (t.name.as_ref().map(|n| n.0.to_string()), t.topic_id)),
    );
    let mut responses = Vec::with_capacity(targets.len());
    for (name, id) in targets {
        let mut r = DeletableTopicResult::default().with_topic_id(id);
        let resolved = match (&name, id.is_nil()) {
            (Some(n), _) => Ok(n.clone()),
            (None, false) => state
                .topics
                .get_by_id(id)
                .map(|t| t.name.clone())
                .ok_or(error_code::UNKNOWN_TOPIC_ID),
            (None, true) => Err(error_code::INVALID_REQUEST),
        };
        match resolved {
            Ok(n) => {
                r.name = Some(TopicName(StrBytes::from_string(n.clone())));
                match state.delete_topic(&n) {
                    Ok(deleted_id) => r.topic_id = deleted_id,
                    Err(e) => {
                        r.error_code = topic_error_code(&e);
                        r.error_message = Some(StrBytes::from_string(e.to_string()));
                    }
                }
            }
            Err(code) => r.error_code = code,
        }
        responses.push(r);
    }
    DeleteTopicsResponse::default().with_responses(responses)
}
