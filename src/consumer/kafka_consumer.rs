//! The high-level consumer (php's `RdKafka\KafkaConsumer`): subscribe/assign, consume,
//! offsets store and commit, rebalance events.
//!
//! Rebalances: the group task ([`super::group`]) decides, and hands the decision to the
//! application as an [`Event::Rebalance`] when a rebalance callback is registered (the
//! callback then calls [`KafkaConsumer::assign`] or the incremental variants, and the task
//! waits for that). Without a callback the task applies the assignment itself, as librdkafka
//! does.

use super::fetcher::Fetcher;
use super::group::{self, GroupState};
use super::message::Message;
use super::offsets::{CommitIdentity, Coordinator};
use crate::client::Client;
use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::{Event, EventQueue};
use crate::topic_partition::{
    TopicPartition, OFFSET_BEGINNING, OFFSET_END, OFFSET_INVALID, OFFSET_STORED, OFFSET_TAIL_BASE,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) type Tp = (String, i32);

/// State shared by the caller's thread and the group task.
pub(crate) struct Core {
    pub client: Client,
    pub fetcher: Arc<Fetcher>,
    pub events: Arc<EventQueue>,
    pub coordinator: Coordinator,
    pub group: Mutex<GroupState>,
    pub wake: tokio::sync::Notify,
    /// Application-level assignment (what `assign()` set), sorted as librdkafka keeps it,
    /// with the start offset each partition was assigned at (`INVALID` given as `STORED`).
    pub assignment: Mutex<BTreeMap<Tp, i64>>,
    /// Offsets to commit (next offset to consume), with metadata.
    pub stored: Mutex<BTreeMap<Tp, i64>>,
    /// Last committed offset per partition (to skip unchanged auto-commits).
    pub committed: Mutex<BTreeMap<Tp, i64>>,
    pub rebalance_cb: AtomicBool,
    pub commit_cb: AtomicBool,
    /// Bumped by every assign/unassign call (the group task waits on it).
    pub assign_calls: AtomicU64,
    pub assign_notify: tokio::sync::Notify,
    pub auto_commit: bool,
    pub auto_store: bool,
    pub closed: AtomicBool,
    pub close_started: AtomicBool,
    /// Consumer errors returned by `consume()` as messages (subscribed topic missing).
    pub error_messages: Mutex<std::collections::VecDeque<Message>>,
    /// Application polls (`consume()` calls) so far, and how many are in progress: the
    /// group task watches them for `max.poll.interval.ms` (no clock read per message).
    pub polls: AtomicU64,
    pub in_poll: AtomicUsize,
    /// The member left the group for `max.poll.interval.ms` (mirrors the group state, so
    /// a poll checks it without a lock).
    pub max_poll_left: AtomicBool,
}

impl Core {
    pub(crate) fn identity(&self) -> CommitIdentity {
        let g = self.group.lock().unwrap_or_else(|e| e.into_inner());
        if g.generation >= 0 {
            CommitIdentity {
                generation: g.generation,
                member_id: g.member_id.clone(),
            }
        } else {
            CommitIdentity {
                generation: -1,
                member_id: String::new(),
            }
        }
    }

    /// Replaces or changes the assignment and starts/stops fetching. Offsets that are
    /// INVALID or STORED start from the committed offset, else `auto.offset.reset`.
    ///
    /// # Errors
    /// librdkafka's checks of the input (see [`check_assign`]): a replacing assign first
    /// empties the assignment, as `rd_kafka_assign()` does; coordinator errors.
    pub(crate) async fn apply_assign(
        self: &Arc<Self>,
        mut add: Vec<TopicPartition>,
        remove: Vec<Tp>,
        replace: bool,
    ) -> Result<()> {
        let checked = {
            let a = self.assignment.lock().unwrap_or_else(|e| e.into_inner());
            check_assign(&mut add, &remove, (!replace).then_some(&*a))
        };
        if let Err(e) = checked {
            if replace {
                let old =
                    std::mem::take(&mut *self.assignment.lock().unwrap_or_else(|e| e.into_inner()));
                for (t, p) in old.keys() {
                    self.fetcher.stop_partition(t, *p);
                }
                self.stored
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear();
                self.assign_calls.fetch_add(1, Ordering::SeqCst);
                self.assign_notify.notify_waiters();
            }
            return Err(e);
        }
        let needs_committed: Vec<TopicPartition> = add
            .iter()
            .filter(|tp| tp.offset == OFFSET_INVALID || tp.offset == OFFSET_STORED)
            .cloned()
            .collect();
        let committed = if needs_committed.is_empty() {
            Vec::new()
        } else {
            self.coordinator
                .fetch(&self.client.cluster, &needs_committed, true)
                .await?
        };
        let reset = self.fetcher_reset();
        {
            let mut c = self.committed.lock().unwrap_or_else(|e| e.into_inner());
            for tp in committed.iter().filter(|tp| tp.offset >= 0) {
                c.insert((tp.topic.clone(), tp.partition), tp.offset);
            }
        }
        let mut a = self.assignment.lock().unwrap_or_else(|e| e.into_inner());
        if replace {
            for (t, p) in std::mem::take(&mut *a).into_keys() {
                self.fetcher.stop_partition(&t, p);
            }
        }
        for (t, p) in &remove {
            a.remove(&(t.clone(), *p));
            self.fetcher.stop_partition(t, *p);
            self.stored
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&(t.clone(), *p));
        }
        for tp in add {
            let mut off = tp.offset;
            if off == OFFSET_INVALID || off == OFFSET_STORED {
                off = committed
                    .iter()
                    .find(|c| c.topic == tp.topic && c.partition == tp.partition)
                    .map(|c| c.offset)
                    .filter(|o| *o >= 0)
                    .unwrap_or(reset);
            }
            a.insert((tp.topic.clone(), tp.partition), tp.offset);
            self.fetcher.start_partition(&tp.topic, tp.partition, off);
        }
        if replace {
            self.stored
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|k, _| a.contains_key(k));
        }
        drop(a);
        self.assign_calls.fetch_add(1, Ordering::SeqCst);
        self.assign_notify.notify_waiters();
        Ok(())
    }

    fn fetcher_reset(&self) -> i64 {
        match self.client.conf.get("auto.offset.reset").as_deref() {
            Some("smallest") => crate::topic_partition::OFFSET_BEGINNING,
            _ => crate::topic_partition::OFFSET_END,
        }
    }

    /// Commits `tps` (or the stored offsets of the assignment), emitting an offset-commit
    /// event when the application listens.
    pub(crate) async fn commit(
        self: &Arc<Self>,
        tps: Option<Vec<TopicPartition>>,
        only_changed: bool,
    ) -> Result<Vec<TopicPartition>> {
        self.commit_waiting(tps, only_changed, None).await
    }

    /// [`Core::commit`] that, with `wait_coord`, waits that long for an unreachable cluster or
    /// coordinator (asking again every 100 ms) before failing with `_WAIT_COORD`, as
    /// librdkafka's `rd_kafka_commit()` does (for `session.timeout.ms`).
    pub(crate) async fn commit_waiting(
        self: &Arc<Self>,
        tps: Option<Vec<TopicPartition>>,
        only_changed: bool,
        wait_coord: Option<Duration>,
    ) -> Result<Vec<TopicPartition>> {
        let tps = match tps {
            Some(v) => v,
            None => {
                let stored = self
                    .stored
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let committed = self
                    .committed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                // Only absolute offsets are committed: a stored logical one (`offsetStore`
                // of -2) leaves nothing to commit (`_NO_OFFSET`), as in librdkafka.
                stored
                    .into_iter()
                    .filter(|(_, v)| *v >= 0)
                    .filter(|(k, v)| !only_changed || committed.get(k) != Some(v))
                    .map(|((t, p), o)| TopicPartition::new(t, p, o))
                    .collect()
            }
        };
        if tps.is_empty() {
            if !only_changed {
                self.commit_event(ErrorCode::NO_OFFSET, Vec::new());
                return Err(KafkaError::new(ErrorCode::NO_OFFSET));
            }
            return Ok(Vec::new());
        }
        let deadline = wait_coord.map(|d| tokio::time::Instant::now() + d);
        let r = loop {
            let id = self.identity();
            let r = self
                .coordinator
                .commit(&self.client.cluster, &id, &tps)
                .await;
            match (&r, deadline) {
                (Err(e), Some(deadline)) if waits_for_coordinator(e.code) => {
                    let next = tokio::time::Instant::now() + Duration::from_millis(100);
                    if next >= deadline {
                        break Err(KafkaError::new(ErrorCode::WAIT_COORD));
                    }
                    self.coordinator.reset();
                    tokio::time::sleep_until(next).await;
                }
                _ => break r,
            }
        };
        match r {
            Ok(res) => {
                let mut c = self.committed.lock().unwrap_or_else(|e| e.into_inner());
                for tp in res.iter().filter(|tp| tp.err.is_ok()) {
                    c.insert((tp.topic.clone(), tp.partition), tp.offset);
                }
                drop(c);
                let err = res
                    .iter()
                    .map(|tp| tp.err)
                    .find(|e| !e.is_ok())
                    .unwrap_or(ErrorCode::NO_ERROR);
                self.commit_event(err, res.clone());
                if err.is_ok() {
                    Ok(res)
                } else {
                    Err(KafkaError::new(err))
                }
            }
            Err(e) => {
                self.commit_event(e.code, tps);
                Err(e)
            }
        }
    }

    fn commit_event(&self, err: ErrorCode, partitions: Vec<TopicPartition>) {
        if self.commit_cb.load(Ordering::SeqCst) {
            self.events.push(Event::OffsetCommit { err, partitions });
            self.fetcher.interrupt();
        }
    }
}

/// A high-level, group-managed consumer.
pub struct KafkaConsumer {
    core: Arc<Core>,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer").finish_non_exhaustive()
    }
}

/// librdkafka's checks of an (incremental) assign or unassign, before anything changes:
/// start offsets must be absolute, BEGINNING, END, STORED, INVALID or a tail offset;
/// no partition twice; for an incremental assign (`current` given) none already assigned;
/// for an unassign, every partition assigned. Sorts `add` and turns `INVALID` into `STORED`.
///
/// # Errors
/// `_INVALID_ARG` or `_CONFLICT`, with librdkafka's text.
fn check_assign(
    add: &mut [TopicPartition],
    remove: &[Tp],
    current: Option<&BTreeMap<Tp, i64>>,
) -> Result<()> {
    if let Some(current) = current {
        if !remove.is_empty() && current.is_empty() {
            return Err(KafkaError::with_message(
                ErrorCode::INVALID_ARG,
                "Can't subtract from empty assignment",
            ));
        }
        if let Some((t, p)) = remove.iter().find(|k| !current.contains_key(*k)) {
            return Err(KafkaError::with_message(
                ErrorCode::INVALID_ARG,
                format!("{t} [{p}] can't be unassigned since it is not in the current assignment"),
            ));
        }
    }
    add.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    for i in 0..add.len() {
        let tp = &add[i];
        let (t, p, off) = (&tp.topic, tp.partition, tp.offset);
        let valid = off >= 0
            || matches!(
                off,
                OFFSET_BEGINNING | OFFSET_END | OFFSET_STORED | OFFSET_INVALID
            )
            || off <= OFFSET_TAIL_BASE;
        if !valid {
            return Err(KafkaError::with_message(
                ErrorCode::INVALID_ARG,
                format!("{t} [{p}] has invalid start offset {off}"),
            ));
        }
        if i > 0 && add[i - 1].topic == *t && add[i - 1].partition == p {
            return Err(KafkaError::with_message(
                ErrorCode::INVALID_ARG,
                format!("Duplicate {t} [{p}] in input list"),
            ));
        }
        if current.is_some_and(|c| c.contains_key(&(t.clone(), p))) {
            return Err(KafkaError::with_message(
                ErrorCode::CONFLICT,
                format!("{t} [{p}] is already part of the current assignment"),
            ));
        }
    }
    for tp in add.iter_mut().filter(|tp| tp.offset == OFFSET_INVALID) {
        tp.offset = OFFSET_STORED;
    }
    Ok(())
}

/// Failures to reach a coordinator at all, which librdkafka's group handler waits out
/// (the caller's timeout decides) rather than reports.
fn waits_for_coordinator(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::TRANSPORT
            | ErrorCode::ALL_BROKERS_DOWN
            | ErrorCode::RESOLVE
            | ErrorCode::TIMED_OUT
            | ErrorCode::WAIT_COORD
            | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
            | ErrorCode::COORDINATOR_NOT_AVAILABLE
            | ErrorCode::NOT_COORDINATOR
    )
}

fn tp_key(tp: &TopicPartition) -> Tp {
    (tp.topic.clone(), tp.partition)
}

impl KafkaConsumer {
    /// Creates the consumer; `group.id` is required.
    ///
    /// # Errors
    /// `_INVALID_ARG` with `"group.id" must be configured`, or when the runtime cannot
    /// start.
    pub fn new(conf: Config) -> Result<KafkaConsumer> {
        let Some(group_id) = conf.get_str("group.id") else {
            return Err(KafkaError::with_message(
                ErrorCode::INVALID_ARG,
                "\"group.id\" must be configured",
            ));
        };
        let client = Client::new_consumer(&conf)?;
        let events = Arc::new(EventQueue::new(10_000));
        client.cluster.log.attach(&events);
        let fetcher = Fetcher::start(client.clone(), events.clone());
        let core = Arc::new(Core {
            fetcher,
            events,
            coordinator: Coordinator::new(&group_id),
            group: Mutex::new(GroupState::new(&conf)),
            wake: tokio::sync::Notify::new(),
            assignment: Mutex::new(BTreeMap::new()),
            stored: Mutex::new(BTreeMap::new()),
            committed: Mutex::new(BTreeMap::new()),
            rebalance_cb: AtomicBool::new(false),
            commit_cb: AtomicBool::new(false),
            assign_calls: AtomicU64::new(0),
            assign_notify: tokio::sync::Notify::new(),
            auto_commit: conf.get_bool("enable.auto.commit"),
            auto_store: conf.get_bool("enable.auto.offset.store"),
            closed: AtomicBool::new(false),
            close_started: AtomicBool::new(false),
            error_messages: Mutex::new(std::collections::VecDeque::new()),
            polls: AtomicU64::new(0),
            in_poll: AtomicUsize::new(0),
            max_poll_left: AtomicBool::new(false),
            client,
        });
        core.client.handle.spawn(group::run(core.clone()));
        Ok(KafkaConsumer { core })
    }

    /// The role-independent queries.
    pub fn client(&self) -> &Client {
        &self.core.client
    }

    /// The group identity for a transactional producer's `send_offsets_to_transaction`
    /// (`rd_kafka_consumer_group_metadata`).
    pub fn group_metadata(&self) -> crate::ConsumerGroupMetadata {
        let id = self.core.identity();
        let g = self.core.group.lock().unwrap_or_else(|e| e.into_inner());
        crate::ConsumerGroupMetadata {
            group_id: self.core.coordinator.group_id.clone(),
            generation_id: id.generation,
            member_id: id.member_id,
            group_instance_id: g.instance_id.clone(),
        }
    }

    /// Rebalances are handed to the application as events (a rebalance callback exists).
    pub fn set_rebalance_callback(&self, on: bool) {
        self.core.rebalance_cb.store(on, Ordering::SeqCst);
    }

    /// Commit results are queued as events (an offset-commit callback exists).
    pub fn set_offset_commit_callback(&self, on: bool) {
        self.core.commit_cb.store(on, Ordering::SeqCst);
    }

    fn check(&self) -> Result<()> {
        self.core.client.guard.check()?;
        if self.core.closed.load(Ordering::SeqCst) {
            return Err(KafkaError::with_message(
                ErrorCode::STATE,
                "Consumer is closed",
            ));
        }
        Ok(())
    }

    /// Subscribes to topics (replacing the subscription); a rebalance follows. Names
    /// starting with `^` are regular expressions matched against the cluster's topics,
    /// re-evaluated every `topic.metadata.refresh.interval.ms`.
    ///
    /// # Errors
    /// `_INVALID_ARG` for an empty list or a pattern that does not compile, `_STATE`
    /// after close.
    pub fn subscribe(&self, topics: &[String]) -> Result<()> {
        self.check()?;
        if topics.is_empty() || topics.iter().any(String::is_empty) {
            return Err(KafkaError::with_message(
                ErrorCode::INVALID_ARG,
                "Invalid topic list",
            ));
        }
        let patterns = group::compile_patterns(topics)?;
        let mut g = self.core.group.lock().unwrap_or_else(|e| e.into_inner());
        let mut t = topics.to_vec();
        t.sort();
        t.dedup();
        g.subscription = t;
        g.patterns = patterns;
        g.rebalance_reason = "subscription updated".into();
        g.rejoin = true;
        drop(g);
        self.core.wake.notify_one();
        Ok(())
    }

    /// The current subscription.
    pub fn subscription(&self) -> Vec<String> {
        self.core
            .group
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .subscription
            .clone()
    }

    /// Leaves the subscription (and the group's assignment).
    ///
    /// # Errors
    /// `_STATE` after close.
    pub fn unsubscribe(&self) -> Result<()> {
        self.check()?;
        let mut g = self.core.group.lock().unwrap_or_else(|e| e.into_inner());
        g.subscription.clear();
        g.rejoin = true;
        drop(g);
        self.core.wake.notify_one();
        Ok(())
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        self.core
            .client
            .block_on(self.core.client.cluster.request_timeout(), f)
    }

    /// Hands one event to `serve`; a rebalance the application did not act on (no
    /// assign/unassign call while serving it) gets librdkafka's default action.
    fn serve_event<E>(
        &self,
        ev: Event,
        serve: &mut impl FnMut(Event) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let rebalance = match &ev {
            Event::Rebalance { kind, partitions } => Some((*kind, partitions.clone())),
            _ => None,
        };
        let before = self.core.assign_calls.load(Ordering::SeqCst);
        serve(ev)?;
        if let Some((kind, parts)) = rebalance {
            if self.core.assign_calls.load(Ordering::SeqCst) == before {
                let coop = self
                    .core
                    .group
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_cooperative();
                let _ = match (kind == ErrorCode::ASSIGN_PARTITIONS, coop) {
                    (true, false) => self.assign(Some(&parts)),
                    (false, false) => self.assign(None),
                    (true, true) => self.incremental_assign(&parts),
                    (false, true) => self.incremental_unassign(&parts),
                };
            }
        }
        Ok(())
    }

    /// Replaces the assignment (`None` or empty: unassign).
    ///
    /// # Errors
    /// Coordinator errors while fetching committed offsets.
    pub fn assign(&self, tps: Option<&[TopicPartition]>) -> Result<()> {
        self.check()?;
        let core = self.core.clone();
        let add = tps.map(<[TopicPartition]>::to_vec).unwrap_or_default();
        self.run(async move { core.apply_assign(add, Vec::new(), true).await })
    }

    /// Adds partitions to the assignment (cooperative rebalancing).
    ///
    /// # Errors
    /// As [`KafkaConsumer::assign`].
    pub fn incremental_assign(&self, tps: &[TopicPartition]) -> Result<()> {
        self.check()?;
        let core = self.core.clone();
        let add = tps.to_vec();
        self.run(async move { core.apply_assign(add, Vec::new(), false).await })
    }

    /// Removes partitions from the assignment.
    ///
    /// # Errors
    /// `_STATE` after close.
    pub fn incremental_unassign(&self, tps: &[TopicPartition]) -> Result<()> {
        self.check()?;
        let core = self.core.clone();
        let rm: Vec<Tp> = tps.iter().map(tp_key).collect();
        self.run(async move { core.apply_assign(Vec::new(), rm, false).await })
    }

    /// The current assignment, sorted by topic and partition, each with the offset it was
    /// assigned at (as librdkafka: not the position, and `INVALID` shown as `STORED`).
    pub fn assignment(&self) -> Vec<TopicPartition> {
        let a = self
            .core
            .assignment
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        a.iter()
            .map(|((t, p), off)| TopicPartition::new(t.clone(), *p, *off))
            .collect()
    }

    /// Waits up to `timeout` for a message, serving events (rebalances, commit results,
    /// errors) through `serve` on the way. `Ok(None)` is a timeout. Rebalance events reach
    /// `serve` only when a rebalance callback is registered.
    ///
    /// # Errors
    /// The first `Err` from `serve`.
    pub fn consume_with<E>(
        &self,
        timeout: Duration,
        mut serve: impl FnMut(Event) -> std::result::Result<(), E>,
    ) -> std::result::Result<Option<Message>, E> {
        if self.check().is_err() {
            return Ok(None);
        }
        let _polling = self.polled();
        // The first pass takes a queued message without reading the clock: this runs once
        // per message at hundreds of thousands of messages a second.
        let mut deadline: Option<Instant> = None;
        loop {
            for ev in self.core.events.pop(1000, Duration::ZERO) {
                self.serve_event(ev, &mut serve)?;
            }
            let pending = self
                .core
                .error_messages
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
            if let Some(m) = pending {
                return Ok(Some(m));
            }
            let slice = match deadline {
                None => Duration::ZERO,
                Some(d) => d
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(100)),
            };
            if let Some(m) = self.core.fetcher.pop(None, slice) {
                if m.err.is_ok() && self.core.auto_store {
                    self.auto_store(&m);
                }
                return Ok(Some(m));
            }
            let Some(deadline) = deadline else {
                deadline = Some(crate::runtime::deadline_after(timeout));
                continue;
            };
            if Instant::now() >= deadline {
                for ev in self.core.events.pop(1000, Duration::ZERO) {
                    self.serve_event(ev, &mut serve)?;
                }
                return Ok(None);
            }
        }
    }

    /// `enable.auto.offset.store`: the offset after `m` becomes the partition's offset to
    /// commit. Updates in place without allocating while the map is small (the usual
    /// assignment), as this runs for every consumed message.
    fn auto_store(&self, m: &Message) {
        let mut stored = self.core.stored.lock().unwrap_or_else(|e| e.into_inner());
        if stored.len() <= 64 {
            if let Some(v) = stored
                .iter_mut()
                .find(|((t, p), _)| *p == m.partition && t.as_str() == &*m.topic)
                .map(|(_, v)| v)
            {
                *v = m.offset + 1;
                return;
            }
        }
        stored.insert((m.topic.to_string(), m.partition), m.offset + 1);
    }

    /// Records an application poll (in progress until the guard drops); after a
    /// `max.poll.interval.ms` departure it lets the group task rejoin.
    fn polled(&self) -> PollGuard<'_> {
        self.core.polls.fetch_add(1, Ordering::Relaxed);
        self.core.in_poll.fetch_add(1, Ordering::Relaxed);
        if self.core.max_poll_left.load(Ordering::Relaxed) {
            self.core.wake.notify_one();
        }
        PollGuard(&self.core)
    }

    /// [`KafkaConsumer::consume_with`] dropping events.
    pub fn consume(&self, timeout: Duration) -> Option<Message> {
        self.consume_with(timeout, |_| Ok::<(), ()>(()))
            .unwrap_or(None)
    }

    /// Takes pending events without consuming.
    pub fn poll_events(&self, max: usize, timeout: Duration) -> Vec<Event> {
        self.core.events.pop(max, timeout)
    }

    /// Stores offsets to be committed (`offsetStore`, `storeOffsets`): `offset` is the next
    /// offset to consume. As librdkafka, a partition that is not assigned takes only a
    /// logical offset (which is then never committed).
    ///
    /// # Errors
    /// `_STATE` after close, and for an absolute offset of a partition that is not assigned;
    /// `_UNKNOWN_PARTITION` for a partition neither assigned nor in the cached metadata.
    pub fn store_offsets(&self, tps: &[TopicPartition]) -> Result<()> {
        self.check()?;
        let a = self
            .core
            .assignment
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut s = self.core.stored.lock().unwrap_or_else(|e| e.into_inner());
        for tp in tps {
            let k = tp_key(tp);
            if a.contains_key(&k) {
                s.insert(k, tp.offset);
                continue;
            }
            let known = self.core.client.cluster.topic(&tp.topic).is_some_and(|t| {
                t.err.is_ok() && t.partitions.iter().any(|p| p.id == tp.partition)
            });
            if !known {
                return Err(KafkaError::new(ErrorCode::UNKNOWN_PARTITION));
            }
            if tp.offset >= 0 {
                return Err(KafkaError::new(ErrorCode::STATE));
            }
        }
        Ok(())
    }

    /// Commits `offsets` (or the stored offsets); `asynchronous` returns at once and reports
    /// through an offset-commit event.
    ///
    /// # Errors
    /// `_NO_OFFSET` with nothing to commit, `_WAIT_COORD` when no coordinator could be reached
    /// within `session.timeout.ms`, coordinator and per-partition errors.
    pub fn commit(&self, offsets: Option<&[TopicPartition]>, asynchronous: bool) -> Result<()> {
        self.check()?;
        let core = self.core.clone();
        let tps = offsets.map(<[TopicPartition]>::to_vec);
        // An unreachable coordinator is waited for up to session.timeout.ms (librdkafka).
        let wait = Duration::from_millis(
            self.core.client.conf.get_i64("session.timeout.ms").max(0) as u64,
        );
        if asynchronous {
            self.core.client.handle.spawn(async move {
                let _ = core.commit_waiting(tps, false, Some(wait)).await;
            });
            return Ok(());
        }
        let timeout = wait + self.core.client.cluster.request_timeout();
        self.core.client.block_on(timeout, async move {
            core.commit_waiting(tps, false, Some(wait))
                .await
                .map(|_| ())
        })
    }

    /// Committed offsets of `tps` (`getCommittedOffsets`). As librdkafka, an unreachable
    /// cluster or coordinator is waited out (asking again every 100 ms) until `timeout`.
    ///
    /// # Errors
    /// `_TIMED_OUT` when no coordinator answered in time; the coordinator's errors.
    pub fn committed(
        &self,
        tps: &[TopicPartition],
        timeout: Duration,
    ) -> Result<Vec<TopicPartition>> {
        self.core.client.guard.check()?;
        let core = self.core.clone();
        let tps = tps.to_vec();
        self.core.client.block_on(timeout, async move {
            loop {
                match core
                    .coordinator
                    .fetch(&core.client.cluster, &tps, true)
                    .await
                {
                    Err(e) if waits_for_coordinator(e.code) => {
                        core.coordinator.reset();
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    r => return r,
                }
            }
        })
    }

    /// Positions: the offset after the last consumed message, or `OFFSET_INVALID`.
    pub fn position(&self, tps: &[TopicPartition]) -> Vec<TopicPartition> {
        tps.iter()
            .map(|tp| {
                let mut o = tp.clone();
                o.offset = self.core.fetcher.position(&tp.topic, tp.partition);
                o
            })
            .collect()
    }

    /// Moves an assigned partition to `offset`.
    ///
    /// # Errors
    /// `_UNKNOWN_PARTITION` when not assigned.
    pub fn seek(&self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        self.check()?;
        self.core.fetcher.seek(topic, partition, offset)
    }

    /// Pauses partitions; each result carries its error.
    pub fn pause(&self, tps: &[TopicPartition]) -> Vec<TopicPartition> {
        self.set_paused(tps, true)
    }

    /// Resumes partitions.
    pub fn resume(&self, tps: &[TopicPartition]) -> Vec<TopicPartition> {
        self.set_paused(tps, false)
    }

    fn set_paused(&self, tps: &[TopicPartition], on: bool) -> Vec<TopicPartition> {
        tps.iter()
            .map(|tp| {
                let mut o = tp.clone();
                o.err = self.core.fetcher.set_paused(&tp.topic, tp.partition, on);
                o
            })
            .collect()
    }

    /// Closes: final commit (with auto-commit), revoke (served through `serve`), leave the
    /// group, stop fetching. Idempotent.
    ///
    /// # Errors
    /// The first `Err` from `serve`.
    pub fn close_with<E>(
        &self,
        mut serve: impl FnMut(Event) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        if !self.core.client.guard.is_owner()
            || self.core.close_started.swap(true, Ordering::SeqCst)
        {
            return Ok(());
        }
        {
            let mut g = self.core.group.lock().unwrap_or_else(|e| e.into_inner());
            g.closing = true;
        }
        self.core.wake.notify_one();
        let deadline = Instant::now()
            + self
                .core
                .client
                .cluster
                .request_timeout()
                .min(Duration::from_secs(30));
        loop {
            for ev in self.core.events.pop(1000, Duration::from_millis(20)) {
                self.serve_event(ev, &mut serve)?;
            }
            let done = self
                .core
                .group
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .closed;
            if done || Instant::now() >= deadline {
                break;
            }
        }
        for ev in self.core.events.pop(1000, Duration::ZERO) {
            self.serve_event(ev, &mut serve)?;
        }
        self.core.fetcher.shutdown();
        self.core.closed.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// [`KafkaConsumer::close_with`] dropping events.
    pub fn close(&self) {
        let _ = self.close_with(|_| Ok::<(), ()>(()));
    }
}

/// Marks a `consume()` in progress: blocking in it counts as polling.
struct PollGuard<'a>(&'a Core);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.in_poll.fetch_sub(1, Ordering::Relaxed);
        self.0.polls.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for KafkaConsumer {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(t: &str, p: i32, off: i64) -> TopicPartition {
        TopicPartition::new(t, p, off)
    }

    #[test]
    fn check_assign_sorts_and_maps_invalid_to_stored() {
        let mut add = vec![tp("b", 0, 5), tp("a", 1, OFFSET_INVALID), tp("a", 0, -2002)];
        check_assign(&mut add, &[], None).unwrap();
        let got: Vec<(&str, i32, i64)> = add
            .iter()
            .map(|t| (t.topic.as_str(), t.partition, t.offset))
            .collect();
        assert_eq!(got, [("a", 0, -2002), ("a", 1, OFFSET_STORED), ("b", 0, 5)]);
    }

    #[test]
    fn check_assign_refuses_like_librdkafka() {
        let err = |add: &mut Vec<TopicPartition>, rm: &[Tp], cur: Option<&BTreeMap<Tp, i64>>| {
            let e = check_assign(add, rm, cur).unwrap_err();
            (e.code, e.message)
        };
        let mut current = BTreeMap::new();
        assert_eq!(
            err(&mut vec![], &[("t".into(), 0)], Some(&current)),
            (
                ErrorCode::INVALID_ARG,
                "Can't subtract from empty assignment".into()
            )
        );
        current.insert(("t".to_string(), 0), 3);
        assert_eq!(
            err(&mut vec![], &[("t".into(), 1)], Some(&current)),
            (
                ErrorCode::INVALID_ARG,
                "t [1] can't be unassigned since it is not in the current assignment".into()
            )
        );
        assert_eq!(
            err(&mut vec![tp("t", 0, 1)], &[], Some(&current)),
            (
                ErrorCode::CONFLICT,
                "t [0] is already part of the current assignment".into()
            )
        );
        assert_eq!(
            err(&mut vec![tp("t", 1, 1), tp("t", 1, 2)], &[], None),
            (
                ErrorCode::INVALID_ARG,
                "Duplicate t [1] in input list".into()
            )
        );
        assert_eq!(
            err(&mut vec![tp("t", 1, -5)], &[], None),
            (
                ErrorCode::INVALID_ARG,
                "t [1] has invalid start offset -5".into()
            )
        );
        assert!(check_assign(&mut [tp("t", 1, 1)], &[("t".into(), 0)], Some(&current)).is_ok());
    }
}
