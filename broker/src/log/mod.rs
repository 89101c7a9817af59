//! The storage layer: partitions as segmented append-only logs, Kafka's on-disk layout.
//!
//! The log knows bytes, offsets and file positions — never protocol structs.
//!
//! # Layout
//! - [`partition_log`] — [`PartitionLog`]: segments by base offset, append / read / roll,
//!   flush policy, the API the server calls (behind a `std::sync::Mutex`).
//! - [`segment`] — one `.log` plus its two indexes; `pwrite` appends, `pread` header scans.
//! - [`batch`] — the 61-byte RecordBatch v2 header: validation (magic, length, CRC-32C,
//!   counts) and in-place patching of base offset and leader epoch.
//! - [`offset_index`], [`time_index`] — Kafka's `.index` / `.timeindex` formats, each a
//!   [`sparse_index`] (sorted entries, binary search) over `index_file`, a preallocated,
//!   mmap'd file of fixed-size entries.
//! - [`recovery`] — on open: re-validate the active segment's tail, cut a torn tail,
//!   rebuild indexes that disagree.
//! - [`retention`] — which old segments go, by time and by size.
//! - [`control`] — transaction marker batches (build, read their type).
//! - [`txn_index`] — the aborted transactions of a partition (`aborted.txnindex`).
//!
//! Produce: `PartitionLog::append` → `batch::validate_batches` → patch offsets → maybe roll
//! → `Segment::append` (one `pwrite`, index entries). Fetch: `PartitionLog::read` → segment
//! by base offset → `OffsetIndex::lookup` → header scan → a [`FetchSlice`] for `sendfile`.
//!
//! ```text
//! <data>/<topic>-<partition>/
//!     00000000000000000000.log        record batches exactly as producers sent them
//!     00000000000000000000.index      (relative offset u32, file position u32) every 4 KiB
//!     00000000000000000000.timeindex  (timestamp i64, relative offset u32)
//!     00000000000000001234.log        next segment, named by its base offset
//! ```

pub mod batch;
pub mod control;
mod index_file;
pub mod offset_index;
pub mod partition_log;
pub mod recovery;
pub mod retention;
pub mod segment;
pub mod sparse_index;
pub mod time_index;
pub mod txn_index;

pub use batch::BatchHeader;
pub use partition_log::{AppendInfo, FetchSlice, LogConfig, PartitionLog};

use std::path::PathBuf;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A record batch failed validation (magic, length, CRC-32C, record count).
    #[error("corrupt record batch at byte {position}: {reason}")]
    CorruptBatch {
        position: usize,
        reason: &'static str,
    },
    /// A batch larger than `message.max.bytes`.
    #[error("record batch of {size} bytes exceeds the maximum of {max}")]
    MessageTooLarge { size: usize, max: usize },
    /// A read asked for an offset outside `[log_start, log_end]`.
    #[error("offset {requested} is out of range [{log_start}, {log_end}]")]
    OffsetOutOfRange {
        requested: i64,
        log_start: i64,
        log_end: i64,
    },
    /// A partition directory name or file that is not ours.
    #[error("bad log directory {path:?}: {reason}")]
    BadDirectory { path: PathBuf, reason: &'static str },
}
