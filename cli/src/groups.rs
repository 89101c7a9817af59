//! `kafkars groups list|describe|reset-offsets`: ListGroups, DescribeGroups and
//! OffsetFetch at the group's coordinator, lag from the partitions' high watermarks, and an
//! admin OffsetCommit (generation -1, no member) for resets, which Kafka accepts only while
//! the group has no active members.

use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, DescribeGroupsRequest, ListGroupsRequest, OffsetCommitRequest,
    OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use kafkars::cluster::Cluster;

use crate::connect::{self, coordinator, group_id, kerr, ConnectArgs};

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
            let t = args.connect.timeout();
            let mut positions = Vec::with_capacity(parts.len());
            for p in parts {
                let (lo, hi) = admin
                    .client()
                    .query_watermark_offsets(&topic, p, t)
                    .map_err(kerr)?;
                let o = match target {
                    -2 => lo,
                    -1 => hi,
                    o => o.clamp(lo, hi),
                };
                positions.push((p, o));
            }
            let (g, tp, ps) = (group.clone(), topic.clone(), positions.clone());
            connect::block_on(async move { commit_offsets(&cluster, &g, &tp, &ps).await })?;
            for (p, o) in positions {
                println!("{group}\t{topic}\t{p}\t{o}");
            }
            Ok(())
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

/// Commits `positions` (partition → next offset) for `group` as an admin.
///
/// # Errors
/// Connection and broker errors (e.g. the group has active members).
async fn commit_offsets(
    cluster: &Cluster,
    group: &str,
    topic: &str,
    positions: &[(i32, i64)],
) -> Result<()> {
    let conn = coordinator(cluster, group).await?;
    let mut t = OffsetCommitRequestTopic::default();
    t.name = TopicName(StrBytes::from_string(topic.to_string()));
    t.partitions = positions
        .iter()
        .map(|&(p, o)| {
            let mut cp = OffsetCommitRequestPartition::default();
            cp.partition_index = p;
            cp.committed_offset = o;
            cp.committed_leader_epoch = -1;
            cp
        })
        .collect();
    let mut req = OffsetCommitRequest::default();
    req.group_id = group_id(group);
    req.generation_id_or_member_epoch = -1;
    req.retention_time_ms = -1;
    req.topics = vec![t];
    let resp = conn.send(&req, 8).await.map_err(kerr)?;
    for p in resp.topics.iter().flat_map(|t| t.partitions.iter()) {
        connect::broker_error(p.error_code)
            .with_context(|| format!("committing offsets of {topic}-{}", p.partition_index))?;
    }
    Ok(())
}
