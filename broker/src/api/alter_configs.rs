//! AlterConfigs (the legacy, replace-everything form): a topic's overrides become exactly the
//! given set. Broker settings come from `server.properties` only and are refused here.

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::{error_code, topic_error_code, RequestContext};
use crate::topic_config::TopicConfig;

const RESOURCE_TOPIC: i8 = 2;

/// Serves AlterConfigs.
pub async fn handle(ctx: &RequestContext, req: AlterConfigsRequest) -> AlterConfigsResponse {
    let state = &ctx.state;
    let mut responses = Vec::with_capacity(req.resources.len());
    for res in req.resources {
        let name = res.resource_name.to_string();
        let mut r = AlterConfigsResourceResponse::default()
            .with_resource_type(res.resource_type)
            .with_resource_name(res.resource_name.clone());
        let outcome = (|| {
            if res.resource_type != RESOURCE_TOPIC {
                return Err((
                    error_code::INVALID_REQUEST,
                    "only topic configs can be altered; broker settings come from server.properties"
                        .to_string(),
                ));
            }
            if state.topics.get(&name).is_none() {
                return Err((
                    error_code::UNKNOWN_TOPIC_OR_PARTITION,
                    format!("Topic '{name}' does not exist."),
                ));
            }
            let pairs = res
                .configs
                .iter()
                .filter_map(|c| Some((c.name.as_str(), c.value.as_ref()?.as_str())));
            let config = TopicConfig::new(pairs, &state.config.log)
                .map_err(|e| (error_code::INVALID_CONFIG, e.to_string()))?;
            if !req.validate_only {
                state
                    .topics
                    .alter_config(&name, config)
                    .map_err(|e| (topic_error_code(&e), e.to_string()))?;
            }
            Ok(())
        })();
        if let Err((code, msg)) = outcome {
            r.error_code = code;
            r.error_message = Some(StrBytes::from_string(msg));
        }
        responses.push(r);
    }
    AlterConfigsResponse::default().with_responses(responses)
}
