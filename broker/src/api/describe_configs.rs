//! DescribeConfigs: topic and broker settings, read-only, as far as Kafka's CLI tools
//! (`kafka-topics --describe`, `kafka-configs --describe`) need them.

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::{error_code, RequestContext};
use crate::config::BrokerConfig;
use crate::topic_config::ConfigEntry;

const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;
const SOURCE_DYNAMIC_TOPIC: i8 = 1;
const SOURCE_STATIC_BROKER: i8 = 4;
const SOURCE_DEFAULT: i8 = 5;
const TYPE_BOOLEAN: i8 = 1;
const TYPE_STRING: i8 = 2;
const TYPE_INT: i8 = 3;
const TYPE_LONG: i8 = 5;

fn ms(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-1".into())
}

fn broker_configs(c: &BrokerConfig) -> Vec<ConfigEntry> {
    vec![
        (
            "auto.create.topics.enable",
            c.auto_create_topics.to_string(),
            TYPE_BOOLEAN,
        ),
        ("log.dirs", c.data_dir.display().to_string(), TYPE_STRING),
        ("log.retention.bytes", ms(c.log.retention_bytes), TYPE_LONG),
        ("log.retention.ms", ms(c.log.retention_ms), TYPE_LONG),
        (
            "log.segment.bytes",
            c.log.segment_bytes.to_string(),
            TYPE_INT,
        ),
        (
            "message.max.bytes",
            c.log.max_message_bytes.to_string(),
            TYPE_INT,
        ),
        ("node.id", c.node_id.to_string(), TYPE_INT),
        ("num.partitions", c.num_partitions.to_string(), TYPE_INT),
        (
            "socket.request.max.bytes",
            c.socket_request_max_bytes.to_string(),
            TYPE_INT,
        ),
    ]
}

/// Serves DescribeConfigs.
pub async fn handle(ctx: &RequestContext, req: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let state = &ctx.state;
    let mut results = Vec::with_capacity(req.resources.len());
    for res in req.resources {
        let name = res.resource_name.to_string();
        let mut result = DescribeConfigsResult::default()
            .with_resource_type(res.resource_type)
            .with_resource_name(res.resource_name.clone());
        let entries = match res.resource_type {
            RESOURCE_TOPIC => match state.topics.get(&name) {
                Some(topic) => Ok(topic
                    .config()
                    .describe(&state.config.log)
                    .into_iter()
                    .map(|(entry, overridden)| {
                        (
                            entry,
                            if overridden {
                                SOURCE_DYNAMIC_TOPIC
                            } else {
                                SOURCE_DEFAULT
                            },
                        )
                    })
                    .collect()),
                None => Err((
                    error_code::UNKNOWN_TOPIC_OR_PARTITION,
                    format!("Topic '{name}' does not exist."),
                )),
            },
            RESOURCE_BROKER if name.is_empty() || name == state.node_id.to_string() => {
                Ok(broker_configs(&state.config)
                    .into_iter()
                    .map(|entry| (entry, SOURCE_STATIC_BROKER))
                    .collect())
            }
            RESOURCE_BROKER => Err((
                error_code::INVALID_REQUEST,
                format!("Unknown broker {name}"),
            )),
            other => Err((
                error_code::INVALID_REQUEST,
                format!("Unsupported resource type {other}"),
            )),
        };
        let entries: Result<Vec<(ConfigEntry, i8)>, (i16, String)> = entries;
        match entries {
            Ok(entries) => {
                result.configs = entries
                    .into_iter()
                    .filter(|((k, _, _), _)| {
                        // null (or empty) asks for every setting
                        res.configuration_keys
                            .as_ref()
                            .filter(|keys| !keys.is_empty())
                            .is_none_or(|keys| keys.iter().any(|want| want.as_str() == *k))
                    })
                    .map(|((k, v, t), source)| {
                        DescribeConfigsResourceResult::default()
                            .with_name(StrBytes::from_static_str(k))
                            .with_value(Some(StrBytes::from_string(v)))
                            .with_read_only(source == SOURCE_STATIC_BROKER)
                            .with_config_source(source)
                            .with_config_type(t)
                    })
                    .collect();
            }
            Err((code, msg)) => {
                result.error_code = code;
                result.error_message = Some(StrBytes::from_string(msg));
            }
        }
        results.push(result);
    }
    DescribeConfigsResponse::default().with_results(results)
}
