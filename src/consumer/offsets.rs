//! The group coordinator and committed offsets: FindCoordinator, OffsetFetch, OffsetCommit.

use crate::cluster::Cluster;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::net::Connection;
use crate::topic_partition::{TopicPartition, OFFSET_INVALID};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{
    FindCoordinatorRequest, GroupId, OffsetCommitRequest, OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use std::sync::{Arc, Mutex};

fn check_code(code: i16) -> Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(KafkaError::new(ErrorCode::from_kafka(code)))
    }
}

fn self_timeout(cluster: &Cluster) -> std::time::Duration {
    cluster.request_timeout()
}

/// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR: ask again.
fn coordinator_not_ready(code: ErrorCode) -> bool {
    matches!(code.0, 14..=16)
}

/// Waits 100 ms (librdkafka's default `retry.backoff.ms`) before another attempt; true when
/// `deadline` leaves no time for one (the caller then returns the last answer).
async fn retry_after(deadline: tokio::time::Instant) -> bool {
    let at = tokio::time::Instant::now() + std::time::Duration::from_millis(100);
    if at >= deadline {
        return true;
    }
    tokio::time::sleep_until(at).await;
    false
}

/// Where a group's coordinator is.
#[derive(Debug)]
pub struct Coordinator {
    pub group_id: String,
    node: Mutex<Option<i32>>,
}

/// Member identity for commits (generation -1 and empty member for simple commits).
#[derive(Debug, Clone)]
pub(crate) struct CommitIdentity {
    pub generation: i32,
    pub member_id: String,
}

impl Coordinator {
    /// A coordinator handle for `group_id`.
    pub fn new(group_id: &str) -> Coordinator {
        Coordinator {
            group_id: group_id.to_string(),
            node: Mutex::new(None),
        }
    }

    /// Forgets the coordinator (after NOT_COORDINATOR and friends).
    pub fn reset(&self) {
        *self.node.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// A connection to the coordinator, looking it up if needed. A coordinator that is not
    /// ready yet (a fresh cluster creating `__consumer_offsets`, a coordinator moving) is
    /// asked again every 100 ms until the request timeout, as librdkafka does.
    pub async fn connection(&self, cluster: &Cluster) -> Result<Arc<Connection>> {
        let deadline = tokio::time::Instant::now() + self_timeout(cluster);
        loop {
            match self.lookup(cluster).await {
                Err(e) if coordinator_not_ready(e.code) && !retry_after(deadline).await => {}
                r => return r,
            }
        }
    }

    async fn lookup(&self, cluster: &Cluster) -> Result<Arc<Connection>> {
        let known = *self.node.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = known {
            if let Ok(c) = cluster.connection(n).await {
                return Ok(c);
            }
        }
        let (conn, _) = cluster.any_connection().await?;
        let mut req = FindCoordinatorRequest::default();
        req.key = StrBytes::from_string(self.group_id.clone());
        req.key_type = 0;
        let resp = conn.send(&req, 3).await?;
        if resp.error_code != 0 {
            return Err(KafkaError::with_message(
                ErrorCode::from_kafka(resp.error_code),
                resp.error_message
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| ErrorCode::from_kafka(resp.error_code).description()),
            ));
        }
        let node = resp.node_id.0;
        cluster.learn_broker(node, resp.host.as_str(), resp.port);
        *self.node.lock().unwrap_or_else(|e| e.into_inner()) = Some(node);
        cluster.connection(node).await
    }

    /// Committed offsets for `tps` (`OFFSET_INVALID` when none). Asked again (with a fresh
    /// coordinator lookup) while the coordinator is loading or moved, until the request timeout.
    pub async fn fetch(
        &self,
        cluster: &Cluster,
        tps: &[TopicPartition],
        require_stable: bool,
    ) -> Result<Vec<TopicPartition>> {
        let deadline = tokio::time::Instant::now() + self_timeout(cluster);
        loop {
            match self.fetch_once(cluster, tps, require_stable).await {
                Err(e) if coordinator_not_ready(e.code) && !retry_after(deadline).await => {}
                r => return r,
            }
        }
    }

    async fn fetch_once(
        &self,
        cluster: &Cluster,
        tps: &[TopicPartition],
        require_stable: bool,
    ) -> Result<Vec<TopicPartition>> {
        let conn = self.connection(cluster).await?;
        let mut req = OffsetFetchRequest::default();
        req.group_id = GroupId(StrBytes::from_string(self.group_id.clone()));
        let v = conn.version::<OffsetFetchRequest>(7)?;
        req.require_stable = require_stable && v >= 7;
        let mut topics: Vec<OffsetFetchRequestTopic> = Vec::new();
        for tp in tps {
            let name = TopicName(StrBytes::from_string(tp.topic.clone()));
            match topics.iter_mut().find(|t| t.name == name) {
                Some(t) => t.partition_indexes.push(tp.partition),
                None => {
                    let mut t = OffsetFetchRequestTopic::default();
                    t.name = name;
                    t.partition_indexes.push(tp.partition);
                    topics.push(t);
                }
            }
        }
        req.topics = Some(topics);
        let resp = conn.send_versioned(&req, v, self_timeout(cluster)).await?;
        if resp.error_code != 0 {
            let code = ErrorCode::from_kafka(resp.error_code);
            if matches!(code.0, 14..=16) {
                self.reset();
            }
            return Err(KafkaError::new(code));
        }
        Ok(tps
            .iter()
            .map(|tp| {
                let mut out = tp.clone();
                let r = resp
                    .topics
                    .iter()
                    .filter(|t| t.name.0.as_str() == tp.topic)
                    .flat_map(|t| t.partitions.iter())
                    .find(|p| p.partition_index == tp.partition);
                match r {
                    Some(r) if r.error_code == 0 => {
                        out.offset = if r.committed_offset < 0 {
                            OFFSET_INVALID
                        } else {
                            r.committed_offset
                        };
                        out.metadata = r
                            .metadata
                            .as_ref()
                            .map(|m| m.to_string())
                            .filter(|m| !m.is_empty());
                    }
                    Some(r) => {
                        out.offset = OFFSET_INVALID;
                        out.err = ErrorCode::from_kafka(r.error_code);
                    }
                    None => out.offset = OFFSET_INVALID,
                }
                out
            })
            .collect())
    }

    /// Every committed offset of the group (OffsetFetch with all topics).
    pub async fn fetch_all(&self, cluster: &Cluster) -> Result<Vec<TopicPartition>> {
        let conn = self.connection(cluster).await?;
        let mut req = OffsetFetchRequest::default();
        req.group_id = GroupId(StrBytes::from_string(self.group_id.clone()));
        req.topics = None;
        let v = conn.version::<OffsetFetchRequest>(7)?;
        let resp = conn
            .send_versioned(&req, v.max(2), self_timeout(cluster))
            .await?;
        check_code(resp.error_code)?;
        Ok(resp
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .filter(|p| p.error_code == 0 && p.committed_offset >= 0)
                    .map(move |p| {
                        TopicPartition::new(
                            t.name.0.to_string(),
                            p.partition_index,
                            p.committed_offset,
                        )
                    })
            })
            .collect())
    }

    /// Commits offsets; returns them with per-partition errors. Sent again (with a fresh
    /// coordinator lookup) while the coordinator is loading or moved, until the request timeout.
    pub async fn commit(
        &self,
        cluster: &Cluster,
        id: &CommitIdentity,
        tps: &[TopicPartition],
    ) -> Result<Vec<TopicPartition>> {
        let deadline = tokio::time::Instant::now() + self_timeout(cluster);
        loop {
            let r = self.commit_once(cluster, id, tps).await;
            let not_ready = match &r {
                Err(e) => coordinator_not_ready(e.code),
                Ok(res) => res.iter().any(|tp| coordinator_not_ready(tp.err)),
            };
            if !not_ready || retry_after(deadline).await {
                return r;
            }
        }
    }

    async fn commit_once(
        &self,
        cluster: &Cluster,
        id: &CommitIdentity,
        tps: &[TopicPartition],
    ) -> Result<Vec<TopicPartition>> {
        let conn = self.connection(cluster).await?;
        let mut req = OffsetCommitRequest::default();
        req.group_id = GroupId(StrBytes::from_string(self.group_id.clone()));
        req.generation_id_or_member_epoch = id.generation;
        req.member_id = StrBytes::from_string(id.member_id.clone());
        req.retention_time_ms = -1;
        for tp in tps {
            let name = TopicName(StrBytes::from_string(tp.topic.clone()));
            let mut p = OffsetCommitRequestPartition::default();
            p.partition_index = tp.partition;
            p.committed_offset = tp.offset;
            p.committed_leader_epoch = -1;
            p.committed_metadata = Some(StrBytes::from_string(
                tp.metadata.clone().unwrap_or_default(),
            ));
            match req.topics.iter_mut().find(|t| t.name == name) {
                Some(t) => t.partitions.push(p),
                None => {
                    let mut t = OffsetCommitRequestTopic::default();
                    t.name = name;
                    t.partitions.push(p);
                    req.topics.push(t);
                }
            }
        }
        let resp = conn.send(&req, 8).await?;
        Ok(tps
            .iter()
            .map(|tp| {
                let mut out = tp.clone();
                if let Some(r) = resp
                    .topics
                    .iter()
                    .filter(|t| t.name.0.as_str() == tp.topic)
                    .flat_map(|t| t.partitions.iter())
                    .find(|p| p.partition_index == tp.partition)
                {
                    out.err = ErrorCode::from_kafka(r.error_code);
                    if matches!(r.error_code, 14..=16) {
                        self.reset();
                    }
                }
                out
            })
            .collect())
    }
}
