//! One partition's log: an ordered set of segments, appends go to the last one.
//!
//! ```text
//! segments: BTreeMap<base offset, Segment>
//!   [0] 00000000000000000000  closed: indexes trimmed, read only
//!   [1] 00000000000000052371  closed
//!   [2] 00000000000000104915  active: indexes preallocated, appends land here
//!                             log end offset = its next offset
//! ```
//!
//! Lookup of an offset: the last segment whose base is <= the offset (`BTreeMap::range`),
//! a binary search in its mmap'd offset index, then a forward scan of batch headers by
//! `pread` over at most one index interval. Append: validate, patch offsets in place, one
//! `pwrite` of all batches, index entries per `index.interval.bytes`. Neither grows with the
//! size of the log. The log end offset and the log start offset (the first segment's base)
//! are derived from the segments, so they survive restarts without a checkpoint file.
//!
//! The server keeps a `PartitionLog` behind a `std::sync::Mutex`; `read` hands back a
//! [`FetchSlice`] of bytes already written, so the server may `sendfile` it after unlocking.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::batch::{patch_base_offset, patch_leader_epoch, validate_batches, BatchHeader};
use super::control::{parse_marker, Marker, CONTROL, MARKER_PROBE_LEN};
use super::recovery::{closed_indexes_agree, rebuild, recover_active};
use super::retention::{segments_to_delete, SegmentStats};
use super::segment::{segment_paths, Segment, MAX_SEGMENT_BYTES};
use super::txn_index::TxnIndex;
use super::LogError;

/// The partition leader epoch written into stored batches: a single node is always the
/// leader of epoch 0 (Metadata and Fetch answers must report the same).
pub const LEADER_EPOCH: i32 = 0;

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
    config: LogConfig,
    /// Never empty once opened; the last one is the active segment.
    pub(super) segments: BTreeMap<i64, Segment>,
    /// Records appended since the last fsync (`log.flush.interval.messages`).
    unflushed_messages: u64,
    /// When the last fsync happened (`log.flush.interval.ms`).
    last_flush_ms: i64,
    /// Aborted transactions, for read_committed fetches.
    txn_index: TxnIndex,
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The base offset of a file named `<20 digits>.<ext>`.
fn parse_base(name: &str, ext: &str) -> Option<i64> {
    let stem = name.strip_suffix(ext)?.strip_suffix('.')?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

impl PartitionLog {
    /// Opens (creating if absent) the partition directory and recovers it: the tail of the
    /// active segment is re-validated and a torn or corrupt tail truncated; closed segments
    /// whose indexes are missing or were left untrimmed by a crash get them rebuilt.
    /// Leftover `.deleted`/`.cleaned`/`.swap` files and indexes without a log are removed.
    ///
    /// # Errors
    /// I/O errors; `BadDirectory` if `dir` exists but is not a directory.
    pub fn open(dir: PathBuf, config: LogConfig) -> Result<Self, LogError> {
        if dir.exists() && !dir.is_dir() {
            return Err(LogError::BadDirectory {
                path: dir,
                reason: "not a directory",
            });
        }
        std::fs::create_dir_all(&dir)?;
        let now = wall_clock_ms();
        let mut bases = Vec::new();
        let mut index_bases = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.ends_with(".deleted") || name.ends_with(".cleaned") || name.ends_with(".swap") {
                std::fs::remove_file(entry.path())?;
            } else if let Some(base) = parse_base(name, "log") {
                bases.push(base);
            } else if let Some(base) =
                parse_base(name, "index").or_else(|| parse_base(name, "timeindex"))
            {
                index_bases.push((base, entry.path()));
            }
        }
        bases.sort_unstable();
        for (base, path) in index_bases {
            if bases.binary_search(&base).is_err() {
                std::fs::remove_file(path)?;
            }
        }
        let txn_index = TxnIndex::open(&dir)?;
        let mut log = PartitionLog {
            dir,
            config,
            segments: BTreeMap::new(),
            unflushed_messages: 0,
            last_flush_ms: now,
            txn_index,
        };
        let interval = log.config.index_interval_bytes;
        let max_index = log.config.max_index_bytes;
        let last = bases.len().checked_sub(1);
        for (i, &base) in bases.iter().enumerate() {
            let (_, index_path, time_path) = segment_paths(&log.dir, base);
            let indexes_present = index_path.exists() && time_path.exists();
            let mut seg = Segment::open(&log.dir, base, now)?;
            if Some(i) == last {
                seg.open_indexes(max_index)?;
                let report = if indexes_present {
                    recover_active(&mut seg, interval)?
                } else {
                    rebuild(&mut seg, interval)?
                };
                if report.truncated_bytes > 0 || report.rebuilt_indexes {
                    tracing::info!(dir = %log.dir.display(), base, ?report, "recovered the active segment");
                }
            } else if !indexes_present || !closed_indexes_agree(&seg)? {
                seg.open_indexes(max_index)?;
                let report = rebuild(&mut seg, interval)?;
                seg.close_indexes()?;
                tracing::info!(dir = %log.dir.display(), base, ?report, "rebuilt the indexes of a closed segment");
                seg.release_indexes();
            } else {
                seg.load_from_indexes();
                seg.release_indexes();
            }
            log.segments.insert(base, seg);
        }
        if log.segments.is_empty() {
            let seg = Segment::create(&log.dir, 0, max_index, now)?;
            log.segments.insert(0, seg);
        }
        Ok(log)
    }

    pub(super) fn active(&self) -> &Segment {
        self.segments
            .values()
            .next_back()
            .expect("a partition log always has a segment")
    }

    fn active_mut(&mut self) -> &mut Segment {
        self.segments
            .values_mut()
            .next_back()
            .expect("a partition log always has a segment")
    }

    /// The partition directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings the log runs with.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Number of segments (the active one included).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Calls `f` with the header of every batch in the last `segments` segments (the active
    /// one included), oldest first.
    ///
    /// # Errors
    /// I/O errors; `CorruptBatch` if the scan meets bytes that are not a batch.
    pub fn for_each_recent_header(
        &self,
        segments: usize,
        mut f: impl FnMut(&BatchHeader),
    ) -> Result<(), LogError> {
        let skip = self.segments.len().saturating_sub(segments);
        for seg in self.segments.values().skip(skip) {
            seg.for_each_header(&mut f)?;
        }
        Ok(())
    }

    /// Like [`PartitionLog::for_each_recent_header`], with the marker type of control
    /// batches (read from the bytes after the header).
    ///
    /// # Errors
    /// As [`PartitionLog::for_each_recent_header`].
    pub fn for_each_recent_batch(
        &self,
        segments: usize,
        mut f: impl FnMut(&BatchHeader, Option<Marker>),
    ) -> Result<(), LogError> {
        use std::os::unix::fs::FileExt;
        let skip = self.segments.len().saturating_sub(segments);
        for seg in self.segments.values().skip(skip) {
            let mut io_error = None;
            let mut position = 0u64;
            seg.for_each_header(|h| {
                let mut marker = None;
                if h.attributes & CONTROL != 0 {
                    let n = (h.size() - super::batch::HEADER_LEN).min(MARKER_PROBE_LEN);
                    let mut buf = [0u8; MARKER_PROBE_LEN];
                    let at = position + super::batch::HEADER_LEN as u64;
                    match seg.file().read_exact_at(&mut buf[..n], at) {
                        Ok(()) => marker = parse_marker(&buf[..n]),
                        Err(e) => io_error = Some(e),
                    }
                }
                position += h.size() as u64;
                f(h, marker);
            })?;
            if let Some(e) = io_error {
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// The aborted-transaction index.
    pub fn txn_index(&self) -> &TxnIndex {
        &self.txn_index
    }

    /// The aborted-transaction index, to add an entry after writing an abort marker.
    pub fn txn_index_mut(&mut self) -> &mut TxnIndex {
        &mut self.txn_index
    }

    /// Validates the producer's record batches (one or more, back to back: magic 2, length,
    /// CRC-32C, record count), assigns offsets by patching base offset and partition leader
    /// epoch in place, and appends them. Nothing is written if any batch is invalid. The
    /// bytes are in the file (the OS page cache) when this returns; they are fsynced per
    /// `log.flush.interval.messages`/`.ms`.
    ///
    /// # Errors
    /// `CorruptBatch`, `MessageTooLarge` (nothing written); I/O errors.
    pub fn append(&mut self, batches: &mut [u8], now_ms: i64) -> Result<AppendInfo, LogError> {
        let mut valid = validate_batches(batches, self.config.max_message_bytes)?;
        let records: u64 = valid
            .iter()
            .map(|b| b.header.last_offset_delta as u64 + 1)
            .sum();
        let max_timestamp = valid
            .iter()
            .map(|b| b.header.max_timestamp)
            .max()
            .unwrap_or(-1);
        let base_offset = self.log_end_offset();
        let last_offset = base_offset + records as i64 - 1;
        let append = (batches.len() as u64, valid.len());
        if self.should_roll(append, max_timestamp, last_offset, now_ms) {
            self.roll(now_ms)?;
        }
        let mut next = base_offset;
        for b in &mut valid {
            let at = &mut batches[b.position..];
            patch_base_offset(at, next);
            patch_leader_epoch(at, LEADER_EPOCH);
            b.header.base_offset = next;
            b.header.partition_leader_epoch = LEADER_EPOCH;
            next = b.header.next_offset();
        }
        let interval = self.config.index_interval_bytes;
        self.active_mut().append(batches, &valid, interval)?;
        self.unflushed_messages += records;
        let due_by_count = self
            .config
            .flush_interval_messages
            .is_some_and(|n| self.unflushed_messages >= n);
        if due_by_count || self.flush_due_by_time(now_ms) {
            self.flush_at(now_ms)?;
        }
        Ok(AppendInfo {
            base_offset,
            last_offset,
            record_count: records,
            log_start_offset: self.log_start_offset(),
        })
    }

    fn flush_due_by_time(&self, now_ms: i64) -> bool {
        self.unflushed_messages > 0
            && self
                .config
                .flush_interval_ms
                .is_some_and(|ms| now_ms.saturating_sub(self.last_flush_ms) >= ms as i64)
    }

    /// Kafka's `shouldRoll`: the active segment is non-empty and the append would push it
    /// past `segment.bytes`, or its first batch is older than `segment.ms` (measured against
    /// the incoming batches' timestamps, or wall time when batches carry none), or an index
    /// lacks room for the append's batches, or the new offsets would not fit the 32-bit
    /// relative offsets. `append` is (bytes, batches).
    fn should_roll(
        &self,
        (append_bytes, append_batches): (u64, usize),
        append_max_timestamp: i64,
        last_offset: i64,
        now_ms: i64,
    ) -> bool {
        let seg = self.active();
        if seg.size() == 0 {
            return false;
        }
        let limit = self.config.segment_bytes.clamp(1, MAX_SEGMENT_BYTES);
        let by_size = seg.size() + append_bytes > limit;
        let by_time = self.config.segment_ms.is_some_and(|ms| {
            let waited = match seg.rolling_timestamp() {
                Some(t) if t >= 0 && append_max_timestamp >= 0 => append_max_timestamp - t,
                _ => now_ms - seg.created_ms(),
            };
            waited > ms.min(i64::MAX as u64) as i64
        });
        let by_offset = last_offset - seg.base_offset() > u32::MAX as i64;
        by_size || by_time || by_offset || !seg.has_index_room(append_batches)
    }

    /// Closes the active segment and starts a new one at the log end offset. The closed
    /// segment is fsynced when a flush policy is configured (otherwise, like Kafka's
    /// defaults, the OS writes it back).
    fn roll(&mut self, now_ms: i64) -> Result<(), LogError> {
        let flush = self.config.flush_interval_messages.is_some()
            || self.config.flush_interval_ms.is_some();
        let next = self.log_end_offset();
        let active = self.active_mut();
        if active.size() == 0 {
            return Ok(());
        }
        active.close_indexes()?;
        if flush {
            active.flush()?;
        }
        let seg = Segment::create(&self.dir, next, self.config.max_index_bytes, now_ms)?;
        if flush {
            File::open(&self.dir)?.sync_all()?;
        }
        self.segments.insert(next, seg);
        tracing::debug!(dir = %self.dir.display(), base = next, "rolled a new segment");
        Ok(())
    }

    /// Whole batches starting with the batch that contains `offset`, up to `max_bytes` but at
    /// least one batch, all from one segment. `offset == log_end_offset()` gives an empty
    /// slice; an offset outside `[log_start_offset(), log_end_offset()]` is
    /// `OffsetOutOfRange`.
    ///
    /// # Errors
    /// `OffsetOutOfRange`; I/O errors; `CorruptBatch` if a segment holds bytes that are not
    /// batches (only possible if the files were changed behind our back).
    pub fn read(&self, offset: i64, max_bytes: u32) -> Result<FetchSlice, LogError> {
        self.read_upto(offset, max_bytes, i64::MAX)
    }

    /// [`PartitionLog::read`] that returns no batch starting at or after `end` (the last
    /// stable offset for read_committed fetches; a batch boundary). An `offset` at or past
    /// `end` gives an empty slice.
    ///
    /// # Errors
    /// As [`PartitionLog::read`].
    pub fn read_upto(&self, offset: i64, max_bytes: u32, end: i64) -> Result<FetchSlice, LogError> {
        let (log_start, log_end) = (self.log_start_offset(), self.log_end_offset());
        if offset < log_start || offset > log_end {
            return Err(LogError::OffsetOutOfRange {
                requested: offset,
                log_start,
                log_end,
            });
        }
        if offset < log_end.min(end) {
            let first = self
                .segments
                .range(..=offset)
                .next_back()
                .map_or(log_start, |(base, _)| *base);
            for seg in self.segments.range(first..).map(|(_, s)| s) {
                if let Some((position, header)) = seg.find_batch(offset)? {
                    if header.base_offset >= end {
                        break;
                    }
                    let mut max_bytes = max_bytes;
                    if end < seg.next_offset() {
                        if let Some((stop, _)) = seg.find_batch(end)? {
                            let room = u32::try_from(stop - position).unwrap_or(u32::MAX);
                            max_bytes = max_bytes.min(room);
                        }
                    }
                    let stop = seg.whole_batches_end(position, &header, max_bytes)?;
                    let len = u32::try_from(stop - position).unwrap_or(u32::MAX);
                    return Ok(FetchSlice {
                        file: Arc::clone(seg.file()),
                        position,
                        len,
                    });
                }
            }
        }
        let active = self.active();
        Ok(FetchSlice {
            file: Arc::clone(active.file()),
            position: active.size(),
            len: 0,
        })
    }

    /// First offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.segments.keys().next().copied().unwrap_or(0)
    }

    /// The offset the next record will get (high watermark on a single node).
    pub fn log_end_offset(&self) -> i64 {
        self.active().next_offset()
    }

    /// The first batch whose max timestamp is >= `timestamp_ms`: (its base offset or the first
    /// offset >= log start, that batch's max timestamp). `None` if no such batch.
    ///
    /// # Errors
    /// I/O errors; `CorruptBatch` as for [`PartitionLog::read`].
    pub fn offset_for_timestamp(&self, timestamp_ms: i64) -> Result<Option<(i64, i64)>, LogError> {
        let log_start = self.log_start_offset();
        for seg in self.segments.values() {
            if seg.max_timestamp() < timestamp_ms {
                continue;
            }
            if let Some((offset, ts)) = seg.find_timestamp(timestamp_ms)? {
                return Ok(Some((offset.max(log_start), ts)));
            }
        }
        Ok(None)
    }

    /// The largest timestamp in the log and the last offset of the batch holding it
    /// (ListOffsets MAX_TIMESTAMP, -3). `None` for an empty log or one without timestamps.
    pub fn max_timestamp(&self) -> Option<(i64, i64)> {
        let mut best: Option<(i64, i64)> = None;
        for seg in self.segments.values() {
            if seg.max_timestamp() >= 0 && best.is_none_or(|(ts, _)| seg.max_timestamp() > ts) {
                best = Some((seg.max_timestamp(), seg.offset_of_max_timestamp()));
            }
        }
        best
    }

    /// fsyncs the active segment and its indexes, if records were appended since the last
    /// fsync (closed segments were synced when they rolled, or are left to the OS when no
    /// flush policy is set).
    ///
    /// # Errors
    /// I/O errors of `fsync`/`msync`.
    pub fn flush(&mut self) -> Result<(), LogError> {
        if self.unflushed_messages == 0 {
            return Ok(());
        }
        self.flush_at(wall_clock_ms())
    }

    fn flush_at(&mut self, now_ms: i64) -> Result<(), LogError> {
        self.active().flush()?;
        self.unflushed_messages = 0;
        self.last_flush_ms = now_ms;
        Ok(())
    }

    /// fsyncs if `log.flush.interval.ms` has passed since the last fsync and records were
    /// appended since: for the server's periodic flusher, so the time policy holds even
    /// when appends stop. Returns whether it flushed.
    ///
    /// # Errors
    /// I/O errors of `fsync`/`msync`.
    pub fn flush_if_due(&mut self, now_ms: i64) -> Result<bool, LogError> {
        if self.flush_due_by_time(now_ms) {
            self.flush_at(now_ms)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Deletes whole segments past `retention_ms` / `retention_bytes` (see
    /// [`super::retention`]; when every segment goes, a new empty one is rolled first so the
    /// log end offset stays), and rolls the active segment when `segment_ms` says so (its
    /// first batch is older than `segment_ms` at `now_ms`). Returns the number of segments
    /// deleted.
    ///
    /// # Errors
    /// I/O errors rolling or removing files.
    pub fn enforce_retention(&mut self, now_ms: i64) -> Result<usize, LogError> {
        if self.should_roll((0, 0), now_ms, self.log_end_offset() - 1, now_ms) {
            self.roll(now_ms)?;
        }
        let mut stats = Vec::with_capacity(self.segments.len());
        for seg in self.segments.values() {
            let largest_timestamp = if seg.max_timestamp() >= 0 {
                seg.max_timestamp()
            } else {
                std::fs::metadata(seg.log_path())?
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(now_ms, |d| d.as_millis() as i64)
            };
            stats.push(SegmentStats {
                size: seg.size(),
                largest_timestamp,
            });
        }
        let n = segments_to_delete(
            &stats,
            now_ms,
            self.config.retention_ms,
            self.config.retention_bytes,
        );
        if n == 0 {
            return Ok(0);
        }
        if n == self.segments.len() {
            self.roll(now_ms)?;
        }
        for _ in 0..n {
            if let Some((base, seg)) = self.segments.pop_first() {
                tracing::info!(dir = %self.dir.display(), base, "retention deleted a segment");
                seg.delete()?;
            }
        }
        let log_start = self.log_start_offset();
        self.txn_index.trim(log_start)?;
        Ok(n)
    }

    /// Total bytes of all segment files.
    pub fn size_bytes(&self) -> u64 {
        self.segments.values().map(Segment::size).sum()
    }

    /// Removes the partition directory with all its files. Fetches in flight keep reading
    /// their (now unlinked) files.
    ///
    /// # Errors
    /// I/O errors removing files.
    pub fn delete(mut self) -> Result<(), LogError> {
        let segments = std::mem::take(&mut self.segments);
        for seg in segments.into_values() {
            seg.delete()?;
        }
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

impl Drop for PartitionLog {
    /// A clean close, like Kafka's: the active segment's indexes get their final entry and
    /// are trimmed, so the next open trusts them.
    fn drop(&mut self) {
        if let Some(seg) = self.segments.values_mut().next_back() {
            if let Err(e) = seg.close_indexes().and_then(|()| seg.flush()) {
                tracing::warn!(dir = %self.dir.display(), error = %e, "closing the partition log");
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
