//! One partition's log: an ordered set of segments, appends go to the last one.
//! (Scaffold: signatures fixed for the server; bodies being written under issue #2.)

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use super::LogError;

/// Settings of one partition log (Kafka's `log.*` broker settings).
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// `log.segment.bytes` (default 1 GiB): roll when the active segment would exceed it.
    pub segment_bytes: u64,
    /// `log.roll.ms` (default 7 days): roll when the active segment's first batch is older.
    pub segment_ms: Option<u64>,
    /// `log.retention.ms` (default 7 days; `None` = keep forever).
    pub retention_ms: Option<u64>,
    /// `log.retention.bytes` (default unlimited = `None`).
    pub retention_bytes: Option<u64>,
    /// `log.index.interval.bytes` (default 4096).
    pub index_interval_bytes: u32,
    /// `log.index.size.max.bytes` (default 10 MiB): roll when the index is full.
    pub max_index_bytes: u32,
    /// `log.flush.interval.messages` (`None` = leave flushing to the OS).
    pub flush_interval_messages: Option<u64>,
    /// `log.flush.interval.ms`.
    pub flush_interval_ms: Option<u64>,
    /// `message.max.bytes` (default 1048588): the largest batch accepted.
    pub max_message_bytes: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: Some(7 * 24 * 3600 * 1000),
            retention_ms: Some(7 * 24 * 3600 * 1000),
            retention_bytes: None,
            index_interval_bytes: 4096,
            max_index_bytes: 10 * 1024 * 1024,
            flush_interval_messages: None,
            flush_interval_ms: None,
            max_message_bytes: 1_048_588,
        }
    }
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset given to the first record of the first batch.
    pub base_offset: i64,
    /// Offset of the last record of the last batch.
    pub last_offset: i64,
    /// Number of records appended.
    pub record_count: u64,
    /// The log start offset after the append.
    pub log_start_offset: i64,
}

/// A byte range of a segment file holding whole record batches, ready for `sendfile`.
/// `len == 0` means there is nothing to send. The `Arc<File>` keeps the file readable even if
/// retention deletes the segment while the bytes are in flight.
#[derive(Debug, Clone)]
pub struct FetchSlice {
    pub file: Arc<File>,
    pub position: u64,
    pub len: u32,
}

/// One partition's log.
#[derive(Debug)]
pub struct PartitionLog {
    dir: PathBuf,
}

impl PartitionLog {
    /// Opens (creating if absent) the partition directory and recovers it: the tail of the
    /// active segment is re-validated and a torn or corrupt tail truncated.
    pub fn open(dir: PathBuf, config: LogConfig) -> Result<Self, LogError> {
        let _ = config;
        todo!("issue #2: {dir:?}")
    }

    /// Validates the producer's record batches (one or more, back to back: magic 2, length,
    /// CRC-32C, record count), assigns offsets by patching base offset and partition leader
    /// epoch in place, and appends them. Nothing is written if any batch is invalid.
    pub fn append(&mut self, batches: &mut [u8], now_ms: i64) -> Result<AppendInfo, LogError> {
        let _ = (batches, now_ms, &self.dir);
        todo!()
    }

    /// Whole batches starting with the batch that contains `offset`, up to `max_bytes` but at
    /// least one batch. `offset == log_end_offset()` gives an empty slice; an offset outside
    /// `[log_start_offset(), log_end_offset()]` is `OffsetOutOfRange`.
    pub fn read(&self, offset: i64, max_bytes: u32) -> Result<FetchSlice, LogError> {
        let _ = (offset, max_bytes);
        todo!()
    }

    /// First offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        todo!()
    }

    /// The offset the next record will get (high watermark on a single node).
    pub fn log_end_offset(&self) -> i64 {
        todo!()
    }

    /// The first batch whose max timestamp is >= `timestamp_ms`: (its base offset or the first
    /// offset >= log start, that batch's max timestamp). `None` if no such batch.
    pub fn offset_for_timestamp(&self, timestamp_ms: i64) -> Result<Option<(i64, i64)>, LogError> {
        let _ = timestamp_ms;
        todo!()
    }

    /// The largest timestamp in the log and the offset of the batch holding it
    /// (ListOffsets MAX_TIMESTAMP, -3). `None` for an empty log.
    pub fn max_timestamp(&self) -> Option<(i64, i64)> {
        todo!()
    }

    /// fsyncs the active segment and its indexes.
    pub fn flush(&mut self) -> Result<(), LogError> {
        todo!()
    }

    /// Deletes whole segments past `retention_ms` / `retention_bytes` (never the active one
    /// while it is the only segment), rolls the active segment when `segment_ms` says so.
    /// Returns the number of segments deleted.
    pub fn enforce_retention(&mut self, now_ms: i64) -> Result<usize, LogError> {
        let _ = now_ms;
        todo!()
    }

    /// Total bytes of all segment files.
    pub fn size_bytes(&self) -> u64 {
        todo!()
    }

    /// Flushes and removes the partition directory with all its files.
    pub fn delete(self) -> Result<(), LogError> {
        todo!()
    }
}
