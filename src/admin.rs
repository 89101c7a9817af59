//! A small admin API for the command line: topics and partitions.

use crate::client::Client;
use crate::cluster::Metadata;
use crate::config::Config;
use crate::consumer::assignor::decode_assignment;
use crate::consumer::offsets::Coordinator;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::topic_partition::TopicPartition;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest, DescribeGroupsRequest,
    GroupId, ListGroupsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use std::time::Duration;

/// A group as `ListGroups` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// Group id.
    pub group_id: String,
    /// Protocol type (`consumer` for consumer groups).
    pub protocol_type: String,
    /// State (`Stable`, `Empty`, … when the broker reports it).
    pub state: String,
}

/// One member of a described group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    /// Member id.
    pub member_id: String,
    /// Client id.
    pub client_id: String,
    /// Client host.
    pub host: String,
    /// Assigned partitions.
    pub assignment: Vec<(String, i32)>,
}

/// A described group with committed offsets and lag per partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// State.
    pub state: String,
    /// Assignment protocol (e.g. `range`).
    pub protocol: String,
    /// Members.
    pub members: Vec<GroupMember>,
    /// Per partition: committed offset (-1001 none), high watermark, lag (-1 unknown).
    pub offsets: Vec<PartitionLag>,
}

/// Committed offset and lag of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Committed offset.
    pub committed: i64,
    /// High watermark.
    pub high: i64,
    /// `high - committed`, or -1 when nothing is committed.
    pub lag: i64,
    /// Member owning the partition, if any.
    pub owner: Option<String>,
}

/// Admin operations over a [`Client`].
#[derive(Debug, Clone)]
pub struct Admin {
    client: Client,
}

fn name(t: &str) -> TopicName {
    TopicName(StrBytes::from_string(t.to_string()))
}

fn check(code: i16, msg: Option<&StrBytes>) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    let c = ErrorCode::from_kafka(code);
    Err(KafkaError::with_message(
        c,
        msg.map(|m| m.to_string())
            .unwrap_or_else(|| c.description()),
    ))
}

impl Admin {
    /// An admin client.
    ///
    /// # Errors
    /// When the runtime cannot start.
    pub fn new(conf: &Config) -> Result<Admin> {
        Ok(Admin {
            client: Client::new(conf)?,
        })
    }

    /// The underlying client (metadata, watermarks).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates a topic; `replication_factor` -1 uses the broker default.
    ///
    /// # Errors
    /// `TOPIC_ALREADY_EXISTS`, `INVALID_PARTITIONS`, … with the broker's message.
    pub fn create_topic(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: i16,
        configs: &[(String, String)],
        timeout: Duration,
    ) -> Result<()> {
        let cluster = self.client.cluster.clone();
        let mut ct = CreatableTopic::default();
        ct.name = name(topic);
        ct.num_partitions = partitions;
        ct.replication_factor = replication_factor;
        ct.configs = configs
            .iter()
            .map(|(k, v)| {
                let mut c = CreatableTopicConfig::default();
                c.name = StrBytes::from_string(k.clone());
                c.value = Some(StrBytes::from_string(v.clone()));
                c
            })
            .collect();
        let mut req = CreateTopicsRequest::default();
        req.topics = vec![ct];
        req.timeout_ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        self.client.block_on(timeout, async move {
            let (conn, _) = cluster.any_connection().await?;
            let resp = conn.send(&req, 5).await?;
            let r = resp
                .topics
                .first()
                .ok_or_else(|| KafkaError::new(ErrorCode::BAD_MSG))?;
            check(r.error_code, r.error_message.as_ref())
        })
    }

    /// Deletes a topic.
    ///
    /// # Errors
    /// `UNKNOWN_TOPIC_OR_PART` and other broker errors.
    pub fn delete_topic(&self, topic: &str, timeout: Duration) -> Result<()> {
        let cluster = self.client.cluster.clone();
        let t = topic.to_string();
        let timeout_ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        self.client.block_on(timeout, async move {
            let (conn, _) = cluster.any_connection().await?;
            let v = conn.version::<DeleteTopicsRequest>(6)?;
            let mut req = DeleteTopicsRequest::default();
            if v >= 6 {
                let mut st =
                    kafka_protocol::messages::delete_topics_request::DeleteTopicState::default();
                st.name = Some(name(&t));
                req.topics = vec![st];
            } else {
                req.topic_names = vec![name(&t)];
            }
            req.timeout_ms = timeout_ms;
            let resp = conn
                .send_versioned(&req, v, cluster.request_timeout())
                .await?;
            let r = resp
                .responses
                .first()
                .ok_or_else(|| KafkaError::new(ErrorCode::BAD_MSG))?;
            check(r.error_code, r.error_message.as_ref())
        })
    }

    /// Grows a topic to `total` partitions.
    ///
    /// # Errors
    /// `INVALID_PARTITIONS` and other broker errors.
    pub fn create_partitions(&self, topic: &str, total: i32, timeout: Duration) -> Result<()> {
        let cluster = self.client.cluster.clone();
        let mut t = CreatePartitionsTopic::default();
        t.name = name(topic);
        t.count = total;
        t.assignments = None;
        let mut req = CreatePartitionsRequest::default();
        req.topics = vec![t];
        req.timeout_ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        self.client.block_on(timeout, async move {
            let (conn, _) = cluster.any_connection().await?;
            let resp = conn.send(&req, 3).await?;
            let r = resp
                .results
                .first()
                .ok_or_else(|| KafkaError::new(ErrorCode::BAD_MSG))?;
            check(r.error_code, r.error_message.as_ref())
        })
    }

    /// All topics with partitions (`topics list`).
    ///
    /// # Errors
    /// As [`Client::metadata`].
    pub fn list_topics(&self, timeout: Duration) -> Result<Metadata> {
        self.client.metadata(true, None, timeout)
    }

    /// One topic (`topics describe`); the topic's `err` tells whether it exists.
    ///
    /// # Errors
    /// As [`Client::metadata`].
    pub fn describe_topic(&self, topic: &str, timeout: Duration) -> Result<Metadata> {
        self.client.metadata(false, Some(topic), timeout)
    }

    /// All groups of the cluster (every broker is asked).
    ///
    /// # Errors
    /// Metadata and request errors.
    pub fn list_groups(&self, timeout: Duration) -> Result<Vec<GroupListing>> {
        let cluster = self.client.cluster.clone();
        self.client.block_on(timeout, async move {
            let md = cluster.fetch_metadata(Some(&[]), false).await?;
            let mut out: Vec<GroupListing> = Vec::new();
            for b in &md.brokers {
                let conn = cluster.connection(b.id).await?;
                let resp = conn.send(&ListGroupsRequest::default(), 4).await?;
                check(resp.error_code, None)?;
                for g in resp.groups {
                    out.push(GroupListing {
                        group_id: g.group_id.0.to_string(),
                        protocol_type: g.protocol_type.to_string(),
                        state: g.group_state.to_string(),
                    });
                }
            }
            out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
            out.dedup_by(|a, b| a.group_id == b.group_id);
            Ok(out)
        })
    }

    /// Describes a group: members, assignments, committed offsets and lag for every
    /// partition of the topics it has offsets for or is assigned.
    ///
    /// # Errors
    /// `GROUP_ID_NOT_FOUND` and other broker errors.
    pub fn describe_group(&self, group: &str, timeout: Duration) -> Result<GroupDescription> {
        let cluster = self.client.cluster.clone();
        let group = group.to_string();
        let iso = self.client.isolation_level();
        self.client.block_on(timeout, async move {
            let coord = Coordinator::new(&group);
            let conn = coord.connection(&cluster).await?;
            let mut req = DescribeGroupsRequest::default();
            req.groups = vec![GroupId(StrBytes::from_string(group.clone()))];
            let resp = conn.send(&req, 5).await?;
            let g = resp
                .groups
                .into_iter()
                .next()
                .ok_or_else(|| KafkaError::new(ErrorCode::BAD_MSG))?;
            check(g.error_code, g.error_message.as_ref())?;
            let members: Vec<GroupMember> = g
                .members
                .iter()
                .map(|m| GroupMember {
                    member_id: m.member_id.to_string(),
                    client_id: m.client_id.to_string(),
                    host: m.client_host.to_string(),
                    assignment: decode_assignment(m.member_assignment.clone()).unwrap_or_default(),
                })
                .collect();
            // Offsets: every partition of the topics the group is assigned or committed to.
            let mut topics: Vec<String> = members
                .iter()
                .flat_map(|m| m.assignment.iter().map(|(t, _)| t.clone()))
                .collect();
            let all = coord.fetch_all(&cluster).await.unwrap_or_default();
            topics.extend(all.iter().map(|tp| tp.topic.clone()));
            topics.sort();
            topics.dedup();
            let md = if topics.is_empty() {
                None
            } else {
                Some(cluster.fetch_metadata(Some(&topics), false).await?)
            };
            let mut tps: Vec<TopicPartition> = Vec::new();
            for t in md
                .iter()
                .flat_map(|m| m.topics.iter())
                .filter(|t| t.err.is_ok())
            {
                for p in &t.partitions {
                    tps.push(TopicPartition::new(t.name.clone(), p.id, 0));
                }
            }
            let committed = if tps.is_empty() {
                Vec::new()
            } else {
                coord.fetch(&cluster, &tps, false).await?
            };
            let q = tps
                .iter()
                .map(|tp| (tp.topic.clone(), tp.partition, -1))
                .collect();
            let highs = crate::client::list_offsets(&cluster, q, iso).await?;
            let offsets = committed
                .into_iter()
                .zip(highs)
                .map(|(c, h)| {
                    let high = h.unwrap_or(-1);
                    let owner = members
                        .iter()
                        .find(|m| {
                            m.assignment
                                .iter()
                                .any(|(t, p)| *t == c.topic && *p == c.partition)
                        })
                        .map(|m| m.member_id.clone());
                    PartitionLag {
                        lag: if c.offset >= 0 && high >= 0 {
                            (high - c.offset).max(0)
                        } else {
                            -1
                        },
                        topic: c.topic,
                        partition: c.partition,
                        committed: c.offset,
                        high,
                        owner,
                    }
                })
                .collect();
            Ok(GroupDescription {
                group_id: g.group_id.0.to_string(),
                state: g.group_state.to_string(),
                protocol: g.protocol_data.to_string(),
                members,
                offsets,
            })
        })
    }
}
