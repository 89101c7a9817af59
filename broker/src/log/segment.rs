//! One segment: a `.log` file of record batches plus its `.index` and `.timeindex`.
//!
//! Appends go to the end of the `.log` with positioned writes (`pwrite`), reads with
//! positioned reads (`pread`) or, for fetches, by handing the file and a byte range to the
//! server for `sendfile`. `size` only ever advances after the bytes are written, so every
//! byte below it is readable by a concurrent fetch.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::batch::{BatchHeader, ValidBatch, HEADER_LEN};
use super::offset_index::OffsetIndex;
use super::time_index::TimeIndex;
use super::LogError;

/// The largest position an index entry can hold: segments stay below it (Kafka caps
/// `segment.bytes` at `Int.MaxValue` for the same reason).
pub const MAX_SEGMENT_BYTES: u64 = i32::MAX as u64;

/// `<base:020>`, the stem of all three file names.
pub fn file_stem(base_offset: i64) -> String {
    format!("{base_offset:020}")
}

/// The `.log`, `.index` and `.timeindex` paths of the segment based at `base_offset`.
pub fn segment_paths(dir: &Path, base_offset: i64) -> (PathBuf, PathBuf, PathBuf) {
    let stem = file_stem(base_offset);
    (
        dir.join(format!("{stem}.log")),
        dir.join(format!("{stem}.index")),
        dir.join(format!("{stem}.timeindex")),
    )
}

/// One segment of a partition log.
#[derive(Debug)]
pub struct Segment {
    base_offset: i64,
    log: Arc<File>,
    log_path: PathBuf,
    /// Bytes of whole, valid batches; the file is never longer once recovered.
    size: u64,
    pub(crate) offset_index: OffsetIndex,
    pub(crate) time_index: TimeIndex,
    /// The offset after the last batch (the base offset while empty).
    next_offset: i64,
    /// The largest batch max timestamp in the segment, -1 if none.
    max_timestamp: i64,
    /// The last offset of the first batch carrying `max_timestamp`.
    offset_of_max_timestamp: i64,
    /// Max timestamp of the segment's first batch: what time-based rolling measures from.
    rolling_timestamp: Option<i64>,
    /// Log bytes appended since the last offset index entry.
    bytes_since_index_entry: u64,
    /// Wall-clock time the segment was created or opened, for rolling when batches carry
    /// no timestamp.
    created_ms: i64,
}

/// Where the state of a segment stands after its batches were scanned (recovery) — the
/// fields `Segment::append` maintains.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanState {
    pub size: u64,
    pub next_offset: i64,
    pub max_timestamp: i64,
    pub offset_of_max_timestamp: i64,
    pub rolling_timestamp: Option<i64>,
    pub bytes_since_index_entry: u64,
}

impl Segment {
    /// Creates a new, empty segment (replacing stale files of the same name), with indexes
    /// preallocated to `max_index_bytes`.
    ///
    /// # Errors
    /// I/O errors creating the files.
    pub fn create(
        dir: &Path,
        base_offset: i64,
        max_index_bytes: u32,
        now_ms: i64,
    ) -> Result<Segment, LogError> {
        let (log_path, index_path, time_path) = segment_paths(dir, base_offset);
        for p in [&index_path, &time_path] {
            match std::fs::remove_file(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        let log = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&log_path)?;
        let mut segment = Segment::with_log(dir, base_offset, log, now_ms)?;
        segment.offset_index.preallocate(max_index_bytes as usize)?;
        segment.time_index.preallocate(max_index_bytes as usize)?;
        Ok(segment)
    }

    /// Opens an existing segment's files as they are (creating missing index files empty).
    /// State that needs the batches (`next_offset`, timestamps) is filled in by recovery or
    /// from the indexes with [`Segment::load_from_indexes`].
    ///
    /// # Errors
    /// I/O errors opening the files.
    pub fn open(dir: &Path, base_offset: i64, now_ms: i64) -> Result<Segment, LogError> {
        let (log_path, _, _) = segment_paths(dir, base_offset);
        let log = OpenOptions::new().read(true).write(true).open(&log_path)?;
        Segment::with_log(dir, base_offset, log, now_ms)
    }

    /// The segment over the open `log` file, with its index files opened (created if
    /// missing); state that needs the batches starts empty.
    fn with_log(dir: &Path, base_offset: i64, log: File, now_ms: i64) -> Result<Segment, LogError> {
        let (log_path, index_path, time_path) = segment_paths(dir, base_offset);
        let size = log.metadata()?.len();
        let offset_index = OffsetIndex::open(&index_path, base_offset)?;
        let time_index = TimeIndex::open(&time_path, base_offset)?;
        Ok(Segment {
            base_offset,
            log: Arc::new(log),
            log_path,
            size,
            offset_index,
            time_index,
            next_offset: base_offset,
            max_timestamp: -1,
            offset_of_max_timestamp: base_offset,
            rolling_timestamp: None,
            bytes_since_index_entry: 0,
            created_ms: now_ms,
        })
    }

    /// Sets the timestamps of a closed segment from its time index (whose last entry is the
    /// segment's largest timestamp).
    pub fn load_from_indexes(&mut self) {
        if let Some(last) = self.time_index.last_entry() {
            self.max_timestamp = last.timestamp;
            self.offset_of_max_timestamp = last.offset;
        }
    }

    /// Where an append would start: the state recovery resumes scanning from.
    pub(crate) fn scan_state(&self) -> ScanState {
        ScanState {
            size: self.size,
            next_offset: self.next_offset,
            max_timestamp: self.max_timestamp,
            offset_of_max_timestamp: self.offset_of_max_timestamp,
            rolling_timestamp: self.rolling_timestamp,
            bytes_since_index_entry: self.bytes_since_index_entry,
        }
    }

    /// Adopts the state recovery computed.
    pub(crate) fn set_scan_state(&mut self, s: ScanState) {
        self.size = s.size;
        self.next_offset = s.next_offset;
        self.max_timestamp = s.max_timestamp;
        self.offset_of_max_timestamp = s.offset_of_max_timestamp;
        self.rolling_timestamp = s.rolling_timestamp;
        self.bytes_since_index_entry = s.bytes_since_index_entry;
    }

    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// Bytes of batches in the segment.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The offset after the last batch (active segment; closed segments report what was
    /// known when they were last active or scanned).
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// The largest batch max timestamp, -1 if none.
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    /// The last offset of the batch holding `max_timestamp`.
    pub fn offset_of_max_timestamp(&self) -> i64 {
        self.offset_of_max_timestamp
    }

    pub fn rolling_timestamp(&self) -> Option<i64> {
        self.rolling_timestamp
    }

    pub fn created_ms(&self) -> i64 {
        self.created_ms
    }

    /// The `.log` file, shared with in-flight fetches.
    pub fn file(&self) -> &Arc<File> {
        &self.log
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Whether both indexes can take an entry for each of `batches` more batches (one append
    /// adds at most one entry per batch); if not, the segment must roll first.
    pub fn has_index_room(&self, batches: usize) -> bool {
        self.offset_index.room() >= batches.max(1) && self.time_index.room() >= batches.max(1)
    }

    /// Appends validated batches whose base offsets were already patched. `bytes` holds them
    /// back to back; `batches` describes them. Index entries are added per Kafka's rule.
    ///
    /// # Errors
    /// I/O errors writing; the file is cut back to its previous size so no partial batch
    /// stays behind.
    pub fn append(
        &mut self,
        bytes: &[u8],
        batches: &[ValidBatch],
        index_interval_bytes: u32,
    ) -> Result<(), LogError> {
        let start = self.size;
        if let Err(e) = self.log.write_all_at(bytes, start) {
            let _ = self.log.set_len(start);
            return Err(e.into());
        }
        for b in batches {
            let position = start + b.position as u64;
            self.account_batch(&b.header, position, index_interval_bytes);
        }
        self.size = start + bytes.len() as u64;
        Ok(())
    }

    /// Updates indexes and counters for one batch at `position` (append and recovery).
    pub(crate) fn account_batch(
        &mut self,
        header: &BatchHeader,
        position: u64,
        index_interval_bytes: u32,
    ) {
        if header.max_timestamp > self.max_timestamp {
            self.max_timestamp = header.max_timestamp;
            self.offset_of_max_timestamp = header.last_offset();
        }
        if self.rolling_timestamp.is_none() {
            self.rolling_timestamp = Some(header.max_timestamp);
        }
        if self.bytes_since_index_entry > index_interval_bytes as u64 {
            self.offset_index
                .append(header.last_offset(), position as u32);
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp);
            self.bytes_since_index_entry = 0;
        }
        self.bytes_since_index_entry += header.size() as u64;
        self.next_offset = header.next_offset();
    }

    /// Reads the batch header at `position`; `Ok(None)` at or past the end of the batches.
    ///
    /// # Errors
    /// I/O errors; `CorruptBatch` if the bytes there are not a batch header.
    pub fn header_at(&self, position: u64) -> Result<Option<BatchHeader>, LogError> {
        HeaderCursor::new(self).header_at(position)
    }

    /// Calls `f` with every batch header of the segment, first to last (one buffered
    /// forward scan; only headers are read).
    ///
    /// # Errors
    /// I/O errors; `CorruptBatch` if the scan meets bytes that are not a batch.
    pub fn for_each_header(&self, mut f: impl FnMut(&BatchHeader)) -> Result<(), LogError> {
        let mut position = 0;
        let mut cursor = HeaderCursor::new(self);
        while let Some(h) = cursor.header_at(position)? {
            f(&h);
            position += h.size() as u64;
        }
        Ok(())
    }

    /// The first batch whose last offset is >= `offset`: its position and header. `None` if
    /// every batch of the segment ends before `offset`.
    ///
    /// # Errors
    /// I/O errors; `CorruptBatch` if the scan meets bytes that are not a batch.
    pub fn find_batch(&self, offset: i64) -> Result<Option<(u64, BatchHeader)>, LogError> {
        let mut position = self.offset_index.lookup(offset).position as u64;
        let mut cursor = HeaderCursor::new(self);
        while let Some(h) = cursor.header_at(position)? {
            if h.last_offset() >= offset {
                return Ok(Some((position, h)));
            }
            position += h.size() as u64;
        }
        Ok(None)
    }

    /// The end of the run of whole batches starting at the batch boundary `start` that fits
    /// in `max_bytes`, but at least the batch `first` at `start`. Jumps with the offset index
    /// (whose positions are batch boundaries) and scans at most one index interval.
    ///
    /// # Errors
    /// I/O errors; `CorruptBatch` if the scan meets bytes that are not a batch.
    pub fn whole_batches_end(
        &self,
        start: u64,
        first: &BatchHeader,
        max_bytes: u32,
    ) -> Result<u64, LogError> {
        let limit = start + (max_bytes as u64).max(first.size() as u64);
        let mut position = start + first.size() as u64;
        let jump = self.offset_index.lookup_position(limit).position as u64;
        if jump > position {
            position = jump;
        }
        let mut cursor = HeaderCursor::new(self);
        while let Some(h) = cursor.header_at(position)? {
            if position + h.size() as u64 > limit {
                break;
            }
            position += h.size() as u64;
        }
        Ok(position.min(self.size))
    }

    /// The first batch whose max timestamp is >= `timestamp`: (base offset, max timestamp).
    ///
    /// # Errors
    /// I/O errors; `CorruptBatch` if the scan meets bytes that are not a batch.
    pub fn find_timestamp(&self, timestamp: i64) -> Result<Option<(i64, i64)>, LogError> {
        if self.max_timestamp < timestamp {
            return Ok(None);
        }
        let from = self
            .time_index
            .lookup(timestamp)
            .map_or(self.base_offset, |e| e.offset);
        let mut position = self.offset_index.lookup(from).position as u64;
        let mut cursor = HeaderCursor::new(self);
        while let Some(h) = cursor.header_at(position)? {
            if h.max_timestamp >= timestamp {
                return Ok(Some((h.base_offset, h.max_timestamp)));
            }
            position += h.size() as u64;
        }
        Ok(None)
    }

    /// Readies a closed segment: adds the final time index entry (the segment's largest
    /// timestamp) and trims both indexes to their entries.
    ///
    /// # Errors
    /// I/O errors resizing the index files.
    pub fn close_indexes(&mut self) -> Result<(), LogError> {
        if self.max_timestamp >= 0 {
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp);
        }
        self.offset_index.trim()?;
        self.time_index.trim()?;
        Ok(())
    }

    /// Drops both index mappings until the next lookup (a closed segment after open).
    pub fn release_indexes(&mut self) {
        self.offset_index.release();
        self.time_index.release();
    }

    /// Preallocates both indexes (the segment becomes active again after a restart).
    ///
    /// # Errors
    /// I/O errors resizing the index files.
    pub fn open_indexes(&mut self, max_index_bytes: u32) -> Result<(), LogError> {
        self.offset_index.preallocate(max_index_bytes as usize)?;
        self.time_index.preallocate(max_index_bytes as usize)?;
        Ok(())
    }

    /// Cuts the `.log` to `size` bytes and drops index entries past it (recovery).
    ///
    /// # Errors
    /// I/O errors truncating.
    pub fn truncate_to(&mut self, size: u64, next_offset: i64) -> Result<(), LogError> {
        self.log.set_len(size)?;
        self.size = size;
        self.offset_index.truncate_to(size, next_offset);
        self.time_index.truncate_to(next_offset);
        Ok(())
    }

    /// fsyncs the `.log` and writes the index pages.
    ///
    /// # Errors
    /// I/O errors of `fsync`/`msync`.
    pub fn flush(&self) -> Result<(), LogError> {
        self.log.sync_data()?;
        self.offset_index.flush()?;
        self.time_index.flush()?;
        Ok(())
    }

    /// Removes the three files. Fetches holding the `Arc<File>` keep reading the unlinked
    /// file until they drop it.
    ///
    /// # Errors
    /// I/O errors other than a file being gone already.
    pub fn delete(self) -> Result<(), LogError> {
        let Segment {
            log_path,
            offset_index,
            time_index,
            ..
        } = self;
        offset_index.remove()?;
        time_index.remove()?;
        match std::fs::remove_file(&log_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Reads batch headers through one 8 KiB buffer, so a forward scan over an index interval
/// (4 KiB by default) costs one `pread` instead of one per batch.
struct HeaderCursor<'a> {
    seg: &'a Segment,
    buf: [u8; 8192],
    /// File position of `buf[0]`, and how many bytes of `buf` are valid.
    start: u64,
    len: usize,
}

impl<'a> HeaderCursor<'a> {
    fn new(seg: &'a Segment) -> Self {
        HeaderCursor {
            seg,
            buf: [0; 8192],
            start: 0,
            len: 0,
        }
    }

    fn header_at(&mut self, position: u64) -> Result<Option<BatchHeader>, LogError> {
        let size = self.seg.size;
        if position + HEADER_LEN as u64 > size {
            return Ok(None);
        }
        if position < self.start || position + HEADER_LEN as u64 > self.start + self.len as u64 {
            let n = (size - position).min(self.buf.len() as u64) as usize;
            self.seg.log.read_exact_at(&mut self.buf[..n], position)?;
            self.start = position;
            self.len = n;
        }
        let at = (position - self.start) as usize;
        let corrupt = |reason| LogError::CorruptBatch {
            position: position as usize,
            reason,
        };
        match BatchHeader::parse(&self.buf[at..self.len]) {
            Ok(Some(h)) if position + h.size() as u64 <= size => Ok(Some(h)),
            Ok(_) => Err(corrupt("batch runs past the segment end")),
            Err(LogError::CorruptBatch { reason, .. }) => Err(corrupt(reason)),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::batch::{patch_base_offset, test_support::batch_of, validate_batches};
    use super::*;

    fn append(seg: &mut Segment, n: usize, ts: i64) -> i64 {
        let mut b = batch_of(n, 100, ts);
        let base = seg.next_offset();
        patch_base_offset(&mut b, base);
        let v = validate_batches(&b, 1 << 20).unwrap();
        seg.append(&b, &v, 4096).unwrap();
        base
    }

    #[test]
    fn append_find_and_slice() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 0, 1 << 16, 0).unwrap();
        for i in 0..200 {
            append(&mut seg, 5, 1000 + i);
        }
        assert_eq!(seg.next_offset(), 1000);
        assert!(seg.offset_index.entries() > 10);
        let (pos, h) = seg.find_batch(502).unwrap().unwrap();
        assert_eq!(h.base_offset, 500);
        assert_eq!(pos, 100 * h.size() as u64);
        let end = seg
            .whole_batches_end(pos, &h, 3 * h.size() as u32 + 10)
            .unwrap();
        assert_eq!(end - pos, 3 * h.size() as u64);
        let end = seg.whole_batches_end(pos, &h, 0).unwrap();
        assert_eq!(end - pos, h.size() as u64);
        let end = seg.whole_batches_end(pos, &h, u32::MAX).unwrap();
        assert_eq!(end, seg.size());
        assert!(seg.find_batch(1000).unwrap().is_none());
        assert_eq!(seg.find_timestamp(1100).unwrap(), Some((480, 1100)));
        assert_eq!(seg.find_timestamp(0).unwrap(), Some((0, 1004)));
        assert_eq!(seg.find_timestamp(5000).unwrap(), None);
        assert!(std::fs::metadata(dir.path().join("00000000000000000000.log")).is_ok());
    }
}
