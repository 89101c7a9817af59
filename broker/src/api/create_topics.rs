//! CreateTopics: per-topic results, validate-only, replication factor 1 only.

use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::StrBytes;

use super::{error_code, topic_error_code, RequestContext};
use crate::topic_config::TopicConfig;
use crate::topics::{validate_topic_name, TopicError, MAX_PARTITIONS};

/// `config_source` values of Kafka's DescribeConfigs/CreateTopics.
pub const SOURCE_DYNAMIC_TOPIC: i8 = 1;
pub const SOURCE_DEFAULT: i8 = 5;

/// Serves CreateTopics.
pub async fn handle(ctx: &RequestContext, req: CreateTopicsRequest) -> CreateTopicsResponse {
    let state = &ctx.state;
    let mut results = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let name = t.name.0.to_string();
        let mut result = CreatableTopicResult::default().with_name(t.name.clone());
        let partitions = if t.num_partitions == -1 && t.assignments.is_empty() {
            state.config.num_partitions
        } else if !t.assignments.is_empty() {
            t.assignments.len() as i32
        } else {
            t.num_partitions
        };
        let config = TopicConfig::new(
            t.configs
                .iter()
                .filter_map(|c| Some((c.name.as_str(), c.value.as_ref()?.as_str()))),
            &state.config.log,
        );
        let outcome: Result<TopicConfig, (i16, String)> = (|| {
            validate_topic_name(&name)
                .map_err(|e| (error_code::INVALID_TOPIC_EXCEPTION, e.to_string()))?;
            if t.replication_factor != -1 && t.replication_factor != 1 {
                return Err((
                    error_code::INVALID_REPLICATION_FACTOR,
                    format!(
                        "Replication factor: {} larger than available brokers: 1.",
                        t.replication_factor
                    ),
                ));
            }
            if !(1..=MAX_PARTITIONS).contains(&partitions) {
                return Err((
                    error_code::INVALID_PARTITIONS,
                    format!("Number of partitions must be between 1 and {MAX_PARTITIONS}."),
                ));
            }
            let config = config.map_err(|e| (error_code::INVALID_CONFIG, e.to_string()))?;
            if state.topics.get(&name).is_some() {
                return Err((
                    error_code::TOPIC_ALREADY_EXISTS,
                    format!("Topic '{name}' already exists."),
                ));
            }
            if req.validate_only {
                return Ok(config);
            }
            match state
                .topics
                .create_with_config(&name, partitions, config.clone())
            {
                Ok(topic) => {
                    result.topic_id = topic.id;
                    Ok(config)
                }
                Err(e @ TopicError::AlreadyExists(_)) => Err((
                    error_code::TOPIC_ALREADY_EXISTS,
                    format!("Topic '{name}' already exists. ({e})"),
                )),
                Err(e) => Err((topic_error_code(&e), e.to_string())),
            }
        })();
        match outcome {
            Ok(config) => {
                result.error_message = None;
                result.num_partitions = partitions;
                result.replication_factor = 1;
                if ctx.version >= 5 {
                    result.configs = Some(describe(&config, &state.config.log));
                }
            }
            Err((code, msg)) => {
                result.error_code = code;
                result.error_message = Some(StrBytes::from_string(msg));
                result.num_partitions = -1;
                result.replication_factor = -1;
            }
        }
        results.push(result);
    }
    CreateTopicsResponse::default().with_topics(results)
}

fn describe(config: &TopicConfig, base: &crate::log::LogConfig) -> Vec<CreatableTopicConfigs> {
    config
        .describe(base)
        .into_iter()
        .map(|((name, value, _), overridden)| {
            CreatableTopicConfigs::default()
                .with_name(StrBytes::from_static_str(name))
                .with_value(Some(StrBytes::from_string(value)))
                .with_config_source(if overridden {
                    SOURCE_DYNAMIC_TOPIC
                } else {
                    SOURCE_DEFAULT
                })
        })
        .collect()
}
