//! Committed offsets: an in-memory map made durable by [`OffsetLog`].
//!
//! # Why a log of our own, not a `__consumer_offsets` topic
//! Kafka keeps offsets in a compacted internal topic because it must replicate them. We are a
//! single node: an internal topic would drag the partition log's segment and index machinery,
//! key-based compaction and a topic users can see into a job that is one small file. The
//! offsets log is append-only with a CRC per frame (a torn write is detected and cut off on
//! replay), holds one frame per request (a multi-partition commit is atomic), and is rewritten
//! from the live map when it grows past twice the live size (at least 16 MiB by default), so
//! start-up replay stays short.
//!
//! # Durability
//! A commit is acknowledged only after `fdatasync`. One writer thread owns the file; commits
//! arriving while it syncs queue on a bounded channel and share the next sync (group commit),
//! so throughput does not fall to one commit per disk flush. The map is updated after the sync,
//! so OffsetFetch never shows an offset a crash could still take back.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

pub use super::offset_log::OffsetOp;
use super::offset_log::{encode_frame, OffsetLog};

/// A topic partition, by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

/// What a group committed for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: i64,
    /// -1 when the client did not say.
    pub leader_epoch: i32,
    /// The client's metadata string; a null commit metadata is stored as "" (as Kafka does).
    pub metadata: String,
    pub commit_timestamp_ms: i64,
}

/// Tuning of the store.
#[derive(Debug, Clone)]
pub struct OffsetStoreOptions {
    /// Compact when the log exceeds both this and twice the live size after the last compaction.
    pub compact_min_bytes: u64,
    /// Commits waiting for the writer; senders wait (back-pressure) when it is full.
    pub queue_capacity: usize,
}

impl Default for OffsetStoreOptions {
    fn default() -> Self {
        OffsetStoreOptions {
            compact_min_bytes: 16 << 20,
            queue_capacity: 1024,
        }
    }
}

/// Errors of the offset store.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum OffsetStoreError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("the offsets writer has stopped")]
    WriterStopped,
}

type Offsets = HashMap<String, BTreeMap<TopicPartition, CommittedOffset>>;

struct WriteJob {
    ops: Vec<OffsetOp>,
    done: oneshot::Sender<Result<(), String>>,
}

/// Committed offsets of every group.
#[derive(Debug, Clone)]
pub struct OffsetStore {
    offsets: Arc<Mutex<Offsets>>,
    jobs: mpsc::Sender<WriteJob>,
}

impl std::fmt::Debug for WriteJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteJob")
            .field("ops", &self.ops.len())
            .finish()
    }
}

fn apply(offsets: &mut Offsets, op: &OffsetOp) {
    match op {
        OffsetOp::Commit { group, tp, offset } => {
            offsets
                .entry(group.clone())
                .or_default()
                .insert(tp.clone(), offset.clone());
        }
        OffsetOp::Delete { group, tp } => {
            if let Some(g) = offsets.get_mut(group) {
                g.remove(tp);
                if g.is_empty() {
                    offsets.remove(group);
                }
            }
        }
        OffsetOp::DeleteGroup { group } => {
            offsets.remove(group);
        }
        OffsetOp::DeleteTopic { topic } => {
            offsets.retain(|_, g| {
                g.retain(|tp, _| tp.topic != *topic);
                !g.is_empty()
            });
        }
    }
}

/// The live offsets as ops, one chunk per group (bounded frames).
fn snapshot(offsets: &Offsets) -> Vec<Vec<OffsetOp>> {
    offsets
        .iter()
        .map(|(group, g)| {
            g.iter()
                .map(|(tp, o)| OffsetOp::Commit {
                    group: group.clone(),
                    tp: tp.clone(),
                    offset: o.clone(),
                })
                .collect()
        })
        .collect()
}

impl OffsetStore {
    /// Replay the log in `dir` and start the writer thread.
    ///
    /// # Errors
    /// I/O errors opening or repairing the log.
    pub fn open(dir: &Path, options: OffsetStoreOptions) -> Result<OffsetStore, OffsetStoreError> {
        let (log, frames) = OffsetLog::open(dir)?;
        let mut map = Offsets::new();
        for op in frames.iter().flatten() {
            apply(&mut map, op);
        }
        let offsets = Arc::new(Mutex::new(map));
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let writer_offsets = offsets.clone();
        std::thread::Builder::new()
            .name("kafkars-offsets".into())
            .spawn(move || run_writer(log, rx, writer_offsets, options))?;
        Ok(OffsetStore { offsets, jobs: tx })
    }

    fn lock(&self) -> MutexGuard<'_, Offsets> {
        self.offsets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Persist `ops` and apply them; returns once they are on disk.
    ///
    /// # Errors
    /// The write or sync failed (nothing was applied), or the writer is gone.
    pub async fn apply(&self, ops: Vec<OffsetOp>) -> Result<(), OffsetStoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(WriteJob { ops, done })
            .await
            .map_err(|_| OffsetStoreError::WriterStopped)?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(OffsetStoreError::Io(io::Error::other(msg))),
            Err(_) => Err(OffsetStoreError::WriterStopped),
        }
    }

    /// Queue `ops` for the writer now, without waiting: their place in the log is fixed at
    /// this call, before any later commit. Gives the ops back if the queue is full.
    ///
    /// # Errors
    /// The queue is full or the writer is gone: the ops come back.
    pub fn try_submit(&self, ops: Vec<OffsetOp>) -> Result<(), Vec<OffsetOp>> {
        let (done, _ignored) = oneshot::channel();
        self.jobs
            .try_send(WriteJob { ops, done })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job) => {
                    job.ops
                }
            })
    }

    pub fn get(&self, group: &str, tp: &TopicPartition) -> Option<CommittedOffset> {
        self.lock().get(group).and_then(|g| g.get(tp)).cloned()
    }

    /// Every committed offset of `group`, ordered by topic and partition.
    pub fn group_offsets(&self, group: &str) -> Vec<(TopicPartition, CommittedOffset)> {
        self.lock()
            .get(group)
            .map(|g| g.iter().map(|(tp, o)| (tp.clone(), o.clone())).collect())
            .unwrap_or_default()
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.lock().contains_key(group)
    }

    /// Groups that have committed offsets.
    pub fn groups(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

fn run_writer(
    mut log: OffsetLog,
    mut jobs: mpsc::Receiver<WriteJob>,
    offsets: Arc<Mutex<Offsets>>,
    options: OffsetStoreOptions,
) {
    const MAX_BATCH: usize = 256;
    let mut live_size = log.size();
    let mut buf = Vec::new();
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        buf.clear();
        for job in &batch {
            encode_frame(&job.ops, &mut buf);
        }
        let result = log.append(&buf);
        if result.is_ok() {
            let mut map = offsets.lock().unwrap_or_else(|e| e.into_inner());
            for op in batch.iter().flat_map(|j| j.ops.iter()) {
                apply(&mut map, op);
            }
        }
        let reply = result.map_err(|e| e.to_string());
        for job in batch {
            let _ = job.done.send(reply.clone());
        }
        if log.size() > options.compact_min_bytes.max(live_size.saturating_mul(2)) {
            let live = snapshot(&offsets.lock().unwrap_or_else(|e| e.into_inner()));
            match log.compact(live.iter().map(Vec::as_slice)) {
                Ok(()) => live_size = log.size(),
                Err(e) => {
                    tracing::warn!(error = %e, "offsets log compaction failed; continuing with the old log")
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "offsets_tests.rs"]
mod tests;
