//! [`GroupCoordinator`]: all groups of this broker, their committed offsets, and the timer.
//!
//! One `std::sync::Mutex` guards the map of groups: every state-machine step is short and
//! never awaits, and waiting requests hold a oneshot receiver, not the lock. The timer task
//! sleeps until the earliest deadline of any group (or until a request changes the deadlines)
//! and then calls [`GroupCoordinator::tick`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use super::classic_group::{ClassicGroup, GroupState, MemberDescription, Outcome, SyncParams};
use super::error::GroupError;
use super::member::{JoinParams, JoinResult, MemberId, SyncResult};
use super::offsets::{
    CommittedOffset, OffsetOp, OffsetStore, OffsetStoreError, OffsetStoreOptions, TopicPartition,
};

/// The directory under the broker's data dir that holds the offsets log.
pub const OFFSETS_DIR: &str = "__group_offsets";

const MAX_MS: u64 = i32::MAX as u64;

/// Group settings from `server.properties`.
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// `group.initial.rebalance.delay.ms` (3000).
    pub initial_rebalance_delay: Duration,
    /// `group.min.session.timeout.ms` (6000).
    pub min_session_timeout: Duration,
    /// `group.max.session.timeout.ms` (1800000).
    pub max_session_timeout: Duration,
    /// `offset.metadata.max.bytes` (4096).
    pub max_metadata_bytes: usize,
    /// `offsets.retention.minutes` (7 days): offsets of a group with no members are dropped
    /// once both their commit and the moment the group became empty are this old (KIP-211).
    pub offsets_retention: Duration,
    /// How often expired offsets are looked for.
    pub offsets_retention_check: Duration,
    pub store: OffsetStoreOptions,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            initial_rebalance_delay: Duration::from_millis(3000),
            min_session_timeout: Duration::from_millis(6000),
            max_session_timeout: Duration::from_millis(1_800_000),
            max_metadata_bytes: 4096,
            offsets_retention: Duration::from_secs(7 * 24 * 3600),
            offsets_retention_check: Duration::from_secs(60),
            store: OffsetStoreOptions::default(),
        }
    }
}

impl From<&crate::config::GroupConfig> for GroupConfig {
    fn from(c: &crate::config::GroupConfig) -> Self {
        GroupConfig {
            // Capped at i32::MAX ms (as Kafka's int settings): no deadline can overflow.
            initial_rebalance_delay: Duration::from_millis(
                c.initial_rebalance_delay_ms.min(MAX_MS),
            ),
            min_session_timeout: Duration::from_millis(c.min_session_timeout_ms.min(MAX_MS)),
            max_session_timeout: Duration::from_millis(c.max_session_timeout_ms.min(MAX_MS)),
            ..GroupConfig::default()
        }
    }
}

/// A group as DescribeGroups shows it.
#[derive(Debug, Clone)]
pub struct GroupDescription {
    pub group_id: String,
    pub state: GroupState,
    pub protocol_type: String,
    pub protocol_name: String,
    pub members: Vec<MemberDescription>,
}

/// A group as ListGroups shows it.
#[derive(Debug, Clone)]
pub struct GroupListing {
    pub group_id: String,
    pub protocol_type: String,
    pub state: GroupState,
}

/// When each member-less group was first seen empty (wall-clock ms), for offset retention.
#[derive(Debug)]
struct Retention {
    empty_since_ms: HashMap<String, i64>,
    next_check: Option<Instant>,
}

/// The partitions asked for by OffsetFetch, and their answers.
pub type FetchedOffsets = Vec<(TopicPartition, Option<CommittedOffset>)>;

/// The group coordinator of this broker (we are the coordinator of every group).
#[derive(Debug)]
pub struct GroupCoordinator {
    config: GroupConfig,
    groups: Mutex<HashMap<String, ClassicGroup>>,
    offsets: OffsetStore,
    wake: Notify,
    timers_started: AtomicBool,
    retention: Mutex<Retention>,
    me: Weak<GroupCoordinator>,
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The first rebalance of an empty group waits at least this long for more members, even with
/// `group.initial.rebalance.delay.ms=0`: consumers started together then land in one
/// generation, instead of the first ones learning of the rest only at their next heartbeat.
/// Kafka has a similar window by construction (completing a join is a log write).
pub const MIN_INITIAL_JOIN_WINDOW: Duration = Duration::from_millis(50);

fn join_window(config: &GroupConfig) -> Duration {
    config.initial_rebalance_delay.max(MIN_INITIAL_JOIN_WINDOW)
}

/// Non-empty and short enough for a non-flexible wire string (and the offsets log's str16).
fn valid_group_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= i16::MAX as usize
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl GroupCoordinator {
    /// Open the offsets log under `data_dir` and make every group with offsets known (Empty).
    ///
    /// # Errors
    /// The offsets log cannot be opened or repaired.
    pub fn open(data_dir: &Path, config: GroupConfig) -> Result<Arc<Self>, OffsetStoreError> {
        let offsets = OffsetStore::open(&data_dir.join(OFFSETS_DIR), config.store.clone())?;
        let groups = offsets
            .groups()
            .into_iter()
            .map(|g| (g.clone(), ClassicGroup::new(g, join_window(&config))))
            .collect();
        Ok(Arc::new_cyclic(|me| GroupCoordinator {
            config,
            groups: Mutex::new(groups),
            offsets,
            wake: Notify::new(),
            timers_started: AtomicBool::new(false),
            retention: Mutex::new(Retention {
                empty_since_ms: HashMap::new(),
                next_check: None,
            }),
            me: me.clone(),
        }))
    }

    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, ClassicGroup>> {
        self.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start (once) the task that expires sessions and ends rebalances on time; requests
    /// call this themselves, so the server need not. Needs a tokio runtime. The task ends when
    /// the coordinator is dropped.
    pub fn spawn_timers(&self) {
        if self.timers_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.me.clone();
        tokio::spawn(async move {
            loop {
                let Some(this) = me.upgrade() else { return };
                let now = now();
                // Bounded sleep: a missed wake-up costs at most a second of lateness.
                let cap = now + Duration::from_secs(1);
                let next = this.tick(now).unwrap_or(cap).min(cap);
                tokio::select! {
                    _ = tokio::time::sleep_until(next.into()) => {}
                    _ = this.wake.notified() => {}
                }
            }
        });
    }

    /// Forget a deleted topic's offsets without waiting (for the broker's synchronous
    /// topic-deletion hook). Outside a tokio runtime it waits for the write instead.
    pub fn forget_topic(&self, topic: &str) {
        self.apply_detached(vec![OffsetOp::DeleteTopic {
            topic: topic.to_owned(),
        }]);
    }

    /// Persist `ops` without waiting: queued now, else on the current runtime, or (outside
    /// one) right here.
    fn apply_detached(&self, ops: Vec<OffsetOp>) {
        // Queued at once when there is room, so a later commit cannot overtake the deletion.
        let Err(ops) = self.offsets.try_submit(ops) else {
            return;
        };
        let offsets = self.offsets.clone();
        let work = async move {
            if let Err(e) = offsets.apply(ops).await {
                tracing::error!(error = %e, "dropping committed offsets failed");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(work);
            }
            Err(_) => match tokio::runtime::Builder::new_current_thread().build() {
                Ok(rt) => rt.block_on(work),
                Err(e) => tracing::error!(error = %e, "no runtime to drop committed offsets"),
            },
        }
    }

    /// Apply every passed deadline in every group; return the earliest next deadline.
    pub fn tick(&self, now: Instant) -> Option<Instant> {
        let mut groups = self.lock();
        let next = groups.values_mut().filter_map(|g| g.tick(now)).min();
        groups.retain(|id, g| !g.is_idle() || self.offsets.has_group(id));
        let expired = self.expired_offsets(&groups, now, wall_clock_ms());
        drop(groups);
        if !expired.is_empty() {
            tracing::info!(
                partitions = expired.len(),
                "expiring committed offsets past retention"
            );
            self.apply_detached(expired);
        }
        next
    }

    /// Offsets past `offsets.retention.minutes` in groups without members (checked at most
    /// every `offsets_retention_check`).
    fn expired_offsets(
        &self,
        groups: &HashMap<String, ClassicGroup>,
        now: Instant,
        wall_ms: i64,
    ) -> Vec<OffsetOp> {
        let mut r = self.retention.lock().unwrap_or_else(|e| e.into_inner());
        if r.next_check.is_some_and(|t| now < t) {
            return Vec::new();
        }
        r.next_check = Some(now + self.config.offsets_retention_check);
        let retention_ms = self.config.offsets_retention.as_millis() as i64;
        let mut ops = Vec::new();
        r.empty_since_ms.retain(|id, _| {
            groups
                .get(id)
                .is_some_and(|g| g.member_ids().next().is_none())
        });
        for (id, g) in groups {
            if g.member_ids().next().is_some() || g.state() != GroupState::Empty {
                continue;
            }
            let since = *r.empty_since_ms.entry(id.clone()).or_insert(wall_ms);
            if since + retention_ms > wall_ms {
                continue;
            }
            for (tp, o) in self.offsets.group_offsets(id) {
                if o.commit_timestamp_ms + retention_ms <= wall_ms {
                    ops.push(OffsetOp::Delete {
                        group: id.clone(),
                        tp,
                    });
                }
            }
        }
        ops
    }

    /// Handle JoinGroup; waits (without holding any lock) until the rebalance completes.
    pub async fn join(&self, group_id: &str, params: JoinParams) -> JoinResult {
        let member_id = params.member_id.clone();
        if !valid_group_id(group_id) {
            return JoinResult::error(GroupError::InvalidGroupId, member_id);
        }
        let (min, max) = (
            self.config.min_session_timeout,
            self.config.max_session_timeout,
        );
        if params.session_timeout < min || params.session_timeout > max {
            return JoinResult::error(
                GroupError::InvalidSessionTimeout {
                    requested: params.session_timeout.as_millis() as i32,
                    min: min.as_millis() as i32,
                    max: max.as_millis() as i32,
                },
                member_id,
            );
        }
        self.spawn_timers();
        let outcome = {
            let mut groups = self.lock();
            if !groups.contains_key(group_id) && !member_id.is_unknown() {
                return JoinResult::error(GroupError::UnknownMemberId, member_id);
            }
            let delay = join_window(&self.config);
            let group = groups
                .entry(group_id.to_owned())
                .or_insert_with(|| ClassicGroup::new(group_id, delay));
            group.join(params, now())
        };
        self.wake.notify_one();
        match outcome {
            Outcome::Done(result) => result,
            Outcome::Wait(rx) => rx.await.unwrap_or_else(|_| {
                JoinResult::error(GroupError::CoordinatorNotAvailable, member_id)
            }),
        }
    }

    /// Handle SyncGroup; waits until the leader's assignment arrives.
    pub async fn sync(&self, group_id: &str, params: SyncParams) -> SyncResult {
        let outcome = {
            let mut groups = self.lock();
            match groups.get_mut(group_id) {
                None => Outcome::Done(SyncResult::error(GroupError::UnknownMemberId)),
                Some(group) => group.sync(params, now()),
            }
        };
        self.wake.notify_one();
        match outcome {
            Outcome::Done(result) => result,
            Outcome::Wait(rx) => rx
                .await
                .unwrap_or_else(|_| SyncResult::error(GroupError::CoordinatorNotAvailable)),
        }
    }

    /// Handle Heartbeat.
    ///
    /// # Errors
    /// The member is unknown, fenced, of another generation, or must rejoin.
    pub fn heartbeat(
        &self,
        group_id: &str,
        generation_id: i32,
        member_id: &MemberId,
        instance: Option<&str>,
    ) -> Result<(), GroupError> {
        let mut groups = self.lock();
        let group = groups
            .get_mut(group_id)
            .ok_or(GroupError::UnknownMemberId)?;
        group.heartbeat(generation_id, member_id, instance, now())
    }

    /// Handle LeaveGroup: one result per member, in request order.
    pub fn leave(
        &self,
        group_id: &str,
        members: &[(MemberId, Option<String>)],
    ) -> Vec<Result<(), GroupError>> {
        let results = {
            let mut groups = self.lock();
            match groups.get_mut(group_id) {
                None => members
                    .iter()
                    .map(|_| Err(GroupError::UnknownMemberId))
                    .collect(),
                Some(group) => {
                    let now = now();
                    members
                        .iter()
                        .map(|(id, inst)| group.leave(id, inst.as_deref(), now))
                        .collect()
                }
            }
        };
        self.wake.notify_one();
        results
    }

    /// Handle OffsetCommit: validate the member, then persist every acceptable partition.
    ///
    /// `partition_exists` tells whether a topic partition exists on this broker.
    ///
    /// # Errors
    /// The whole request is refused (unknown member, old generation, rebalance in progress);
    /// per-partition errors are in the returned list.
    pub async fn commit_offsets(
        &self,
        group_id: &str,
        generation_id: i32,
        member_id: &MemberId,
        instance: Option<&str>,
        offsets: Vec<(TopicPartition, i64, i32, Option<String>)>,
        partition_exists: impl Fn(&TopicPartition) -> bool,
    ) -> Result<Vec<(TopicPartition, Option<GroupError>)>, GroupError> {
        if !valid_group_id(group_id) {
            return Err(GroupError::InvalidGroupId);
        }
        self.spawn_timers();
        {
            let mut groups = self.lock();
            let exists = groups.contains_key(group_id);
            if !exists && generation_id >= 0 {
                return Err(GroupError::IllegalGeneration {
                    requested: generation_id,
                    current: -1,
                });
            }
            let delay = join_window(&self.config);
            let group = groups
                .entry(group_id.to_owned())
                .or_insert_with(|| ClassicGroup::new(group_id, delay));
            group.validate_commit(generation_id, member_id, instance, now())?;
        }
        let ts = wall_clock_ms();
        let mut results = Vec::with_capacity(offsets.len());
        let mut ops = Vec::new();
        for (tp, offset, leader_epoch, metadata) in offsets {
            let metadata = metadata.unwrap_or_default();
            let error = if metadata.len() > self.config.max_metadata_bytes {
                Some(GroupError::OffsetMetadataTooLarge {
                    len: metadata.len(),
                    max: self.config.max_metadata_bytes,
                })
            } else if !partition_exists(&tp) {
                Some(GroupError::UnknownTopicOrPartition)
            } else {
                let offset = CommittedOffset {
                    offset,
                    leader_epoch,
                    metadata,
                    commit_timestamp_ms: ts,
                };
                ops.push(OffsetOp::Commit {
                    group: group_id.to_owned(),
                    tp: tp.clone(),
                    offset,
                });
                None
            };
            results.push((tp, error));
        }
        if let Err(e) = self.offsets.apply(ops).await {
            tracing::error!(group = group_id, error = %e, "persisting offset commit failed");
            for (_, err) in results.iter_mut() {
                err.get_or_insert(GroupError::StoreUnavailable);
            }
        }
        // The timer may have dropped the (then offset-less, idle) group while we waited.
        let delay = join_window(&self.config);
        self.lock()
            .entry(group_id.to_owned())
            .or_insert_with(|| ClassicGroup::new(group_id, delay));
        Ok(results)
    }

    /// Checks a TxnOffsetCommit's member the way OffsetCommit checks one (KIP-447); a
    /// producer outside any group (generation -1, no member id) passes.
    ///
    /// # Errors
    /// Unknown member, old generation, rebalance in progress, invalid group id.
    pub fn validate_txn_commit(
        &self,
        group_id: &str,
        generation_id: i32,
        member_id: &MemberId,
        instance: Option<&str>,
    ) -> Result<(), GroupError> {
        if !valid_group_id(group_id) {
            return Err(GroupError::InvalidGroupId);
        }
        if generation_id < 0 && member_id.is_unknown() && instance.is_none() {
            return Ok(());
        }
        let mut groups = self.lock();
        match groups.get_mut(group_id) {
            Some(group) => group.validate_commit(generation_id, member_id, instance, now()),
            None => Err(GroupError::IllegalGeneration {
                requested: generation_id,
                current: -1,
            }),
        }
    }

    /// Stores the offsets of a committed transaction (group, partition, offset); returns once
    /// they are on disk. Groups not known yet appear (Empty), as after OffsetCommit.
    ///
    /// # Errors
    /// The store failed.
    pub async fn store_txn_offsets(
        &self,
        offsets: Vec<(String, TopicPartition, CommittedOffset)>,
    ) -> Result<(), OffsetStoreError> {
        let mut ids: Vec<String> = offsets.iter().map(|(g, _, _)| g.clone()).collect();
        ids.dedup();
        let ops = offsets
            .into_iter()
            .map(|(group, tp, offset)| OffsetOp::Commit { group, tp, offset })
            .collect();
        self.offsets.apply(ops).await?;
        let delay = join_window(&self.config);
        let mut groups = self.lock();
        for id in ids {
            groups
                .entry(id.clone())
                .or_insert_with(|| ClassicGroup::new(&id, delay));
        }
        Ok(())
    }

    /// Handle OffsetFetch for one group: `None` asks for every committed partition.
    /// Partitions never committed come back as `None` (the wire's offset -1).
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> FetchedOffsets {
        match partitions {
            None => self
                .offsets
                .group_offsets(group_id)
                .into_iter()
                .map(|(tp, o)| (tp, Some(o)))
                .collect(),
            Some(list) => list
                .iter()
                .map(|tp| (tp.clone(), self.offsets.get(group_id, tp)))
                .collect(),
        }
    }

    /// Handle OffsetDelete.
    ///
    /// # Errors
    /// `GroupIdNotFound` for an unknown group, or the store failed.
    pub async fn delete_offsets(
        &self,
        group_id: &str,
        partitions: Vec<TopicPartition>,
    ) -> Result<Vec<(TopicPartition, Option<GroupError>)>, GroupError> {
        let subscribed = {
            let groups = self.lock();
            let group = groups.get(group_id).ok_or(GroupError::GroupIdNotFound)?;
            if group.state() == GroupState::Dead {
                return Err(GroupError::GroupIdNotFound);
            }
            group.subscribed_topics()
        };
        let mut results = Vec::with_capacity(partitions.len());
        let mut ops = Vec::new();
        for tp in partitions {
            if subscribed.contains(&tp.topic) {
                results.push((tp, Some(GroupError::GroupSubscribedToTopic)));
            } else {
                ops.push(OffsetOp::Delete {
                    group: group_id.to_owned(),
                    tp: tp.clone(),
                });
                results.push((tp, None));
            }
        }
        self.offsets
            .apply(ops)
            .await
            .map_err(|_| GroupError::StoreUnavailable)?;
        Ok(results)
    }

    /// Handle DescribeGroups for one group; `None` for a group this broker does not know.
    pub fn describe(&self, group_id: &str) -> Option<GroupDescription> {
        let groups = self.lock();
        let g = groups.get(group_id)?;
        Some(GroupDescription {
            group_id: group_id.to_owned(),
            state: g.state(),
            protocol_type: g.protocol_type().unwrap_or_default().to_owned(),
            protocol_name: g.protocol_name().unwrap_or_default().to_owned(),
            members: g.describe_members(),
        })
    }

    /// Handle ListGroups; an empty `states` filter lists every group.
    pub fn list(&self, states: &[GroupState]) -> Vec<GroupListing> {
        let groups = self.lock();
        let mut list: Vec<GroupListing> = groups
            .values()
            .filter(|g| states.is_empty() || states.contains(&g.state()))
            .map(|g| GroupListing {
                group_id: g.id().to_owned(),
                protocol_type: g.protocol_type().unwrap_or_default().to_owned(),
                state: g.state(),
            })
            .collect();
        list.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        list
    }

    /// Handle DeleteGroups for one group: only an empty group can go; its offsets go with it.
    ///
    /// # Errors
    /// `GroupIdNotFound`, `NonEmptyGroup`, or the store failed.
    pub async fn delete_group(&self, group_id: &str) -> Result<(), GroupError> {
        {
            let mut groups = self.lock();
            let group = groups
                .get_mut(group_id)
                .ok_or(GroupError::GroupIdNotFound)?;
            match group.state() {
                GroupState::Empty if group.member_ids().next().is_none() => {}
                GroupState::Dead => return Err(GroupError::GroupIdNotFound),
                _ => return Err(GroupError::NonEmptyGroup),
            }
            group.mark_dead();
            groups.remove(group_id);
        }
        self.offsets
            .apply(vec![OffsetOp::DeleteGroup {
                group: group_id.to_owned(),
            }])
            .await
            .map_err(|_| GroupError::StoreUnavailable)
    }

    /// Forget the committed offsets of a deleted topic, in every group. The broker calls this
    /// when it deletes a topic.
    ///
    /// # Errors
    /// The store failed to persist the deletion.
    pub async fn on_topic_deleted(&self, topic: &str) -> Result<(), OffsetStoreError> {
        self.offsets
            .apply(vec![OffsetOp::DeleteTopic {
                topic: topic.to_owned(),
            }])
            .await
    }
}

#[cfg(test)]
#[path = "coordinator_tests.rs"]
mod tests;
