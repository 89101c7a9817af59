//! Classic group membership: JoinGroup (with MEMBER_ID_REQUIRED), SyncGroup (the leader
//! runs the assignor), heartbeats, rebalances (eager and cooperative), auto-commit,
//! LeaveGroup on close. One task per consumer on the background runtime.

use super::assignor::{
    decode_assignment, decode_subscription, encode_assignment, encode_subscription, Assignor,
    Member,
};
use super::kafka_consumer::{Core, Tp};
use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::Event;
use crate::log::{level, Ctx};
use crate::topic_partition::{TopicPartition, OFFSET_INVALID};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    GroupId, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest,
};
use kafka_protocol::protocol::StrBytes;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Membership state, shared with the consumer's API.
#[derive(Debug)]
pub(crate) struct GroupState {
    /// What the application subscribed to: names, and patterns starting with `^`.
    pub subscription: Vec<String>,
    /// The compiled patterns of the subscription.
    pub patterns: Vec<regex::Regex>,
    /// Topic names the subscription stands for now (patterns matched against metadata);
    /// this is what JoinGroup carries.
    pub resolved: Vec<String>,
    /// librdkafka's `cgrp.join_state` and since when.
    pub join_state: &'static str,
    pub join_state_since: Instant,
    pub rebalance_cnt: u64,
    pub last_rebalance: Option<Instant>,
    pub rebalance_reason: String,
    /// Set when the member left the group because the application did not poll within
    /// `max.poll.interval.ms`; cleared (and the group rejoined) at the next poll.
    pub max_poll_left: Option<u64>,
    /// Partitions owned when the member left for `max.poll.interval.ms`: revoked (as
    /// lost) when the application polls again, before rejoining.
    lost: Vec<Tp>,
    max_poll_interval: Duration,
    regex_refresh: Option<Duration>,
    pub member_id: String,
    pub generation: i32,
    /// Partitions the group protocol gave us.
    pub owned: Vec<Tp>,
    pub protocol: Option<Assignor>,
    pub rejoin: bool,
    pub closing: bool,
    pub closed: bool,
    assignors: Vec<Assignor>,
    session_timeout_ms: i32,
    rebalance_timeout_ms: i32,
    heartbeat: Duration,
    auto_commit_interval: Duration,
    pub(crate) instance_id: Option<String>,
    /// Leader only: partition counts the last assignment used.
    leader_view: Option<BTreeMap<String, i32>>,
}

impl GroupState {
    pub(crate) fn new(conf: &Config) -> GroupState {
        let mut assignors: Vec<Assignor> = conf
            .get("partition.assignment.strategy")
            .unwrap_or_default()
            .split(',')
            .filter_map(Assignor::from_name)
            .collect();
        if assignors.is_empty() {
            assignors = vec![Assignor::Range, Assignor::RoundRobin];
        }
        let refresh = conf.get_i64("topic.metadata.refresh.interval.ms");
        GroupState {
            subscription: Vec::new(),
            patterns: Vec::new(),
            resolved: Vec::new(),
            join_state: "init",
            join_state_since: Instant::now(),
            rebalance_cnt: 0,
            last_rebalance: None,
            rebalance_reason: String::new(),
            max_poll_left: None,
            lost: Vec::new(),
            max_poll_interval: Duration::from_millis(
                conf.get_i64("max.poll.interval.ms").max(1) as u64
            ),
            regex_refresh: (refresh > 0).then(|| Duration::from_millis(refresh as u64)),
            member_id: String::new(),
            generation: -1,
            owned: Vec::new(),
            protocol: None,
            rejoin: false,
            closing: false,
            closed: false,
            assignors,
            session_timeout_ms: conf.get_i64("session.timeout.ms") as i32,
            rebalance_timeout_ms: conf.get_i64("max.poll.interval.ms") as i32,
            heartbeat: Duration::from_millis(conf.get_i64("heartbeat.interval.ms").max(1) as u64),
            auto_commit_interval: Duration::from_millis(
                conf.get_i64("auto.commit.interval.ms").max(0) as u64,
            ),
            instance_id: conf.get_str("group.instance.id"),
            leader_view: None,
        }
    }

    fn cooperative(&self) -> bool {
        self.protocol.is_some_and(Assignor::is_cooperative)
    }

    /// Whether the group runs an incremental (cooperative) protocol.
    pub(crate) fn is_cooperative(&self) -> bool {
        self.cooperative()
    }

    fn set_join_state(&mut self, s: &'static str) {
        if self.join_state != s {
            self.join_state = s;
            self.join_state_since = Instant::now();
        }
    }

    /// The `cgrp` part of the statistics.
    pub(crate) fn stats(&self, assignment_size: usize) -> crate::stats::CgrpStats {
        let up = self.generation >= 0;
        crate::stats::CgrpStats {
            state: if up { "up" } else { "query-coord" },
            stateage_ms: self.join_state_since.elapsed().as_millis() as u64,
            join_state: self.join_state,
            rebalance_age_ms: self
                .last_rebalance
                .map_or(0, |t| t.elapsed().as_millis() as u64),
            rebalance_cnt: self.rebalance_cnt,
            rebalance_reason: self.rebalance_reason.clone(),
            assignment_size,
        }
    }
}

/// Compiles the patterns (names starting with `^`) of a subscription.
///
/// # Errors
/// `_INVALID_ARG` naming the pattern that does not compile.
pub(crate) fn compile_patterns(topics: &[String]) -> Result<Vec<regex::Regex>> {
    topics
        .iter()
        .filter(|t| t.starts_with('^'))
        .map(|t| {
            regex::Regex::new(t).map_err(|e| {
                KafkaError::with_message(
                    ErrorCode::INVALID_ARG,
                    format!("Invalid regex subscription \"{t}\": {e}"),
                )
            })
        })
        .collect()
}

fn lock(core: &Core) -> std::sync::MutexGuard<'_, GroupState> {
    core.group.lock().unwrap_or_else(|e| e.into_inner())
}

fn tps(v: &[Tp]) -> Vec<TopicPartition> {
    v.iter()
        .map(|(t, p)| TopicPartition::new(t.clone(), *p, OFFSET_INVALID))
        .collect()
}

pub(crate) async fn run(core: Arc<Core>) {
    let mut last_commit = Instant::now();
    let mut joined = false;
    let mut next_hb = Instant::now();
    let mut next_md_check = Instant::now();
    let stats_interval = match core.client.conf.get_i64("statistics.interval.ms") {
        n if n > 0 => Some(Duration::from_millis(n as u64)),
        _ => None,
    };
    let mut last_stats = Instant::now();
    let mut missing: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut next_regex_check = Instant::now();
    let mut poll_watch = PollWatch::new(&core);
    loop {
        if let Some(iv) = stats_interval {
            if last_stats.elapsed() >= iv {
                last_stats = Instant::now();
                emit_stats(&core);
            }
        }
        if Arc::strong_count(&core) <= 1 {
            return;
        }
        let (closing, subscription, rejoin, hb, ac_interval) = {
            let g = lock(&core);
            (
                g.closing,
                g.subscription.clone(),
                g.rejoin,
                g.heartbeat,
                g.auto_commit_interval,
            )
        };
        if core.auto_commit && !ac_interval.is_zero() && last_commit.elapsed() >= ac_interval {
            last_commit = Instant::now();
            let _ = core.commit(None, true).await;
        }
        if closing {
            if core.auto_commit {
                let _ = core.commit(None, true).await;
            }
            revoke_all(&core, false).await;
            leave(&core).await;
            {
                let mut g = lock(&core);
                g.closed = true;
            }
            core.events.wake();
            return;
        }
        let max_poll_left = lock(&core).max_poll_left;
        if let Some(left) = max_poll_left {
            let polled = core.polls.load(Ordering::Relaxed) != left;
            // The application must have taken the _MAX_POLL_EXCEEDED error first: the
            // revoke follows it, as in librdkafka's queue.
            let error_pending = core
                .error_messages
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|m| m.err == ErrorCode::MAX_POLL_EXCEEDED);
            if polled && !error_pending {
                core.max_poll_left.store(false, Ordering::Relaxed);
                poll_watch = PollWatch::new(&core);
                {
                    let mut g = lock(&core);
                    g.max_poll_left = None;
                    g.owned = std::mem::take(&mut g.lost);
                }
                core.client.cluster.log.log(
                    level::INFO,
                    "MAXPOLL",
                    "main",
                    format_args!(
                        "Application polled again after max.poll.interval.ms was exceeded: rejoining group \"{}\"",
                        core.coordinator.group_id
                    ),
                );
                revoke_all(&core, true).await;
            } else {
                let _ =
                    tokio::time::timeout(Duration::from_millis(500), core.wake.notified()).await;
                continue;
            }
        }
        if subscription.is_empty() {
            if joined {
                revoke_all(&core, false).await;
                leave(&core).await;
                joined = false;
            }
            lock(&core).rejoin = false;
            let nap = stats_interval.map_or(Duration::from_millis(500), |iv| {
                iv.min(Duration::from_millis(500))
            });
            let _ = tokio::time::timeout(nap, core.wake.notified()).await;
            continue;
        }
        if !joined || rejoin {
            let eager = !lock(&core).cooperative();
            if joined && eager {
                if core.auto_commit {
                    let _ = core.commit(None, true).await;
                }
                revoke_all(&core, false).await;
            }
            {
                let mut g = lock(&core);
                g.rejoin = false;
                g.set_join_state("wait-join");
            }
            resolve_subscription(&core).await;
            next_regex_check = Instant::now() + regex_refresh(&core);
            check_subscription(&core, &mut missing).await;
            core.client.cluster.log.debug(
                Ctx::Cgrp,
                "JOIN",
                "main",
                format_args!(
                    "Joining group \"{}\" with {} subscribed topic(s)",
                    core.coordinator.group_id,
                    lock(&core).resolved.len()
                ),
            );
            let joined_or_closing = tokio::select! {
                r = join_and_sync(&core) => Some(r),
                _ = until_closing(&core) => None,
            };
            let Some(join_result) = joined_or_closing else {
                continue;
            };
            match join_result {
                Ok(assignment) => {
                    joined = true;
                    lock(&core).set_join_state("steady");
                    apply_new_assignment(&core, assignment).await;
                    next_hb = Instant::now() + hb;
                }
                Err(e) => {
                    joined = false;
                    lock(&core).set_join_state("init");
                    core.client.cluster.log.debug(
                        Ctx::Cgrp,
                        "JOINGROUP",
                        "main",
                        format_args!(
                            "Group \"{}\": join failed: {}",
                            core.coordinator.group_id, e
                        ),
                    );
                    if !matches!(e.code.0, 14..=16 | 22 | 25 | 27 | 79) {
                        core.events.push_error(e.code, e.message.clone());
                        core.fetcher.interrupt();
                    }
                    if matches!(e.code.0, 14..=16 | -195 | -185) {
                        core.coordinator.reset();
                    }
                    let _ = tokio::time::timeout(Duration::from_millis(300), core.wake.notified())
                        .await;
                }
            }
            continue;
        }
        let now = Instant::now();
        if max_poll_exceeded(&core, &mut poll_watch).await {
            joined = false;
            continue;
        }
        if now >= next_regex_check && !lock(&core).patterns.is_empty() {
            next_regex_check = now + regex_refresh(&core);
            if resolve_subscription(&core).await {
                lock(&core).rebalance_reason = "subscribed topics changed".into();
                lock(&core).rejoin = true;
                continue;
            }
        }
        if now >= next_hb {
            next_hb = now + hb;
            if let Err(e) = heartbeat(&core).await {
                match e.code.0 {
                    27 => lock(&core).rejoin = true,
                    25 | 22 | 82 => {
                        revoke_all(&core, true).await;
                        let mut g = lock(&core);
                        if e.code.0 == 25 {
                            g.member_id.clear();
                        }
                        g.generation = -1;
                        joined = false;
                    }
                    14..=16 | -195 | -185 => {
                        core.coordinator.reset();
                        next_hb = now + Duration::from_millis(300);
                    }
                    _ => {}
                }
                continue;
            }
        }
        if now >= next_md_check {
            next_md_check = now + Duration::from_secs(3);
            check_leader_metadata(&core).await;
            check_subscription(&core, &mut missing).await;
        }
        let until = next_hb
            .min(next_md_check)
            .min(if lock(&core).patterns.is_empty() {
                next_md_check
            } else {
                next_regex_check
            })
            .min(stats_interval.map_or(next_md_check, |iv| last_stats + iv))
            .min(last_commit + ac_interval.max(Duration::from_millis(100)));
        let _ = tokio::time::timeout(
            until.saturating_duration_since(Instant::now()),
            core.wake.notified(),
        )
        .await;
    }
}

/// Resolves once `close()` was called (lets a long JoinGroup be abandoned).
async fn until_closing(core: &Arc<Core>) {
    while !lock(core).closing {
        let _ = tokio::time::timeout(Duration::from_millis(50), core.wake.notified()).await;
    }
}

/// Reports each subscribed topic that does not exist once, as librdkafka does, through a
/// consumer error message (`UNKNOWN_TOPIC_OR_PART`, "Subscribed topic not available").
async fn check_subscription(core: &Arc<Core>, missing: &mut std::collections::HashSet<String>) {
    let subscription: Vec<String> = lock(core)
        .subscription
        .iter()
        .filter(|t| !t.starts_with('^'))
        .cloned()
        .collect();
    if subscription.is_empty() {
        return;
    }
    let Ok(md) = core
        .client
        .cluster
        .fetch_metadata(Some(&subscription), false)
        .await
    else {
        return;
    };
    for t in &md.topics {
        if t.err == ErrorCode::UNKNOWN_TOPIC_OR_PART {
            if missing.insert(t.name.clone()) {
                let text = format!(
                    "Subscribed topic not available: {}: {}",
                    t.name,
                    t.err.description()
                );
                let m = super::message::Message::error(
                    Arc::from(t.name.as_str()),
                    -1,
                    -1001,
                    t.err,
                    text,
                );
                core.error_messages
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_back(m);
                core.fetcher.interrupt();
            }
        } else if t.err.is_ok() {
            missing.remove(&t.name);
        }
    }
}

/// The leader notices new topics/partitions and triggers a rebalance.
async fn check_leader_metadata(core: &Arc<Core>) {
    let view = lock(core).leader_view.clone();
    let Some(view) = view else { return };
    let topics: Vec<String> = {
        let g = lock(core);
        let mut t: Vec<String> = view.keys().cloned().collect();
        t.extend(g.resolved.iter().cloned());
        t.sort();
        t.dedup();
        t
    };
    if let Ok(md) = core
        .client
        .cluster
        .fetch_metadata(Some(&topics), false)
        .await
    {
        let now: BTreeMap<String, i32> = md
            .topics
            .iter()
            .filter(|t| t.err.is_ok() && !t.partitions.is_empty())
            .map(|t| (t.name.clone(), t.partitions.len() as i32))
            .collect();
        if now != view {
            lock(core).rejoin = true;
        }
    }
}

/// Waits until the application called assign/unassign after a rebalance event.
async fn wait_ack(core: &Arc<Core>, before: u64) {
    let limit = {
        let g = lock(core);
        if g.closing {
            Duration::from_secs(10)
        } else {
            Duration::from_millis(g.rebalance_timeout_ms.max(1000) as u64)
        }
    };
    let deadline = Instant::now() + limit;
    while core.assign_calls.load(Ordering::SeqCst) == before && Instant::now() < deadline {
        let notified = core.assign_notify.notified();
        if core.assign_calls.load(Ordering::SeqCst) != before {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        if Arc::strong_count(core) <= 1 {
            return;
        }
    }
}

async fn rebalance(core: &Arc<Core>, kind: ErrorCode, parts: Vec<Tp>, cooperative: bool) {
    {
        let mut g = lock(core);
        g.rebalance_cnt += 1;
        g.last_rebalance = Some(Instant::now());
        if g.rebalance_reason.is_empty() {
            g.rebalance_reason = "group rebalanced".into();
        }
    }
    core.client.cluster.log.debug(
        Ctx::Cgrp,
        "CGRPOP",
        "main",
        format_args!(
            "Group \"{}\": delegating {} of {} partition(s) to application",
            core.coordinator.group_id,
            if kind == ErrorCode::ASSIGN_PARTITIONS {
                "assign"
            } else {
                "revoke"
            },
            parts.len()
        ),
    );
    if core.rebalance_cb.load(Ordering::SeqCst) {
        let before = core.assign_calls.load(Ordering::SeqCst);
        core.events.push(Event::Rebalance {
            kind,
            partitions: tps(&parts),
        });
        core.fetcher.interrupt();
        if kind == ErrorCode::REVOKE_PARTITIONS {
            wait_ack(core, before).await;
        }
        return;
    }
    let r = match (kind == ErrorCode::ASSIGN_PARTITIONS, cooperative) {
        (true, false) => core.apply_assign(tps(&parts), Vec::new(), true).await,
        (true, true) => core.apply_assign(tps(&parts), Vec::new(), false).await,
        (false, false) => core.apply_assign(Vec::new(), Vec::new(), true).await,
        (false, true) => core.apply_assign(Vec::new(), parts, false).await,
    };
    if let Err(e) = r {
        core.events.push_error(e.code, e.message);
    }
}

async fn revoke_all(core: &Arc<Core>, _lost: bool) {
    let (owned, coop) = {
        let mut g = lock(core);
        (std::mem::take(&mut g.owned), g.cooperative())
    };
    if owned.is_empty() && coop {
        return;
    }
    if owned.is_empty() && core.assignment.lock().map(|a| a.is_empty()).unwrap_or(true) {
        return;
    }
    rebalance(core, ErrorCode::REVOKE_PARTITIONS, owned, coop).await;
}

async fn apply_new_assignment(core: &Arc<Core>, new: Vec<Tp>) {
    let (old, coop) = {
        let g = lock(core);
        (g.owned.clone(), g.cooperative())
    };
    if !coop {
        lock(core).owned = new.clone();
        rebalance(core, ErrorCode::ASSIGN_PARTITIONS, new, false).await;
        return;
    }
    let revoked: Vec<Tp> = old.iter().filter(|tp| !new.contains(tp)).cloned().collect();
    let added: Vec<Tp> = new.iter().filter(|tp| !old.contains(tp)).cloned().collect();
    lock(core).owned = new;
    if !revoked.is_empty() {
        rebalance(core, ErrorCode::REVOKE_PARTITIONS, revoked, true).await;
        lock(core).rejoin = true;
    }
    if !added.is_empty() || old.is_empty() {
        rebalance(core, ErrorCode::ASSIGN_PARTITIONS, added, true).await;
    }
}

async fn join_and_sync(core: &Arc<Core>) -> Result<Vec<Tp>> {
    let cluster = &core.client.cluster;
    let conn = core.coordinator.connection(cluster).await?;
    let group_id = GroupId(StrBytes::from_string(core.coordinator.group_id.clone()));
    let resp = loop {
        let (req, timeout) = {
            let g = lock(core);
            let mut req = JoinGroupRequest::default();
            req.group_id = group_id.clone();
            req.session_timeout_ms = g.session_timeout_ms;
            req.rebalance_timeout_ms = g.rebalance_timeout_ms;
            req.member_id = StrBytes::from_string(g.member_id.clone());
            req.group_instance_id = g.instance_id.clone().map(StrBytes::from_string);
            req.protocol_type = StrBytes::from_static_str("consumer");
            req.protocols = g
                .assignors
                .iter()
                .map(|a| {
                    let mut p = JoinGroupRequestProtocol::default();
                    p.name = StrBytes::from_static_str(a.name());
                    let owned: &[Tp] = if a.is_cooperative() { &g.owned } else { &[] };
                    p.metadata = encode_subscription(&g.resolved, owned);
                    p
                })
                .collect();
            (
                req,
                Duration::from_millis(g.rebalance_timeout_ms.max(0) as u64)
                    + Duration::from_secs(5),
            )
        };
        let v = conn.version::<JoinGroupRequest>(7)?;
        let resp = conn.send_versioned(&req, v, timeout).await?;
        match resp.error_code {
            0 => break resp,
            79 => lock(core).member_id = resp.member_id.to_string(),
            25 => {
                lock(core).member_id.clear();
                return Err(KafkaError::new(ErrorCode::UNKNOWN_MEMBER_ID));
            }
            c => return Err(KafkaError::new(ErrorCode::from_kafka(c))),
        }
    };
    let protocol = resp
        .protocol_name
        .as_ref()
        .and_then(|p| Assignor::from_name(p.as_str()));
    let member_id = resp.member_id.to_string();
    {
        let mut g = lock(core);
        g.member_id = member_id.clone();
        g.generation = resp.generation_id;
        g.protocol = protocol;
        g.leader_view = None;
    }
    let mut assignments = Vec::new();
    if resp.leader.as_str() == member_id {
        let assignor = protocol.unwrap_or(Assignor::Range);
        let members: Vec<Member> = resp
            .members
            .iter()
            .filter_map(|m| decode_subscription(m.member_id.as_str(), m.metadata.clone()))
            .collect();
        let mut topics: Vec<String> = members
            .iter()
            .flat_map(|m| m.topics.iter().cloned())
            .collect();
        topics.sort();
        topics.dedup();
        let md = cluster.fetch_metadata(Some(&topics), false).await?;
        let partitions: BTreeMap<String, i32> = md
            .topics
            .iter()
            .filter(|t| t.err.is_ok() && !t.partitions.is_empty())
            .map(|t| (t.name.clone(), t.partitions.len() as i32))
            .collect();
        let result = assignor.assign(&members, &partitions);
        lock(core).leader_view = Some(partitions);
        for (id, parts) in result {
            let mut a = SyncGroupRequestAssignment::default();
            a.member_id = StrBytes::from_string(id);
            a.assignment = encode_assignment(&parts);
            assignments.push(a);
        }
    }
    let mut req = SyncGroupRequest::default();
    req.group_id = group_id;
    req.generation_id = resp.generation_id;
    req.member_id = StrBytes::from_string(member_id);
    req.group_instance_id = lock(core).instance_id.clone().map(StrBytes::from_string);
    req.assignments = assignments;
    let v = conn.version::<SyncGroupRequest>(5)?;
    if v >= 5 {
        req.protocol_type = Some(StrBytes::from_static_str("consumer"));
        req.protocol_name = resp.protocol_name.clone();
    }
    let timeout = Duration::from_millis(lock(core).rebalance_timeout_ms.max(0) as u64)
        + Duration::from_secs(5);
    let sresp = conn.send_versioned(&req, v, timeout).await?;
    if sresp.error_code != 0 {
        if sresp.error_code == 25 {
            lock(core).member_id.clear();
        }
        return Err(KafkaError::new(ErrorCode::from_kafka(sresp.error_code)));
    }
    decode_assignment(sresp.assignment)
        .ok_or_else(|| KafkaError::with_message(ErrorCode::BAD_MSG, "Malformed assignment"))
}

async fn heartbeat(core: &Arc<Core>) -> Result<()> {
    let conn = core.coordinator.connection(&core.client.cluster).await?;
    let mut req = HeartbeatRequest::default();
    {
        let g = lock(core);
        req.group_id = GroupId(StrBytes::from_string(core.coordinator.group_id.clone()));
        req.generation_id = g.generation;
        req.member_id = StrBytes::from_string(g.member_id.clone());
        req.group_instance_id = g.instance_id.clone().map(StrBytes::from_string);
    }
    let resp = conn.send(&req, 4).await?;
    if resp.error_code != 0 {
        return Err(KafkaError::new(ErrorCode::from_kafka(resp.error_code)));
    }
    Ok(())
}

async fn leave(core: &Arc<Core>) {
    let (member, instance) = {
        let g = lock(core);
        (g.member_id.clone(), g.instance_id.clone())
    };
    if member.is_empty() {
        return;
    }
    if let Ok(conn) = core.coordinator.connection(&core.client.cluster).await {
        let Ok(v) = conn.version::<LeaveGroupRequest>(4) else {
            return;
        };
        let mut req = LeaveGroupRequest::default();
        req.group_id = GroupId(StrBytes::from_string(core.coordinator.group_id.clone()));
        if v < 3 {
            req.member_id = StrBytes::from_string(member);
        } else {
            let mut mi = MemberIdentity::default();
            mi.member_id = StrBytes::from_string(member);
            mi.group_instance_id = instance.map(StrBytes::from_string);
            req.members = vec![mi];
        }
        let timeout = core.client.cluster.request_timeout();
        let _ = conn.send_versioned(&req, v, timeout).await;
    }
    let mut g = lock(core);
    g.member_id.clear();
    g.generation = -1;
    g.owned.clear();
}

/// How long the application has not polled, as the group task sees it: the poll
/// counter has not moved and no `consume()` is in progress.
struct PollWatch {
    seen: u64,
    since: Instant,
}

impl PollWatch {
    fn new(core: &Core) -> PollWatch {
        PollWatch {
            seen: core.polls.load(Ordering::Relaxed),
            since: Instant::now(),
        }
    }

    fn idle(&mut self, core: &Core) -> Duration {
        let n = core.polls.load(Ordering::Relaxed);
        if n != self.seen || core.in_poll.load(Ordering::Relaxed) > 0 {
            self.seen = n;
            self.since = Instant::now();
        }
        self.since.elapsed()
    }
}

fn regex_refresh(core: &Arc<Core>) -> Duration {
    lock(core).regex_refresh.unwrap_or(Duration::from_secs(300))
}

/// Resolves the subscription to topic names: literal names as given, patterns matched
/// against the cluster's topics (internal `__` topics excluded, as librdkafka does).
/// Returns whether the resolved set changed. A metadata failure keeps the old set.
async fn resolve_subscription(core: &Arc<Core>) -> bool {
    let (subscription, patterns, before) = {
        let g = lock(core);
        (
            g.subscription.clone(),
            g.patterns.clone(),
            g.resolved.clone(),
        )
    };
    let mut out: Vec<String> = subscription
        .iter()
        .filter(|t| !t.starts_with('^'))
        .cloned()
        .collect();
    if !patterns.is_empty() {
        match core.client.cluster.fetch_metadata(None, false).await {
            Ok(md) => out.extend(
                md.topics
                    .iter()
                    .filter(|t| t.err.is_ok() && !t.name.starts_with("__"))
                    .filter(|t| patterns.iter().any(|r| r.is_match(&t.name)))
                    .map(|t| t.name.clone()),
            ),
            Err(_) => return false,
        }
    }
    out.sort();
    out.dedup();
    if out == before {
        return false;
    }
    core.client.cluster.log.debug(
        Ctx::Cgrp,
        "SUBSCRIPTION",
        "main",
        format_args!(
            "Group \"{}\": subscription resolves to {} topic(s): {}",
            core.coordinator.group_id,
            out.len(),
            out.join(", ")
        ),
    );
    lock(core).resolved = out;
    true
}

/// librdkafka's `max.poll.interval.ms`: a member whose application has not polled
/// within it leaves the group (partitions lost), and the next `consume()` returns
/// `_MAX_POLL_EXCEEDED`; polling again rejoins. Returns whether the member left.
async fn max_poll_exceeded(core: &Arc<Core>, watch: &mut PollWatch) -> bool {
    let (limit, owned_any) = {
        let g = lock(core);
        (g.max_poll_interval, g.generation >= 0)
    };
    let idle = watch.idle(core);
    if !owned_any || idle <= limit {
        return false;
    }
    let by = (idle - limit).as_millis();
    let text = format!(
        "Application maximum poll interval ({}ms) exceeded by {by}ms",
        limit.as_millis()
    );
    core.client.cluster.log.log(
        level::WARNING,
        "MAXPOLL",
        "main",
        format_args!(
            "{text} (adjust max.poll.interval.ms for long-running message processing): leaving group"
        ),
    );
    let m =
        super::message::Message::error(Arc::from(""), 0, -1001, ErrorCode::MAX_POLL_EXCEEDED, text);
    core.error_messages
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push_back(m);
    // As librdkafka: the partitions are lost now (nothing more is handed out from them),
    // and the application learns it from a revoke when it polls again and the member
    // rejoins.
    {
        let mut g = lock(core);
        g.rebalance_reason = "max.poll.interval.ms exceeded".into();
        g.lost = std::mem::take(&mut g.owned);
    }
    let assigned: Vec<Tp> = core
        .assignment
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .keys()
        .cloned()
        .collect();
    for (t, p) in &assigned {
        core.fetcher.stop_partition(t, *p);
    }
    leave(core).await;
    {
        let mut g = lock(core);
        g.max_poll_left = Some(core.polls.load(Ordering::Relaxed));
        core.max_poll_left.store(true, Ordering::Relaxed);
        g.set_join_state("init");
    }
    core.fetcher.interrupt();
    true
}

/// Queues the consumer's statistics: prefetch queues, per-partition offsets and lag,
/// brokers, and the group part.
fn emit_stats(core: &Arc<Core>) {
    let mut partitions = core.fetcher.partition_stats();
    {
        let committed = core.committed.lock().unwrap_or_else(|e| e.into_inner());
        let stored = core.stored.lock().unwrap_or_else(|e| e.into_inner());
        for p in &mut partitions {
            let k = (p.topic.clone(), p.partition);
            if let Some(o) = committed.get(&k) {
                p.committed_offset = *o;
            }
            if let Some(o) = stored.get(&k) {
                p.stored_offset = *o;
            }
        }
    }
    let assignment_size = core.assignment.lock().map(|a| a.len()).unwrap_or_default();
    let (n, bytes) = core.fetcher.queued();
    let snap = crate::stats::Snapshot {
        replyq: core.events.len(),
        msg_cnt: n,
        msg_size: bytes,
        msg_max: 0,
        msg_size_max: core.fetcher.queued_max_bytes(),
        partitions,
        cgrp: Some(lock(core).stats(assignment_size)),
    };
    let cluster = &core.client.cluster;
    let json = cluster.instance.json(
        &cluster.known_brokers(),
        cluster.metadata_cache_cnt(),
        &core.fetcher.counters,
        &snap,
    );
    core.events.push(Event::Stats(json));
    core.fetcher.interrupt();
}
