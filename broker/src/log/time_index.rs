//! The sparse time index of one segment, Kafka's `.timeindex` format.
//!
//! ```text
//! entry (12 bytes, big endian):  timestamp i64 | relative offset u32
//! ```
//!
//! Written alongside offset index entries (and once more when the segment rolls): the
//! largest batch timestamp seen so far in the segment and the last offset of the batch that
//! carried it. Timestamps strictly grow from entry to entry, so a binary search finds, for a
//! target time, an offset at or before the first batch whose max timestamp reaches it. The
//! last entry is the segment's largest timestamp, which retention reads after a restart.

use std::io;
use std::path::Path;

use super::index_file::IndexFile;

const ENTRY: usize = 12;

/// A segment's `.timeindex`.
#[derive(Debug)]
pub struct TimeIndex {
    base_offset: i64,
    file: IndexFile,
}

/// One time index entry, in absolute offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampOffset {
    pub timestamp: i64,
    pub offset: i64,
}

impl TimeIndex {
    /// Opens (creating if absent) the time index of the segment based at `base_offset`,
    /// keeping the longest prefix of entries whose timestamps strictly grow (so the zero tail
    /// of a file left preallocated by a crash is dropped).
    ///
    /// # Errors
    /// I/O errors opening or mapping the file.
    pub fn open(path: &Path, base_offset: i64) -> io::Result<TimeIndex> {
        let mut index = TimeIndex {
            base_offset,
            file: IndexFile::open(path, ENTRY)?,
        };
        let n = index.file.entries();
        let mut valid = 0;
        let mut prev: Option<(i64, u32)> = None;
        while valid < n {
            let e = index.raw(valid);
            let ok = match prev {
                None => e != (0, 0),
                Some(p) => e.0 > p.0 && e.1 >= p.1,
            };
            if !ok {
                break;
            }
            prev = Some(e);
            valid += 1;
        }
        index.file.truncate_entries(valid);
        Ok(index)
    }

    fn raw(&self, i: usize) -> (i64, u32) {
        let e = self.file.raw_entry(i);
        if e.len() < ENTRY {
            return (0, 0);
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&e[..8]);
        (
            i64::from_be_bytes(ts),
            u32::from_be_bytes([e[8], e[9], e[10], e[11]]),
        )
    }

    fn get(&self, i: usize) -> TimestampOffset {
        let (timestamp, rel) = self.raw(i);
        TimestampOffset {
            timestamp,
            offset: self.base_offset + rel as i64,
        }
    }

    /// Number of entries.
    pub fn entries(&self) -> usize {
        self.file.entries()
    }

    /// Entries that can still be added, keeping one slot free for the final entry written
    /// when the segment rolls (so the last entry is always the segment's largest timestamp).
    pub fn room(&self) -> usize {
        self.file.capacity().saturating_sub(self.file.entries() + 1)
    }

    /// Whether the file holds more bytes than its entries (preallocated, or left by a crash).
    pub fn has_slack(&self) -> bool {
        self.file.file_len() != self.file.entries() * ENTRY
    }

    /// The last entry (the segment's largest timestamp), if any.
    pub fn last_entry(&self) -> Option<TimestampOffset> {
        self.entries().checked_sub(1).map(|i| self.get(i))
    }

    /// Appends `(timestamp, offset)` if `timestamp` is larger than the last entry's (Kafka's
    /// `maybeAppend`). Returns `false` if nothing was added.
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64) -> bool {
        let rel = offset - self.base_offset;
        if !(0..=u32::MAX as i64).contains(&rel) || timestamp < 0 {
            return false;
        }
        if let Some(last) = self.last_entry() {
            if timestamp <= last.timestamp || offset < last.offset {
                return false;
            }
        }
        let mut e = [0u8; ENTRY];
        e[..8].copy_from_slice(&timestamp.to_be_bytes());
        e[8..].copy_from_slice(&(rel as u32).to_be_bytes());
        self.file.push(&e)
    }

    /// The largest entry with timestamp <= `timestamp`, or `None` if there is none (then
    /// the search starts at the segment's first batch).
    pub fn lookup(&self, timestamp: i64) -> Option<TimestampOffset> {
        let (mut lo, mut hi) = (0usize, self.entries());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.get(mid).timestamp <= timestamp {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo.checked_sub(1).map(|i| self.get(i))
    }

    /// Keeps only the entries with offset < `end_offset` (after the log was truncated).
    pub fn truncate_to(&mut self, end_offset: i64) {
        let mut n = self.entries();
        while n > 0 && self.get(n - 1).offset >= end_offset {
            n -= 1;
        }
        self.file.truncate_entries(n);
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.file.truncate_entries(0);
    }

    /// Preallocates the file to `max_bytes` (active segment).
    ///
    /// # Errors
    /// I/O errors resizing or mapping.
    pub fn preallocate(&mut self, max_bytes: usize) -> io::Result<()> {
        self.file.preallocate(max_bytes)
    }

    /// Shrinks the file to its entries.
    ///
    /// # Errors
    /// I/O errors resizing or mapping.
    pub fn trim(&mut self) -> io::Result<()> {
        self.file.trim()
    }

    /// Writes the mapped pages to disk.
    ///
    /// # Errors
    /// I/O errors of `msync`.
    pub fn flush(&self) -> io::Result<()> {
        self.file.flush()
    }

    /// Drops the mapping until the next lookup (closed segments).
    pub fn release(&mut self) {
        self.file.release();
    }

    /// Unmaps and deletes the file.
    ///
    /// # Errors
    /// I/O errors other than the file being gone already.
    pub fn remove(self) -> io::Result<()> {
        self.file.remove()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_monotonic_and_lookup_floors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000010.timeindex");
        let mut idx = TimeIndex::open(&path, 10).unwrap();
        idx.preallocate(12 * 10).unwrap();
        assert!(idx.maybe_append(1000, 12));
        assert!(!idx.maybe_append(1000, 15), "timestamps must grow");
        assert!(idx.maybe_append(2000, 20));
        assert!(idx.maybe_append(3000, 30));
        assert_eq!(idx.lookup(999), None);
        assert_eq!(
            idx.lookup(1000),
            Some(TimestampOffset {
                timestamp: 1000,
                offset: 12
            })
        );
        assert_eq!(
            idx.lookup(2500),
            Some(TimestampOffset {
                timestamp: 2000,
                offset: 20
            })
        );
        assert_eq!(
            idx.lookup(i64::MAX),
            Some(TimestampOffset {
                timestamp: 3000,
                offset: 30
            })
        );
        drop(idx);
        let mut idx = TimeIndex::open(&path, 10).unwrap();
        assert_eq!(
            idx.entries(),
            3,
            "zero tail of the preallocated file is not entries"
        );
        idx.truncate_to(20);
        assert_eq!(
            idx.last_entry(),
            Some(TimestampOffset {
                timestamp: 1000,
                offset: 12
            })
        );
    }
}
