//! Metadata: brokers (just this node), topics, partitions; may auto-create topics.

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use super::{error_code, topic_error_code, RequestContext};
use crate::topics::{validate_topic_name, Topic};

/// "Authorized operations not requested" in Kafka's responses.
const OPS_OMITTED: i32 = i32::MIN;

/// Serves Metadata.
pub async fn handle(ctx: &RequestContext, req: MetadataRequest) -> MetadataResponse {
    let state = &ctx.state;
    let node = BrokerId(state.node_id);
    // v0: an empty list means all topics; v1+: null means all, empty means none.
    let all = match &req.topics {
        None => true,
        Some(t) => t.is_empty() && ctx.version == 0,
    };
    let may_create =
        state.config.auto_create_topics && (ctx.version < 4 || req.allow_auto_topic_creation);
    let mut topics = Vec::new();
    if all {
        for t in state.topics.list() {
            topics.push(describe(ctx, &t));
        }
    } else {
        for rt in req.topics.unwrap_or_default() {
            match rt.name {
                Some(name) => {
                    let name = name.0.to_string();
                    let topic = match state.topics.get(&name) {
                        Some(t) => Ok(t),
                        None if !may_create => Err(match validate_topic_name(&name) {
                            Ok(()) => error_code::UNKNOWN_TOPIC_OR_PARTITION,
                            Err(_) => error_code::INVALID_TOPIC_EXCEPTION,
                        }),
                        None => state
                            .topics
                            .create(&name, state.config.num_partitions)
                            .or_else(|e| state.topics.get(&name).ok_or(e))
                            .map_err(|e| topic_error_code(&e)),
                    };
                    topics.push(match topic {
                        Ok(t) => describe(ctx, &t),
                        Err(code) => error_topic(Some(name), Uuid::nil(), code),
                    });
                }
                None => match state.topics.get_by_id(rt.topic_id) {
                    Some(t) => topics.push(describe(ctx, &t)),
                    None => {
                        topics.push(error_topic(None, rt.topic_id, error_code::UNKNOWN_TOPIC_ID))
                    }
                },
            }
        }
    }
    let broker = MetadataResponseBroker::default()
        .with_node_id(node)
        .with_host(StrBytes::from_string(state.advertised_host.clone()))
        .with_port(state.advertised_port);
    MetadataResponse::default()
        .with_brokers(vec![broker])
        .with_cluster_id(Some(StrBytes::from_string(state.cluster_id.clone())))
        .with_controller_id(node)
        .with_topics(topics)
        .with_cluster_authorized_operations(OPS_OMITTED)
}

fn error_topic(name: Option<String>, id: Uuid, code: i16) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(code)
        .with_name(name.map(|n| TopicName(StrBytes::from_string(n))))
        .with_topic_id(id)
        .with_topic_authorized_operations(OPS_OMITTED)
}

fn describe(ctx: &RequestContext, topic: &Topic) -> MetadataResponseTopic {
    let node = BrokerId(ctx.state.node_id);
    let partitions = (0..topic.partition_count())
        .map(|i| {
            MetadataResponsePartition::default()
                .with_partition_index(i)
                .with_leader_id(node)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(topic.name.clone()))))
        .with_topic_id(topic.id)
        .with_is_internal(false)
        .with_partitions(partitions)
        .with_topic_authorized_operations(OPS_OMITTED)
}
