//! Cluster metadata as php-rdkafka's `RdKafka\Metadata` presents it.

use crate::error::ErrorCode;
use kafka_protocol::messages::MetadataResponse;

/// A broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerMetadata {
    /// Node id.
    pub id: i32,
    /// Host.
    pub host: String,
    /// Port.
    pub port: i32,
}

/// A partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// Partition id.
    pub id: i32,
    /// Error for this partition.
    pub err: ErrorCode,
    /// Leader node (-1 none).
    pub leader: i32,
    /// Replica nodes.
    pub replicas: Vec<i32>,
    /// In-sync replica nodes.
    pub isrs: Vec<i32>,
}

/// A topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    /// Name.
    pub name: String,
    /// Error for this topic (e.g. `UNKNOWN_TOPIC_OR_PART`).
    pub err: ErrorCode,
    /// Partitions sorted by id.
    pub partitions: Vec<PartitionMetadata>,
}

/// A metadata answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Node id of the broker that answered (-1 for a bootstrap address).
    pub orig_broker_id: i32,
    /// Name of the broker that answered (`host:port/id`).
    pub orig_broker_name: String,
    /// Brokers.
    pub brokers: Vec<BrokerMetadata>,
    /// Topics.
    pub topics: Vec<TopicMetadata>,
    /// Controller node id.
    pub controller_id: i32,
    /// Cluster id.
    pub cluster_id: Option<String>,
}

impl Metadata {
    pub(crate) fn from_response(r: MetadataResponse, node: i32, addr: &str) -> Metadata {
        let brokers: Vec<BrokerMetadata> = r
            .brokers
            .iter()
            .map(|b| BrokerMetadata {
                id: b.node_id.0,
                host: b.host.to_string(),
                port: b.port,
            })
            .collect();
        let orig_id = if node >= 0 {
            node
        } else {
            brokers
                .iter()
                .find(|b| format!("{}:{}", b.host, b.port) == addr)
                .map(|b| b.id)
                .unwrap_or(-1)
        };
        let topics = r
            .topics
            .into_iter()
            .map(|t| {
                let mut partitions: Vec<PartitionMetadata> = t
                    .partitions
                    .into_iter()
                    .map(|p| PartitionMetadata {
                        id: p.partition_index,
                        err: ErrorCode::from_kafka(p.error_code),
                        leader: p.leader_id.0,
                        replicas: p.replica_nodes.iter().map(|n| n.0).collect(),
                        isrs: p.isr_nodes.iter().map(|n| n.0).collect(),
                    })
                    .collect();
                partitions.sort_by_key(|p| p.id);
                TopicMetadata {
                    name: t.name.map(|n| n.0.to_string()).unwrap_or_default(),
                    err: ErrorCode::from_kafka(t.error_code),
                    partitions,
                }
            })
            .collect();
        Metadata {
            orig_broker_id: orig_id,
            orig_broker_name: format!("{addr}/{orig_id}"),
            brokers,
            topics,
            controller_id: r.controller_id.0,
            cluster_id: r.cluster_id.map(|c| c.to_string()),
        }
    }
}
