//! `kafkars groups list|describe|reset-offsets`, and [`GroupMember`], the minimal classic-
//! protocol member `kafkars consume --group` uses (one topic, range assignment, positions
//! committed when the member stops or the group rebalances).

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition as AssignedTopic;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, DescribeGroupsRequest,
    HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, ListGroupsRequest, OffsetCommitRequest,
    OffsetFetchRequest, SyncGroupRequest, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafkars::cluster::Cluster;
use kafkars::net::Connection;
use kafkars::ErrorCode;

use crate::connect::{self, coordinator, group_id, kerr, ConnectArgs};

const SESSION_TIMEOUT_MS: i32 = 10_000;
const REBALANCE_TIMEOUT_MS: i32 = 30_000;
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3);

#[derive(Args, Debug)]
pub struct GroupsArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: GroupsCommand,
}

#[derive(Subcommand, Debug)]
enum GroupsCommand {
    /// List consumer groups with their state.
    List,
    /// Members, committed offsets and lag per partition of a group.
    Describe {
        /// Group id.
        group: String,
    },
    /// Set a group's committed offsets (the group must have no active members).
    ResetOffsets {
        /// Group id.
        group: String,
        /// Topic whose offsets to reset.
        #[arg(long, short = 't')]
        topic: String,
        /// Only this partition [default: all].
        #[arg(long, short = 'p')]
        partition: Option<i32>,
        /// To the oldest retained message.
        #[arg(long, group = "to")]
        to_earliest: bool,
        /// To the end of the partition.
        #[arg(long, group = "to")]
        to_latest: bool,
        /// To this offset.
        #[arg(long, group = "to")]
        to_offset: Option<i64>,
    },
}

/// Runs a `groups` subcommand.
pub fn run(args: GroupsArgs) -> ExitCode {
    connect::default_sigpipe();
    connect::exit(dispatch(args))
}

fn dispatch(args: GroupsArgs) -> Result<()> {
    let cluster = args.connect.cluster()?;
    match args.command {
        GroupsCommand::List => connect::block_on(async move { list(&cluster).await }),
        GroupsCommand::Describe { group } => {
            let admin = kafkars::Admin::new(&args.connect.config()?).map_err(kerr)?;
            let t = args.connect.timeout();
            let (state, members, committed) =
                connect::block_on(async move { describe(&cluster, &group).await })?;
            println!("State: {state}\tMembers: {}", members.len());
            for (id, client, host, assigned) in &members {
                println!("Member: {id}\tClient: {client}\tHost: {host}\tAssigned: {assigned}");
            }
            println!(
                "{:<30} {:>9} {:>15} {:>15} {:>10}",
                "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"
            );
            for ((topic, p), off) in &committed {
                let (_, hi) = admin
                    .client()
                    .query_watermark_offsets(topic, *p, t)
                    .map_err(kerr)?;
                let (cur, lag) = if *off >= 0 {
                    (off.to_string(), (hi - off).max(0).to_string())
                } else {
                    ("-".into(), "-".into())
                };
                println!("{topic:<30} {p:>9} {cur:>15} {hi:>15} {lag:>10}");
            }
            Ok(())
        }
        GroupsCommand::ResetOffsets {
            group,
            topic,
            partition,
            to_earliest,
            to_latest,
            to_offset,
        } => {
            let admin = kafkars::Admin::new(&args.connect.config()?).map_err(kerr)?;
            let tm = crate::topics::existing_topic(&admin, &topic, args.connect.timeout())?;
            let parts: Vec<i32> = match partition {
                Some(p) => vec![p],
                None => tm.partitions.iter().map(|p| p.id).collect(),
            };
            let target = match (to_earliest, to_latest, to_offset) {
                (true, _, _) => -2,
                (_, true, _) => -1,
                (_, _, Some(o)) if o >= 0 => o,
                (_, _, Some(o)) => bail!("invalid --to-offset {o}"),
                _ => bail!("say where to: --to-earliest, --to-latest or --to-offset N"),
            };
            connect::block_on(async move {
                let wanted: Vec<(i32, i64)> = parts.iter().map(|p| (*p, target)).collect();
                let positions = crate::consume::resolve(&cluster, &topic, &wanted).await?;
                let mut m = GroupMember::new(cluster.clone(), &group, &topic);
                m.commit(&positions.iter().copied().collect()).await?;
                for (p, o) in positions {
                    println!("{group}\t{topic}\t{p}\t{o}");
                }
                Ok(())
            })
        }
    }
}

async fn list(cluster: &Cluster) -> Result<()> {
    let (conn, _) = cluster.any_connection().await.map_err(kerr)?;
    let resp = conn
        .send(&ListGroupsRequest::default(), 4)
        .await
        .map_err(kerr)?;
    connect::broker_error(resp.error_code)?;
    let mut groups: Vec<(String, String)> = resp
        .groups
        .iter()
        .map(|g| (g.group_id.0.to_string(), g.group_state.to_string()))
        .collect();
    groups.sort();
    for (g, state) in groups {
        if state.is_empty() {
            println!("{g}");
        } else {
            println!("{g}\t{state}");
        }
    }
    Ok(())
}

type MemberRow = (String, String, String, String);
type Committed = Vec<((String, i32), i64)>;

async fn describe(cluster: &Cluster, group: &str) -> Result<(String, Vec<MemberRow>, Committed)> {
    let conn = coordinator(cluster, group).await?;
    let mut req = DescribeGroupsRequest::default();
    req.groups = vec![group_id(group)];
    let resp = conn.send(&req, 5).await.map_err(kerr)?;
    let g = resp
        .groups
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("empty DescribeGroups answer"))?;
    connect::broker_error(g.error_code)?;
    if g.group_state.as_str() == "Dead" {
        bail!("unknown group {group:?}");
    }
    let members = g
        .members
        .iter()
        .map(|m| {
            let assigned = ConsumerProtocolAssignment::decode(&mut m.member_assignment.clone(), 0)
                .map(|a| {
                    a.assigned_partitions
                        .iter()
                        .flat_map(|t| {
                            t.partitions
                                .iter()
                                .map(move |p| format!("{}-{p}", t.topic.0))
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            (
                m.member_id.to_string(),
                m.client_id.to_string(),
                m.client_host.to_string(),
                assigned,
            )
        })
        .collect();
    let mut of = OffsetFetchRequest::default();
    of.group_id = group_id(group);
    of.topics = None;
    let resp = conn.send(&of, 7).await.map_err(kerr)?;
    connect::broker_error(resp.error_code)?;
    let mut committed: Committed = resp
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(move |p| {
                (
                    (t.name.0.to_string(), p.partition_index),
                    p.committed_offset,
                )
            })
        })
        .collect();
    committed.sort();
    Ok((g.group_state.to_string(), members, committed))
}

/// A one-topic member of a classic consumer group.
pub struct GroupMember {
    cluster: Arc<Cluster>,
    group: String,
    topic: String,
    member_id: String,
    generation: i32,
    conn: Option<Arc<Connection>>,
}

impl GroupMember {
    /// A member that has not joined yet.
    pub fn new(cluster: Arc<Cluster>, group: &str, topic: &str) -> GroupMember {
        GroupMember {
            cluster,
            group: group.to_string(),
            topic: topic.to_string(),
            member_id: String::new(),
            generation: -1,
            conn: None,
        }
    }

    async fn conn(&mut self) -> Result<Arc<Connection>> {
        if let Some(c) = self.conn.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let c = coordinator(&self.cluster, &self.group).await?;
        self.conn = Some(c.clone());
        Ok(c)
    }

    /// Joins (or rejoins) the group and returns this member's partitions.
    ///
    /// # Errors
    /// Broker errors other than the retriable join ones, after a bounded number of tries.
    pub async fn join(&mut self) -> Result<Vec<i32>> {
        for _ in 0..20 {
            match self.try_join().await {
                Ok(Some(parts)) => return Ok(parts),
                Ok(None) => continue,
                Err(e) => return Err(e),
            }
        }
        bail!("could not join group {:?}: too many rebalances", self.group)
    }

    async fn try_join(&mut self) -> Result<Option<Vec<i32>>> {
        let conn = self.conn().await?;
        let mut sub = ConsumerProtocolSubscription::default();
        sub.topics = vec![StrBytes::from_string(self.topic.clone())];
        let mut meta = bytes::BytesMut::new();
        sub.encode(&mut meta, 0)
            .map_err(|e| anyhow!("encode subscription: {e}"))?;
        let mut proto = JoinGroupRequestProtocol::default();
        proto.name = StrBytes::from_static_str("range");
        proto.metadata = meta.freeze();
        let mut req = JoinGroupRequest::default();
        req.group_id = group_id(&self.group);
        req.session_timeout_ms = SESSION_TIMEOUT_MS;
        req.rebalance_timeout_ms = REBALANCE_TIMEOUT_MS;
        req.member_id = StrBytes::from_string(self.member_id.clone());
        req.protocol_type = StrBytes::from_static_str("consumer");
        req.protocols = vec![proto];
        let v = conn.version::<JoinGroupRequest>(7).map_err(kerr)?;
        let timeout = Duration::from_millis(REBALANCE_TIMEOUT_MS as u64 + 5000);
        let resp = conn.send_versioned(&req, v, timeout).await.map_err(kerr)?;
        let code = ErrorCode::from_kafka(resp.error_code);
        if code == ErrorCode::MEMBER_ID_REQUIRED {
            self.member_id = resp.member_id.to_string();
            return Ok(None);
        }
        if code == ErrorCode::UNKNOWN_MEMBER_ID {
            self.member_id.clear();
            return Ok(None);
        }
        if code == ErrorCode::REBALANCE_IN_PROGRESS {
            return Ok(None);
        }
        connect::broker_error(resp.error_code).context("joining the group")?;
        self.member_id = resp.member_id.to_string();
        self.generation = resp.generation_id;
        let assignments = if resp.leader == resp.member_id {
            self.assign(
                &resp
                    .members
                    .iter()
                    .map(|m| m.member_id.to_string())
                    .collect::<Vec<_>>(),
            )
            .await?
        } else {
            Vec::new()
        };
        let mut sync = SyncGroupRequest::default();
        sync.group_id = group_id(&self.group);
        sync.generation_id = self.generation;
        sync.member_id = resp.member_id.clone();
        sync.protocol_type = Some(StrBytes::from_static_str("consumer"));
        sync.protocol_name = Some(StrBytes::from_static_str("range"));
        sync.assignments = assignments;
        let v = conn.version::<SyncGroupRequest>(5).map_err(kerr)?;
        let sresp = conn.send_versioned(&sync, v, timeout).await.map_err(kerr)?;
        let code = ErrorCode::from_kafka(sresp.error_code);
        if code == ErrorCode::REBALANCE_IN_PROGRESS || code == ErrorCode::ILLEGAL_GENERATION {
            return Ok(None);
        }
        if code == ErrorCode::UNKNOWN_MEMBER_ID {
            self.member_id.clear();
            return Ok(None);
        }
        connect::broker_error(sresp.error_code).context("syncing the group")?;
        if sresp.assignment.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let a = ConsumerProtocolAssignment::decode(&mut sresp.assignment.clone(), 0)
            .map_err(|e| anyhow!("bad assignment from the coordinator: {e}"))?;
        let mut parts: Vec<i32> = a
            .assigned_partitions
            .iter()
            .filter(|t| t.topic.0.as_str() == self.topic)
            .flat_map(|t| t.partitions.iter().copied())
            .collect();
        parts.sort_unstable();
        Ok(Some(parts))
    }

    /// The leader's range assignment of the topic's partitions over `members`.
    async fn assign(&self, members: &[String]) -> Result<Vec<SyncGroupRequestAssignment>> {
        let md = self
            .cluster
            .fetch_metadata(Some(std::slice::from_ref(&self.topic)), false)
            .await
            .map_err(kerr)?;
        let n = md
            .topics
            .iter()
            .find(|t| t.name == self.topic)
            .map_or(0, |t| t.partitions.len()) as i32;
        let mut sorted = members.to_vec();
        sorted.sort();
        let mut out = Vec::new();
        for (i, m) in sorted.iter().enumerate() {
            let parts = range_share(n, sorted.len() as i32, i as i32);
            let mut at = AssignedTopic::default();
            at.topic = TopicName(StrBytes::from_string(self.topic.clone()));
            at.partitions = parts;
            let mut a = ConsumerProtocolAssignment::default();
            a.assigned_partitions = vec![at];
            let mut buf = bytes::BytesMut::new();
            a.encode(&mut buf, 0)
                .map_err(|e| anyhow!("encode assignment: {e}"))?;
            let mut sa = SyncGroupRequestAssignment::default();
            sa.member_id = StrBytes::from_string(m.clone());
            sa.assignment = buf.freeze();
            out.push(sa);
        }
        Ok(out)
    }

    /// Committed offsets of `partitions` (-1 when none).
    ///
    /// # Errors
    /// Connection and broker errors.
    pub async fn committed(&mut self, partitions: &[i32]) -> Result<HashMap<i32, i64>> {
        if partitions.is_empty() {
            return Ok(HashMap::new());
        }
        let conn = self.conn().await?;
        let mut t = OffsetFetchRequestTopic::default();
        t.name = TopicName(StrBytes::from_string(self.topic.clone()));
        t.partition_indexes = partitions.to_vec();
        let mut req = OffsetFetchRequest::default();
        req.group_id = group_id(&self.group);
        req.topics = Some(vec![t]);
        let resp = conn.send(&req, 7).await.map_err(kerr)?;
        connect::broker_error(resp.error_code)?;
        Ok(resp
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter())
            .map(|p| (p.partition_index, p.committed_offset))
            .collect())
    }

    /// Commits positions (next offsets to read) as this member, or as an admin when the
    /// member never joined.
    ///
    /// # Errors
    /// Connection and broker errors (e.g. the group has active members).
    pub async fn commit(&mut self, positions: &HashMap<i32, i64>) -> Result<()> {
        if positions.is_empty() {
            return Ok(());
        }
        let conn = self.conn().await?;
        let mut t = OffsetCommitRequestTopic::default();
        t.name = TopicName(StrBytes::from_string(self.topic.clone()));
        let mut ps: Vec<(i32, i64)> = positions.iter().map(|(p, o)| (*p, *o)).collect();
        ps.sort_unstable();
        t.partitions = ps
            .into_iter()
            .map(|(p, o)| {
                let mut cp = OffsetCommitRequestPartition::default();
                cp.partition_index = p;
                cp.committed_offset = o;
                cp.committed_leader_epoch = -1;
                cp
            })
            .collect();
        let mut req = OffsetCommitRequest::default();
        req.group_id = group_id(&self.group);
        req.generation_id_or_member_epoch = self.generation;
        req.member_id = StrBytes::from_string(self.member_id.clone());
        req.retention_time_ms = -1;
        req.topics = vec![t];
        let resp = conn.send(&req, 8).await.map_err(kerr)?;
        for p in resp.topics.iter().flat_map(|t| t.partitions.iter()) {
            connect::broker_error(p.error_code).with_context(|| {
                format!("committing offsets of {}-{}", self.topic, p.partition_index)
            })?;
        }
        Ok(())
    }

    /// Heartbeats until the coordinator asks for a rebalance (returns `Ok`).
    ///
    /// # Errors
    /// Connection failures and fatal group errors.
    pub async fn heartbeat_until_rebalance(&mut self) -> Result<()> {
        loop {
            tokio::time::sleep(HEARTBEAT_INTERVAL).await;
            let conn = self.conn().await?;
            let mut req = HeartbeatRequest::default();
            req.group_id = group_id(&self.group);
            req.generation_id = self.generation;
            req.member_id = StrBytes::from_string(self.member_id.clone());
            let resp = conn.send(&req, 4).await.map_err(kerr)?;
            match ErrorCode::from_kafka(resp.error_code) {
                ErrorCode::NO_ERROR => {}
                ErrorCode::REBALANCE_IN_PROGRESS | ErrorCode::ILLEGAL_GENERATION => return Ok(()),
                ErrorCode::UNKNOWN_MEMBER_ID => {
                    self.member_id.clear();
                    return Ok(());
                }
                _ => connect::broker_error(resp.error_code).context("heartbeat")?,
            }
        }
    }

    /// Leaves the group (best effort: the session would expire anyway).
    pub async fn leave(&mut self) {
        if self.member_id.is_empty() {
            return;
        }
        let Ok(conn) = self.conn().await else { return };
        let Ok(v) = conn.version::<LeaveGroupRequest>(5) else {
            return;
        };
        let mut req = LeaveGroupRequest::default();
        req.group_id = group_id(&self.group);
        if v >= 3 {
            let mut mi = MemberIdentity::default();
            mi.member_id = StrBytes::from_string(self.member_id.clone());
            req.members = vec![mi];
        } else {
            req.member_id = StrBytes::from_string(self.member_id.clone());
        }
        let _ = conn
            .send_versioned(&req, v, self.cluster.request_timeout())
            .await;
    }
}

/// Kafka's range assignor for one topic: member `i` of `m` gets a contiguous run, the first
/// `n % m` members one partition more.
fn range_share(n: i32, m: i32, i: i32) -> Vec<i32> {
    if m <= 0 {
        return Vec::new();
    }
    let per = n / m;
    let extra = n % m;
    let start = i * per + i.min(extra);
    let len = per + i32::from(i < extra);
    (start..start + len).collect()
}

#[cfg(test)]
mod tests {
    use super::range_share;

    #[test]
    fn range_assignment_matches_kafka() {
        assert_eq!(range_share(5, 2, 0), vec![0, 1, 2]);
        assert_eq!(range_share(5, 2, 1), vec![3, 4]);
        assert_eq!(range_share(1, 3, 2), Vec::<i32>::new());
        assert_eq!(range_share(4, 0, 0), Vec::<i32>::new());
    }
}
