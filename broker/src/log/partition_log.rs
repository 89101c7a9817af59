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

use super::batch::{patch_base_offset, patch_leader_epoch, validate_batches};
use super::recovery::{closed_indexes_agree, rebuild, recover_active};
use super::retention::{segments_to_delete, SegmentStats};
use super::segment::{segment_paths, Segment, MAX_SEGMENT_BYTES};
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
        let mut log = PartitionLog {
            dir,
            config,
            segments: BTreeMap::new(),
            unflushed_messages: 0,
            last_flush_ms: now,
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
        let (log_start, log_end) = (self.log_start_offset(), self.log_end_offset());
        if offset < log_start || offset > log_end {
            return Err(LogError::OffsetOutOfRange {
                requested: offset,
                log_start,
                log_end,
            });
        }
        if offset < log_end {
            let first = self
                .segments
                .range(..=offset)
                .next_back()
                .map_or(log_start, |(base, _)| *base);
            for seg in self.segments.range(first..).map(|(_, s)| s) {
                if let Some((position, header)) = seg.find_batch(offset)? {
                    let end = seg.whole_batches_end(position, &header, max_bytes)?;
                    let len = u32::try_from(end - position).unwrap_or(u32::MAX);
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
pub(crate) mod test_support {
    //! Helpers shared by the log tests: a small config, and reading a fetched slice back.
    use std::os::unix::fs::FileExt;
    use std::path::Path;

    use super::super::batch::test_support::batch_of;
    use super::super::batch::BatchHeader;
    use super::{FetchSlice, LogConfig, PartitionLog};

    pub(crate) fn small_config() -> LogConfig {
        LogConfig {
            index_interval_bytes: 256,
            max_index_bytes: 4096,
            ..LogConfig::default()
        }
    }

    pub(crate) fn bytes_of(slice: &FetchSlice) -> Vec<u8> {
        let mut buf = vec![0u8; slice.len as usize];
        slice.file.read_exact_at(&mut buf, slice.position).unwrap();
        buf
    }

    /// The (base offset, record count) of each batch in a fetched slice.
    pub(crate) fn batches_in(bytes: &[u8]) -> Vec<(i64, i32)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let h = BatchHeader::parse(&bytes[at..]).unwrap().unwrap();
            h.check_crc(&bytes[at..at + h.size()]).unwrap();
            out.push((h.base_offset, h.record_count));
            at += h.size();
        }
        out
    }

    pub(crate) fn append_n(log: &mut PartitionLog, batches: usize, records: usize, ts: i64) {
        for i in 0..batches {
            let mut b = batch_of(records, 50, ts + i as i64);
            log.append(&mut b, ts + i as i64).unwrap();
        }
    }

    pub(crate) fn file_names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    /// Simulates `kill -9`: the log is never dropped, so nothing is trimmed or flushed by us.
    pub(crate) fn crash(log: PartitionLog) {
        std::mem::forget(log);
    }
}

#[cfg(test)]
mod tests {
    use super::super::batch::test_support::{batch, batch_of};
    use super::test_support::*;
    use super::*;

    #[test]
    fn append_and_read_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 0));
        let mut b = batch(&[b"one", b"two", b"three"], 1000);
        let info = log.append(&mut b, 1000).unwrap();
        assert_eq!(
            info,
            AppendInfo {
                base_offset: 0,
                last_offset: 2,
                record_count: 3,
                log_start_offset: 0
            }
        );
        let mut b2 = batch(&[b"four"], 1001);
        assert_eq!(log.append(&mut b2, 1001).unwrap().base_offset, 3);
        assert_eq!(log.log_end_offset(), 4);

        let s = log.read(0, 1 << 20).unwrap();
        let got = bytes_of(&s);
        assert_eq!(batches_in(&got), vec![(0, 3), (3, 1)]);
        assert_eq!(&got[..b.len()], &b[..], "stored exactly as patched");
        assert_eq!(&got[12..16], &LEADER_EPOCH.to_be_bytes());
        assert_eq!(
            file_names(log.dir()),
            [
                "00000000000000000000.index",
                "00000000000000000000.log",
                "00000000000000000000.timeindex"
            ]
        );
    }

    #[test]
    fn read_inside_a_batch_returns_that_batch() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
        append_n(&mut log, 100, 10, 0);
        for offset in [0, 5, 9, 10, 555, 999] {
            let s = log.read(offset, 1).unwrap();
            assert_eq!(
                batches_in(&bytes_of(&s)),
                vec![(offset / 10 * 10, 10)],
                "offset {offset}"
            );
        }
    }

    #[test]
    fn max_bytes_gives_whole_batches_and_at_least_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
        append_n(&mut log, 200, 2, 0);
        let one = log.read(0, 0).unwrap().len;
        assert_eq!(batches_in(&bytes_of(&log.read(0, 0).unwrap())).len(), 1);
        assert_eq!(log.read(0, one).unwrap().len, one);
        assert_eq!(log.read(0, 2 * one - 1).unwrap().len, one);
        for n in [2u32, 7, 50, 150] {
            let s = log.read(20, n * one + one / 2).unwrap();
            assert_eq!(s.len, n * one, "{n} batches");
            assert_eq!(batches_in(&bytes_of(&s))[0].0, 20);
        }
        assert_eq!(log.read(0, u32::MAX).unwrap().len as u64, log.size_bytes());
    }

    #[test]
    fn out_of_range_and_log_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
        assert_eq!(
            log.read(0, 100).unwrap().len,
            0,
            "empty log, offset 0 = log end"
        );
        append_n(&mut log, 3, 2, 0);
        assert_eq!(log.read(6, 100).unwrap().len, 0);
        assert!(matches!(
            log.read(7, 100),
            Err(LogError::OffsetOutOfRange {
                requested: 7,
                log_start: 0,
                log_end: 6
            })
        ));
        assert!(matches!(
            log.read(-1, 100),
            Err(LogError::OffsetOutOfRange { .. })
        ));
    }

    #[test]
    fn invalid_batches_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path().join("t-0"), small_config()).unwrap();
        append_n(&mut log, 1, 2, 0);
        let size = log.size_bytes();
        let mut good_then_bad = batch(&[b"a"], 0);
        let mut bad = batch(&[b"b"], 0);
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        good_then_bad.extend(bad);
        assert!(matches!(
            log.append(&mut good_then_bad, 0),
            Err(LogError::CorruptBatch { .. })
        ));
        let mut big = batch_of(1, 2_000_000, 0);
        assert!(matches!(
            log.append(&mut big, 0),
            Err(LogError::MessageTooLarge { .. })
        ));
        assert!(log.append(&mut [0u8; 3], 0).is_err());
        assert_eq!((log.log_end_offset(), log.size_bytes()), (2, size));
    }

    #[test]
    fn rolls_by_size_and_reads_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 2000,
            ..small_config()
        };
        let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
        append_n(&mut log, 100, 3, 0);
        assert!(log.segment_count() > 5);
        for seg in log.segments.values() {
            assert!(seg.size() <= 2000);
        }
        for offset in (0..300).step_by(7) {
            let s = log.read(offset, 500).unwrap();
            let got = batches_in(&bytes_of(&s));
            assert_eq!(got[0].0, offset / 3 * 3);
        }
        let second = *log.segments.keys().nth(1).unwrap();
        assert!(file_names(log.dir()).contains(&format!("{second:020}.log")));
        // Closed segments' indexes are trimmed to their entries, like Kafka's.
        let (_, index, _) = segment_paths(log.dir(), 0);
        assert_eq!(std::fs::metadata(index).unwrap().len() % 8, 0);
        assert!(
            std::fs::metadata(segment_paths(log.dir(), 0).1)
                .unwrap()
                .len()
                < 4096
        );
    }

    #[test]
    fn rolls_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_ms: Some(1000),
            ..small_config()
        };
        let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
        log.append(&mut batch(&[b"a"], 10_000), 10_000).unwrap();
        log.append(&mut batch(&[b"b"], 10_900), 10_900).unwrap();
        assert_eq!(log.segment_count(), 1);
        log.append(&mut batch(&[b"c"], 11_100), 11_100).unwrap();
        assert_eq!(log.segment_count(), 2);
        assert_eq!(*log.segments.keys().next_back().unwrap(), 2);
        // enforce_retention rolls an idle active segment once it is old enough.
        log.enforce_retention(11_500).unwrap();
        assert_eq!(log.segment_count(), 2);
        log.enforce_retention(12_200).unwrap();
        assert_eq!(log.segment_count(), 3);
        assert_eq!(log.log_end_offset(), 3);
    }

    #[test]
    fn rolls_by_wall_time_when_batches_carry_no_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_ms: Some(1000),
            ..small_config()
        };
        let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
        let now = wall_clock_ms();
        log.append(&mut batch(&[b"a"], -1), now).unwrap();
        log.append(&mut batch(&[b"b"], -1), now + 500).unwrap();
        assert_eq!(log.segment_count(), 1);
        log.append(&mut batch(&[b"c"], -1), now + 5_000).unwrap();
        assert_eq!(log.segment_count(), 2);
        assert_eq!(log.max_timestamp(), None);
        assert_eq!(log.offset_for_timestamp(0).unwrap(), None);
    }

    #[test]
    fn rolls_when_an_index_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        // An entry for every batch but the first; room for 3 offset and 4 time entries.
        let config = LogConfig {
            index_interval_bytes: 0,
            max_index_bytes: 48,
            ..small_config()
        };
        {
            let mut log = PartitionLog::open(path.clone(), config.clone()).unwrap();
            append_n(&mut log, 20, 1, 100);
            // Several batches in one append must fit the index room too.
            let mut three = batch(&[b"a"], 200);
            three.extend(batch(&[b"b"], 201));
            three.extend(batch(&[b"c"], 202));
            log.append(&mut three, 0).unwrap();
            assert!(log.segment_count() >= 5);
            for seg in log.segments.values().take(log.segment_count() - 1) {
                let last = seg.time_index.last_entry().unwrap();
                assert_eq!(
                    last.timestamp,
                    seg.max_timestamp(),
                    "closed segment keeps its max"
                );
            }
        }
        let log = PartitionLog::open(path, config).unwrap();
        assert_eq!(log.log_end_offset(), 23);
        for offset in 0..23 {
            assert_eq!(
                batches_in(&bytes_of(&log.read(offset, 1).unwrap()))[0].0,
                offset
            );
        }
        assert_eq!(log.offset_for_timestamp(110).unwrap(), Some((10, 110)));
        assert_eq!(log.max_timestamp(), Some((202, 22)));
    }

    #[test]
    fn index_lookup_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        let config = LogConfig {
            segment_bytes: 20_000,
            ..small_config()
        };
        {
            let mut log = PartitionLog::open(path.clone(), config.clone()).unwrap();
            append_n(&mut log, 500, 4, 5_000);
        }
        let log = PartitionLog::open(path, config).unwrap();
        assert_eq!(log.log_end_offset(), 2000);
        assert!(log.segment_count() > 3);
        for offset in (0..2000).step_by(37) {
            let s = log.read(offset, 1).unwrap();
            assert_eq!(batches_in(&bytes_of(&s)), vec![(offset / 4 * 4, 4)]);
        }
        assert_eq!(
            log.offset_for_timestamp(5_000 + 3 + 250).unwrap(),
            Some((1000, 5_000 + 3 + 250))
        );
    }

    #[test]
    fn appends_continue_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        {
            let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
            append_n(&mut log, 50, 2, 0);
        }
        let mut log = PartitionLog::open(path, small_config()).unwrap();
        assert_eq!(
            log.append(&mut batch(&[b"x"], 99), 99).unwrap().base_offset,
            100
        );
        let s = log.read(0, u32::MAX).unwrap();
        assert_eq!(batches_in(&bytes_of(&s)).len(), 51);
    }
    #[test]
    fn timestamp_lookups() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_bytes: 3000,
            ..small_config()
        };
        let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
        assert_eq!(log.offset_for_timestamp(0).unwrap(), None);
        assert_eq!(log.max_timestamp(), None);
        // Batch i (2 records at offsets 2i, 2i+1) has max timestamp 10_000 + 10 i + 1.
        for i in 0..200i64 {
            log.append(&mut batch(&[b"a", b"b"], 10_000 + 10 * i), 0)
                .unwrap();
        }
        assert!(log.segment_count() > 3);
        assert_eq!(log.offset_for_timestamp(0).unwrap(), Some((0, 10_001)));
        assert_eq!(log.offset_for_timestamp(10_001).unwrap(), Some((0, 10_001)));
        assert_eq!(log.offset_for_timestamp(10_002).unwrap(), Some((2, 10_011)));
        assert_eq!(
            log.offset_for_timestamp(10_000 + 10 * 123 + 1).unwrap(),
            Some((246, 11_231))
        );
        assert_eq!(
            log.offset_for_timestamp(10_000 + 10 * 199 + 1).unwrap(),
            Some((398, 11_991))
        );
        assert_eq!(log.offset_for_timestamp(12_000).unwrap(), None);
        assert_eq!(log.max_timestamp(), Some((11_991, 399)));
        // An older timestamp later in the log does not move the answers.
        log.append(&mut batch(&[b"late"], 10_500), 0).unwrap();
        assert_eq!(
            log.offset_for_timestamp(10_500).unwrap(),
            Some((100, 10_501))
        );
        assert_eq!(log.max_timestamp(), Some((11_991, 399)));
    }

    #[test]
    fn flush_interval_messages_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            flush_interval_messages: Some(5),
            ..small_config()
        };
        let mut log = PartitionLog::open(dir.path().join("t-0"), config).unwrap();
        append_n(&mut log, 2, 2, 0);
        assert_eq!(log.unflushed_messages, 4);
        append_n(&mut log, 1, 2, 0);
        assert_eq!(log.unflushed_messages, 0);
        let config = LogConfig {
            flush_interval_ms: Some(100),
            ..small_config()
        };
        let mut log = PartitionLog::open(dir.path().join("t-1"), config).unwrap();
        log.last_flush_ms = 0;
        log.append(&mut batch(&[b"a"], 0), 50).unwrap();
        assert_eq!(log.unflushed_messages, 1);
        assert!(!log.flush_if_due(60).unwrap());
        assert!(log.flush_if_due(150).unwrap());
        assert_eq!(log.unflushed_messages, 0);
    }

    #[test]
    fn delete_removes_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), small_config()).unwrap();
        append_n(&mut log, 5, 1, 0);
        let slice = log.read(0, u32::MAX).unwrap();
        log.delete().unwrap();
        assert!(!path.exists());
        assert_eq!(
            batches_in(&bytes_of(&slice)).len(),
            5,
            "in-flight reads still see the bytes"
        );
    }

    #[test]
    fn stray_files_are_cleaned_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t-0");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("00000000000000000042.index"), [0u8; 16]).unwrap();
        std::fs::write(path.join("00000000000000000007.log.deleted"), b"x").unwrap();
        std::fs::write(path.join("leader-epoch-checkpoint"), b"0\n0\n").unwrap();
        let log = PartitionLog::open(path.clone(), small_config()).unwrap();
        assert_eq!(log.log_end_offset(), 0);
        assert_eq!(
            file_names(&path),
            [
                "00000000000000000000.index",
                "00000000000000000000.log",
                "00000000000000000000.timeindex",
                "leader-epoch-checkpoint"
            ]
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Append {
            batches: usize,
            records: usize,
            value: usize,
        },
        Reopen,
        Crash,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            8 => (1usize..4, 1usize..6, 0usize..300)
                .prop_map(|(batches, records, value)| Op::Append { batches, records, value }),
            1 => Just(Op::Reopen),
            1 => Just(Op::Crash),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

        /// Against a model (the list of batches appended), through rolls, clean reopens and
        /// crashes: every offset reads back as the batch that holds it, whole and valid.
        #[test]
        fn behaves_like_its_model(ops in proptest::collection::vec(op(), 1..40)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t-0");
            let config = LogConfig {
                segment_bytes: 1500,
                index_interval_bytes: 100,
                max_index_bytes: 120,
                ..small_config()
            };
            let mut log = PartitionLog::open(path.clone(), config.clone()).unwrap();
            let mut model: Vec<(i64, i32)> = Vec::new();
            let mut next = 0i64;
            for op in ops {
                match op {
                    Op::Append { batches, records, value } => {
                        let mut bytes = Vec::new();
                        for _ in 0..batches {
                            bytes.extend(batch_of(records, value, next));
                            model.push((next, records as i32));
                            next += records as i64;
                        }
                        let info = log.append(&mut bytes, 0).unwrap();
                        proptest::prop_assert_eq!(info.last_offset, next - 1);
                    }
                    Op::Reopen => {
                        drop(log);
                        log = PartitionLog::open(path.clone(), config.clone()).unwrap();
                    }
                    Op::Crash => {
                        crash(log);
                        log = PartitionLog::open(path.clone(), config.clone()).unwrap();
                    }
                }
                proptest::prop_assert_eq!(log.log_end_offset(), next);
            }
            for &(base, count) in &model {
                for offset in [base, base + count as i64 - 1] {
                    let got = batches_in(&bytes_of(&log.read(offset, 1).unwrap()));
                    proptest::prop_assert_eq!(got, vec![(base, count)]);
                }
            }
            // Batch timestamps equal their offsets, so a time lookup finds the same batch.
            for &(base, count) in model.iter().step_by(3) {
                let last = base + count as i64 - 1;
                proptest::prop_assert_eq!(log.offset_for_timestamp(last).unwrap(), Some((base, last)));
            }
            let all = batches_in(&bytes_of(&log.read(0, u32::MAX).unwrap()));
            proptest::prop_assert_eq!(&all[..], &model[..all.len()]);
        }
    }
}
