//! [`TransactionCoordinator`]: the state machine of every transactional id (KIP-98).
//!
//! ```text
//!  Empty ──AddPartitions/AddOffsets──▶ Ongoing ──EndTxn(commit)──▶ PrepareCommit ─▶ CompleteCommit
//!    ▲                                   │  └──EndTxn(abort) / timeout / InitProducerId──▶ PrepareAbort ─▶ CompleteAbort
//!    └──────────── InitProducerId (epoch + 1) ◀──────────── Complete* (ready for the next one)
//! ```
//!
//! Prepare* is written to the state file before the first marker, Complete* after the last
//! marker (and, for a commit, after the group offsets are stored), so a crash in between is
//! finished on the next start by [`TransactionCoordinator::tick`]. Markers go only to
//! partitions where the producer has an open transaction (rebuilt from the log on start), so
//! finishing twice writes nothing twice.
//!
//! Locking: `registry` (id → entry) and `by_producer` (producer id → id) are held only to look
//! up or insert; each entry has its own `std::sync::Mutex`, held while a request works on that
//! transaction — including a transactional Produce's append, so no batch can land after the
//! marker that ends its transaction. Order: registry → entry → partition log → state file →
//! by_producer (never the other way); the compaction takes only `try_lock`s under the state
//! file. No lock is held across an `.await`.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use super::state_log::StateLog;
use crate::group::{CommittedOffset, GroupCoordinator, TopicPartition};
use crate::log::control::{marker_batch, Marker};
use crate::log::txn_index::AbortedTxn;
use crate::topics::TopicRegistry;

/// The directory under the data dir holding the state file.
pub const STATE_DIR: &str = "__transaction_state";

/// Where a transactional id stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
    /// Only in the state file: the id expired and was forgotten.
    Dead,
}

/// A group offset committed inside a transaction (stored in the group on commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOffset {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
}

/// Everything the coordinator keeps about one transactional id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnMetadata {
    pub transactional_id: String,
    pub producer_id: i64,
    pub epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    /// Wall-clock ms the current transaction began (first AddPartitions/AddOffsets).
    pub started_ms: i64,
    pub partitions: BTreeSet<(String, i32)>,
    pub groups: BTreeSet<String>,
    pub offsets: Vec<PendingOffset>,
    /// Wall-clock ms of the last stored change (`transactional.id.expiration.ms`).
    pub updated_ms: i64,
}

/// Why a transactional request is refused; each is one Kafka error code.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    #[error("the producer id is not the one of this transactional id")]
    InvalidProducerIdMapping,
    #[error("a newer producer with the same transactional id exists")]
    ProducerFenced,
    #[error("the producer epoch is not the current one")]
    InvalidProducerEpoch,
    #[error("the request is not valid in the transaction's state")]
    InvalidTxnState,
    #[error("another operation on the transaction is in progress")]
    ConcurrentTransactions,
    #[error("transaction timeout outside [1, transaction.max.timeout.ms]")]
    InvalidTransactionTimeout,
    #[error("the transactional id is empty")]
    InvalidTransactionalId,
    #[error("the topic or partition does not exist")]
    UnknownTopicOrPartition,
    #[error("the transaction state could not be stored")]
    Storage,
}

impl TxnState {
    /// The name Kafka's admin APIs use.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
        }
    }
}

impl TxnError {
    /// The Kafka wire error code.
    pub fn code(self) -> i16 {
        match self {
            TxnError::InvalidProducerIdMapping => 49,
            TxnError::ProducerFenced => 90,
            TxnError::InvalidProducerEpoch => 47,
            TxnError::InvalidTxnState => 48,
            TxnError::ConcurrentTransactions => 51,
            TxnError::InvalidTransactionTimeout => 50,
            TxnError::InvalidTransactionalId => 53,
            TxnError::UnknownTopicOrPartition => 3,
            // Retriable for the client.
            TxnError::Storage => 15,
        }
    }
}

#[derive(Debug)]
struct Entry {
    meta: TxnMetadata,
    /// An EndTxn is between its markers and its Complete record (the timer leaves it alone).
    completing: bool,
}

/// The transaction coordinator of this broker (it coordinates every transactional id).
#[derive(Debug)]
pub struct TransactionCoordinator {
    registry: Mutex<HashMap<String, Arc<Mutex<Entry>>>>,
    by_producer: Mutex<HashMap<i64, String>>,
    log: Mutex<StateLog>,
    max_timeout_ms: i32,
    /// `transactional.id.expiration.ms`: idle ids (no transaction open) are forgotten after it.
    expiration_ms: i64,
    /// Hanging transactions (open on a partition, unknown here) were looked for.
    hanging_checked: std::sync::atomic::AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Checks the producer id and epoch a client sent against the transaction's.
fn check_producer(m: &TxnMetadata, producer_id: i64, epoch: i16) -> Result<(), TxnError> {
    if m.producer_id != producer_id {
        return Err(TxnError::InvalidProducerIdMapping);
    }
    if m.epoch != epoch {
        return Err(TxnError::ProducerFenced);
    }
    Ok(())
}

impl TransactionCoordinator {
    /// Opens the state file under `data_dir`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(data_dir: &Path, max_timeout_ms: i32, expiration_ms: i64) -> std::io::Result<Self> {
        let (log, txns) = StateLog::open(&data_dir.join(STATE_DIR))?;
        let by_producer = txns
            .values()
            .map(|m| (m.producer_id, m.transactional_id.clone()))
            .collect();
        let registry = txns
            .into_iter()
            .map(|(id, meta)| {
                let entry = Entry {
                    meta,
                    completing: false,
                };
                (id, Arc::new(Mutex::new(entry)))
            })
            .collect();
        Ok(TransactionCoordinator {
            registry: Mutex::new(registry),
            by_producer: Mutex::new(by_producer),
            log: Mutex::new(log),
            max_timeout_ms,
            expiration_ms,
            hanging_checked: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn entry(&self, id: &str) -> Option<Arc<Mutex<Entry>>> {
        lock(&self.registry).get(id).cloned()
    }

    fn entries(&self) -> Vec<Arc<Mutex<Entry>>> {
        lock(&self.registry).values().cloned().collect()
    }

    /// Stores `m` (stamping its update time) and waits for the disk.
    fn persist(&self, m: &mut TxnMetadata) -> Result<(), TxnError> {
        m.updated_ms = crate::state::now_ms();
        lock(&self.log).append(m).map_err(|e| {
            tracing::error!(id = %m.transactional_id, error = %e, "storing transaction state failed");
            TxnError::Storage
        })
    }

    /// InitProducerId with a transactional id: a new producer id, or the id's producer with
    /// its epoch bumped (fencing older producers); an open transaction is aborted first.
    ///
    /// # Errors
    /// See [`TxnError`].
    pub fn init_producer_id(
        &self,
        topics: &TopicRegistry,
        id: &str,
        timeout_ms: i32,
        requested: (i64, i16),
        allocate: impl FnOnce() -> i64,
    ) -> Result<(i64, i16), TxnError> {
        if id.is_empty() || id.len() > i16::MAX as usize {
            return Err(TxnError::InvalidTransactionalId);
        }
        if timeout_ms <= 0 || timeout_ms > self.max_timeout_ms {
            return Err(TxnError::InvalidTransactionTimeout);
        }
        let entry = {
            let mut registry = lock(&self.registry);
            match registry.get(id) {
                Some(e) => e.clone(),
                None => {
                    let mut meta = TxnMetadata {
                        transactional_id: id.to_owned(),
                        producer_id: allocate(),
                        epoch: 0,
                        timeout_ms,
                        state: TxnState::Empty,
                        started_ms: -1,
                        partitions: BTreeSet::new(),
                        groups: BTreeSet::new(),
                        offsets: Vec::new(),
                        updated_ms: -1,
                    };
                    self.persist(&mut meta)?;
                    lock(&self.by_producer).insert(meta.producer_id, id.to_owned());
                    let answer = (meta.producer_id, meta.epoch);
                    let entry = Entry {
                        meta,
                        completing: false,
                    };
                    registry.insert(id.to_owned(), Arc::new(Mutex::new(entry)));
                    return Ok(answer);
                }
            }
        };
        let mut e = lock(&entry);
        if e.completing
            || matches!(
                e.meta.state,
                TxnState::PrepareCommit | TxnState::PrepareAbort
            )
        {
            return Err(TxnError::ConcurrentTransactions);
        }
        let (req_pid, req_epoch) = requested;
        if req_pid >= 0 && (req_pid != e.meta.producer_id || req_epoch != e.meta.epoch) {
            return Err(
                if req_pid == e.meta.producer_id && req_epoch < e.meta.epoch {
                    TxnError::ProducerFenced
                } else {
                    TxnError::InvalidProducerEpoch
                },
            );
        }
        self.bump_epoch(&mut e.meta, allocate);
        if e.meta.state == TxnState::Ongoing {
            self.abort_locked(topics, &mut e.meta)?;
        }
        e.meta.state = TxnState::Empty;
        e.meta.timeout_ms = timeout_ms;
        self.persist(&mut e.meta)?;
        Ok((e.meta.producer_id, e.meta.epoch))
    }

    /// Epoch + 1, or a new producer id when the epoch is used up.
    fn bump_epoch(&self, m: &mut TxnMetadata, allocate: impl FnOnce() -> i64) {
        if m.epoch >= i16::MAX - 1 {
            let old = m.producer_id;
            m.producer_id = allocate();
            m.epoch = 0;
            let mut by = lock(&self.by_producer);
            by.remove(&old);
            by.insert(m.producer_id, m.transactional_id.clone());
        } else {
            m.epoch += 1;
        }
    }

    /// Writes abort markers and completes the abort (the epoch is already what the markers
    /// should carry).
    fn abort_locked(&self, topics: &TopicRegistry, m: &mut TxnMetadata) -> Result<(), TxnError> {
        m.state = TxnState::PrepareAbort;
        self.persist(m)?;
        write_markers(topics, m, Marker::Abort)?;
        m.state = TxnState::CompleteAbort;
        m.partitions.clear();
        m.groups.clear();
        m.offsets.clear();
        self.persist(m)
    }

    fn ongoing_entry(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
    ) -> Result<Arc<Mutex<Entry>>, TxnError> {
        let entry = self.entry(id).ok_or(TxnError::InvalidProducerIdMapping)?;
        {
            let e = lock(&entry);
            check_producer(&e.meta, producer_id, epoch)?;
            if e.completing
                || matches!(
                    e.meta.state,
                    TxnState::PrepareCommit | TxnState::PrepareAbort
                )
            {
                return Err(TxnError::ConcurrentTransactions);
            }
        }
        Ok(entry)
    }

    fn begin(m: &mut TxnMetadata) {
        if m.state != TxnState::Ongoing {
            m.state = TxnState::Ongoing;
            m.started_ms = crate::state::now_ms();
            m.partitions.clear();
            m.groups.clear();
            m.offsets.clear();
        }
    }

    /// AddPartitionsToTxn: the partitions join the transaction (which begins if needed).
    /// `verify_only` (v4+, broker-to-broker) only checks they are already in it.
    ///
    /// # Errors
    /// See [`TxnError`]; `UnknownTopicOrPartition` if any partition does not exist.
    pub fn add_partitions(
        &self,
        topics: &TopicRegistry,
        id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[(String, i32)],
        verify_only: bool,
    ) -> Result<(), TxnError> {
        let entry = self.ongoing_entry(id, producer_id, epoch)?;
        let mut e = lock(&entry);
        check_producer(&e.meta, producer_id, epoch)?;
        if verify_only {
            let all = e.meta.state == TxnState::Ongoing
                && partitions.iter().all(|tp| e.meta.partitions.contains(tp));
            return if all {
                Ok(())
            } else {
                Err(TxnError::InvalidTxnState)
            };
        }
        let exists = |(t, p): &(String, i32)| topics.get(t).and_then(|t| t.partition(*p)).is_some();
        if !partitions.iter().all(exists) {
            return Err(TxnError::UnknownTopicOrPartition);
        }
        if e.meta.state == TxnState::Ongoing
            && partitions.iter().all(|tp| e.meta.partitions.contains(tp))
        {
            return Ok(());
        }
        let mut next = e.meta.clone();
        Self::begin(&mut next);
        next.partitions.extend(partitions.iter().cloned());
        self.persist(&mut next)?;
        e.meta = next;
        Ok(())
    }

    /// AddOffsetsToTxn: the group's offsets will be committed with the transaction.
    ///
    /// # Errors
    /// See [`TxnError`].
    pub fn add_offsets(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        group: &str,
    ) -> Result<(), TxnError> {
        let entry = self.ongoing_entry(id, producer_id, epoch)?;
        let mut e = lock(&entry);
        check_producer(&e.meta, producer_id, epoch)?;
        if e.meta.state == TxnState::Ongoing && e.meta.groups.contains(group) {
            return Ok(());
        }
        let mut next = e.meta.clone();
        Self::begin(&mut next);
        next.groups.insert(group.to_owned());
        self.persist(&mut next)?;
        e.meta = next;
        Ok(())
    }

    /// TxnOffsetCommit: offsets held until the transaction ends (stored on commit).
    ///
    /// # Errors
    /// `InvalidProducerEpoch` for an old producer, `InvalidTxnState` when the group was not
    /// added with AddOffsetsToTxn; see [`TxnError`].
    pub fn txn_offset_commit(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        offsets: Vec<PendingOffset>,
    ) -> Result<(), TxnError> {
        let entry = self
            .ongoing_entry(id, producer_id, epoch)
            .map_err(|e| match e {
                TxnError::ProducerFenced => TxnError::InvalidProducerEpoch,
                e => e,
            })?;
        let mut e = lock(&entry);
        if e.meta.state != TxnState::Ongoing
            || !offsets.iter().all(|o| e.meta.groups.contains(&o.group))
        {
            return Err(TxnError::InvalidTxnState);
        }
        let mut next = e.meta.clone();
        for o in offsets {
            next.offsets.retain(|p| {
                !(p.group == o.group && p.topic == o.topic && p.partition == o.partition)
            });
            next.offsets.push(o);
        }
        self.persist(&mut next)?;
        e.meta = next;
        Ok(())
    }

    /// Every transactional id's state (ListTransactions), in no particular order.
    pub fn list(&self) -> Vec<TxnMetadata> {
        self.entries()
            .iter()
            .map(|e| lock(e).meta.clone())
            .collect()
    }

    /// One transactional id's state (DescribeTransactions).
    pub fn describe(&self, id: &str) -> Option<TxnMetadata> {
        self.entry(id).map(|e| lock(&e).meta.clone())
    }

    /// Whether an open transaction holds an offset of `group` for the partition (OffsetFetch
    /// with `require_stable` answers UNSTABLE_OFFSET_COMMIT then).
    pub fn has_pending_offset(&self, group: &str, topic: &str, partition: i32) -> bool {
        self.entries().iter().any(|entry| {
            let e = lock(entry);
            e.meta.state != TxnState::Empty
                && e.meta.groups.contains(group)
                && e.meta
                    .offsets
                    .iter()
                    .any(|o| o.group == group && o.topic == topic && o.partition == partition)
        })
    }

    /// Runs `append` for a transactional batch of `producer_id`/`epoch` on a partition, while
    /// the transaction cannot end.
    ///
    /// # Errors
    /// `InvalidProducerEpoch` for a fenced or unknown producer epoch, `InvalidTxnState` if the
    /// partition was not added to an ongoing transaction.
    pub fn with_produce<R>(
        &self,
        producer_id: i64,
        epoch: i16,
        topic: &str,
        partition: i32,
        append: impl FnOnce() -> R,
    ) -> Result<R, TxnError> {
        let id = lock(&self.by_producer)
            .get(&producer_id)
            .cloned()
            .ok_or(TxnError::InvalidProducerIdMapping)?;
        let entry = self.entry(&id).ok_or(TxnError::InvalidProducerIdMapping)?;
        let e = lock(&entry);
        if e.meta.producer_id != producer_id {
            return Err(TxnError::InvalidProducerIdMapping);
        }
        if e.meta.epoch != epoch {
            return Err(TxnError::InvalidProducerEpoch);
        }
        if e.completing
            || e.meta.state != TxnState::Ongoing
            || !e.meta.partitions.contains(&(topic.to_owned(), partition))
        {
            return Err(TxnError::InvalidTxnState);
        }
        Ok(append())
    }

    /// EndTxn: writes COMMIT or ABORT markers to every partition of the transaction, stores
    /// its group offsets on commit, and completes it. A retry of a finished EndTxn succeeds.
    ///
    /// # Errors
    /// See [`TxnError`].
    pub async fn end_txn(
        &self,
        topics: &TopicRegistry,
        groups: &GroupCoordinator,
        id: &str,
        producer_id: i64,
        epoch: i16,
        commit: bool,
    ) -> Result<(), TxnError> {
        let entry = self.entry(id).ok_or(TxnError::InvalidProducerIdMapping)?;
        let offsets = {
            let mut e = lock(&entry);
            check_producer(&e.meta, producer_id, epoch)?;
            match (e.meta.state, commit) {
                _ if e.completing => return Err(TxnError::ConcurrentTransactions),
                (TxnState::Ongoing, _) => {}
                (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => {
                    return Ok(())
                }
                (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                    return Err(TxnError::ConcurrentTransactions)
                }
                _ => return Err(TxnError::InvalidTxnState),
            }
            if !commit {
                return self.abort_locked(topics, &mut e.meta);
            }
            e.meta.state = TxnState::PrepareCommit;
            self.persist(&mut e.meta)?;
            write_markers(topics, &e.meta, Marker::Commit)?;
            e.completing = true;
            e.meta.offsets.clone()
        };
        self.complete_commit(groups, &entry, offsets).await
    }

    /// Stores a committed transaction's offsets, then records CompleteCommit.
    async fn complete_commit(
        &self,
        groups: &GroupCoordinator,
        entry: &Arc<Mutex<Entry>>,
        offsets: Vec<PendingOffset>,
    ) -> Result<(), TxnError> {
        let stored = if offsets.is_empty() {
            Ok(())
        } else {
            let now = crate::state::now_ms();
            let rows = offsets
                .into_iter()
                .map(|o| {
                    (
                        o.group,
                        TopicPartition::new(o.topic, o.partition),
                        CommittedOffset {
                            offset: o.offset,
                            leader_epoch: o.leader_epoch,
                            metadata: o.metadata,
                            commit_timestamp_ms: now,
                        },
                    )
                })
                .collect();
            groups.store_txn_offsets(rows).await
        };
        let mut e = lock(entry);
        e.completing = false;
        if let Err(err) = stored {
            tracing::error!(error = %err, "storing transactional offsets failed; retried by the timer");
            return Err(TxnError::Storage);
        }
        e.meta.state = TxnState::CompleteCommit;
        e.meta.partitions.clear();
        e.meta.groups.clear();
        e.meta.offsets.clear();
        self.persist(&mut e.meta)
    }

    /// The timer's work (every second): abort transactions past their timeout (bumping the
    /// epoch, so the late producer is fenced), finish transactions a crash left in Prepare*,
    /// once after start abort transactions open on a partition that no known transaction
    /// owns, and compact the state file.
    pub async fn tick(
        &self,
        topics: &TopicRegistry,
        groups: &GroupCoordinator,
        now_ms: i64,
        allocate: impl Fn() -> i64,
    ) {
        for entry in self.entries() {
            let commit_offsets = {
                let mut e = lock(&entry);
                if e.completing {
                    continue;
                }
                let m = &mut e.meta;
                match m.state {
                    TxnState::Ongoing
                        if now_ms.saturating_sub(m.started_ms) > i64::from(m.timeout_ms) =>
                    {
                        tracing::info!(id = %m.transactional_id, producer_id = m.producer_id,
                            "transaction timed out; aborting");
                        self.bump_epoch(m, &allocate);
                        if let Err(err) = self.abort_locked(topics, m) {
                            tracing::warn!(id = %m.transactional_id, error = %err, "aborting a timed-out transaction");
                        }
                        continue;
                    }
                    TxnState::PrepareAbort => {
                        if let Err(err) = self.abort_locked(topics, m) {
                            tracing::warn!(id = %m.transactional_id, error = %err, "finishing an abort");
                        }
                        continue;
                    }
                    TxnState::PrepareCommit => {
                        if let Err(err) = write_markers(topics, m, Marker::Commit) {
                            tracing::warn!(id = %m.transactional_id, error = %err, "finishing a commit");
                            continue;
                        }
                        e.completing = true;
                        e.meta.offsets.clone()
                    }
                    _ => continue,
                }
            };
            let _ = self.complete_commit(groups, &entry, commit_offsets).await;
        }
        self.expire(now_ms);
        if !self
            .hanging_checked
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            self.abort_hanging(topics);
        }
        self.maybe_compact();
    }

    /// Aborts transactions open on a partition whose producer no ongoing transaction of this
    /// coordinator owns (e.g. a state file lost with the data kept, or log pages lost with a
    /// power cut after the Complete record was synced): otherwise their last stable offset
    /// would never move. Each candidate is re-checked under its transaction's lock, which a
    /// transactional Produce also takes, so a transaction that begins meanwhile is left alone.
    fn abort_hanging(&self, topics: &TopicRegistry) {
        for topic in topics.list() {
            for p in topic.partitions() {
                let open = {
                    let guard = p.log();
                    if guard.is_none() {
                        continue;
                    }
                    p.producers().open_txn_producers()
                };
                for pid in open {
                    // Two statements: `by_producer` is released before `registry` is taken.
                    let id = lock(&self.by_producer).get(&pid).cloned();
                    let entry = id.and_then(|id| self.entry(&id));
                    let guard = entry.as_ref().map(|e| lock(e));
                    let owned = guard.as_ref().is_some_and(|e| {
                        e.meta.producer_id == pid
                            && (e.completing
                                || matches!(
                                    e.meta.state,
                                    TxnState::Ongoing
                                        | TxnState::PrepareCommit
                                        | TxnState::PrepareAbort
                                ))
                    });
                    if owned {
                        continue;
                    }
                    tracing::warn!(topic = %p.topic, partition = p.index, producer_id = pid,
                        "aborting a transaction no coordinator state owns");
                    let mut log = p.log();
                    if let Some(log) = log.as_mut() {
                        if let Err(e) = append_marker(&p, log, pid, 0, Marker::Abort) {
                            tracing::warn!(error = %e, "writing an abort marker failed");
                        }
                    }
                }
            }
        }
    }

    /// Forgets ids idle (Empty or Complete*) for `transactional.id.expiration.ms`, so the
    /// registry stays bounded by the ids in use; a tombstone in the state file keeps them
    /// forgotten after a restart.
    fn expire(&self, now_ms: i64) {
        let mut registry = lock(&self.registry);
        let mut gone = Vec::new();
        for (id, entry) in registry.iter() {
            let Ok(mut e) = entry.try_lock() else {
                continue;
            };
            let idle = matches!(
                e.meta.state,
                TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
            );
            if !idle
                || e.completing
                || now_ms.saturating_sub(e.meta.updated_ms) <= self.expiration_ms
            {
                continue;
            }
            let mut tombstone = e.meta.clone();
            tombstone.state = TxnState::Dead;
            if self.persist(&mut tombstone).is_ok() {
                e.meta.state = TxnState::Dead;
                gone.push((id.clone(), e.meta.producer_id));
            }
        }
        let mut by = lock(&self.by_producer);
        for (id, pid) in gone {
            registry.remove(&id);
            by.remove(&pid);
        }
    }

    /// Rewrites the state file from the live states when it has grown. Under the file's lock
    /// only `try_lock`s are taken (a request holds its entry, then the file): if any state
    /// changed since the snapshot, or an id was added, it tries again at a later tick.
    fn maybe_compact(&self) {
        if !lock(&self.log).wants_compaction() {
            return;
        }
        let entries = self.entries();
        let live: Vec<TxnMetadata> = entries.iter().map(|e| lock(e).meta.clone()).collect();
        let mut log = lock(&self.log);
        let same_ids = self
            .registry
            .try_lock()
            .is_ok_and(|r| r.len() == entries.len());
        let unchanged = same_ids
            && entries
                .iter()
                .zip(&live)
                .all(|(e, m)| e.try_lock().is_ok_and(|e| e.meta == *m));
        if unchanged {
            if let Err(e) = log.compact(live.iter()) {
                tracing::warn!(error = %e, "compacting the transaction state failed");
            }
        }
    }
}

/// Writes `marker` to every partition of `m` where its producer has a transaction open.
fn write_markers(topics: &TopicRegistry, m: &TxnMetadata, marker: Marker) -> Result<(), TxnError> {
    for (topic, index) in &m.partitions {
        let Some(p) = topics.get(topic).and_then(|t| t.partition(*index)) else {
            continue;
        };
        let mut guard = p.log();
        let Some(log) = guard.as_mut() else { continue };
        append_marker(&p, log, m.producer_id, m.epoch, marker).map_err(|e| {
            tracing::error!(topic, partition = index, error = %e, "writing a transaction marker failed");
            TxnError::Storage
        })?;
    }
    Ok(())
}

/// Appends one marker (if `producer_id` has a transaction open on the partition), closes the
/// transaction there, indexes an abort, and wakes waiting fetches.
fn append_marker(
    p: &crate::topics::Partition,
    log: &mut crate::log::PartitionLog,
    producer_id: i64,
    epoch: i16,
    marker: Marker,
) -> Result<(), crate::log::LogError> {
    if !p.producers().in_txn(producer_id) {
        return Ok(());
    }
    let now = crate::state::now_ms();
    let mut batch = marker_batch(producer_id, epoch, marker, 0, now);
    let info = log.append(&mut batch, now)?;
    let mut producers = p.producers();
    let first = producers.end_txn(producer_id).unwrap_or(info.base_offset);
    let lso = producers.last_stable_offset(log.log_end_offset());
    drop(producers);
    if marker == Marker::Abort {
        log.txn_index_mut().push(AbortedTxn {
            producer_id,
            first_offset: first,
            last_offset: info.base_offset,
            last_stable_offset: lso,
        })?;
    }
    p.notify_appended(log.log_end_offset());
    Ok(())
}

#[cfg(test)]
#[path = "coordinator_tests.rs"]
mod tests;
