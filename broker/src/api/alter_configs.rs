//! AlterConfigs (the legacy, replace-everything form): a topic's overrides become exactly the
//! given set. Broker settings come from `server.properties` only and are refused here.

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::{error_code, topic_error_code, RequestContext};
use crate::topic_config::TopicConfig;
use crate::topics::Topic;

const RESOURCE_TOPIC: i8 = 2;

/// A failed resource: its error code and message.
pub(super) type Refusal = (i16, String);

/// What both AlterConfigs forms share: only topic resources, of topics that exist; `config`
/// builds the topic's new settings from its current ones, stored unless `validate_only`.
pub(super) fn alter_topic(
    ctx: &RequestContext,
    resource_type: i8,
    name: &str,
    validate_only: bool,
    config: impl FnOnce(&Topic) -> Result<TopicConfig, Refusal>,
) -> Result<(), Refusal> {
    if resource_type != RESOURCE_TOPIC {
        return Err((
            error_code::INVALID_REQUEST,
            "only topic configs can be altered; broker settings come from server.properties"
                .to_string(),
        ));
    }
    let topics = &ctx.state.topics;
    let topic = topics.get(name).ok_or_else(|| {
        (
            error_code::UNKNOWN_TOPIC_OR_PARTITION,
            format!("Topic '{name}' does not exist."),
        )
    })?;
    let config = config(&topic)?;
    if !validate_only {
        topics
            .alter_config(name, config)
            .map_err(|e| (topic_error_code(&e), e.to_string()))?;
    }
    Ok(())
}

/// Serves AlterConfigs.
pub async fn handle(ctx: &RequestContext, req: AlterConfigsRequest) -> AlterConfigsResponse {
    let mut responses = Vec::with_capacity(req.resources.len());
    for res in req.resources {
        let name = res.resource_name.to_string();
        let mut r = AlterConfigsResourceResponse::default()
            .with_resource_type(res.resource_type)
            .with_resource_name(res.resource_name.clone());
        let outcome = alter_topic(ctx, res.resource_type, &name, req.validate_only, |_| {
            let pairs = res
                .configs
                .iter()
                .filter_map(|c| Some((c.name.as_str(), c.value.as_ref()?.as_str())));
            TopicConfig::new(pairs, &ctx.state.config.log)
                .map_err(|e| (error_code::INVALID_CONFIG, e.to_string()))
        });
        if let Err((code, msg)) = outcome {
            r.error_code = code;
            r.error_message = Some(StrBytes::from_string(msg));
        }
        responses.push(r);
    }
    AlterConfigsResponse::default().with_responses(responses)
}
