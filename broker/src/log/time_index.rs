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

use super::sparse_index::{IndexEntry, SparseIndex};

/// A segment's `.timeindex`.
pub type TimeIndex = SparseIndex<TimestampOffset>;

/// One time index entry, in absolute offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampOffset {
    pub timestamp: i64,
    pub offset: i64,
}

impl IndexEntry for TimestampOffset {
    const SIZE: usize = 12;

    fn decode(e: &[u8], base_offset: i64) -> Self {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&e[..8]);
        TimestampOffset {
            timestamp: i64::from_be_bytes(ts),
            offset: base_offset + u32::from_be_bytes([e[8], e[9], e[10], e[11]]) as i64,
        }
    }
}

impl TimeIndex {
    /// Opens (creating if absent) the time index of the segment based at `base_offset`,
    /// keeping the longest prefix of entries whose timestamps strictly grow (so the zero tail
    /// of a file left preallocated by a crash is dropped).
    ///
    /// # Errors
    /// I/O errors opening or mapping the file.
    pub fn open(path: &Path, base_offset: i64) -> io::Result<TimeIndex> {
        let mut index = Self::open_file(path, base_offset)?;
        index.keep_sane_prefix(|prev, e| match prev {
            None => e.timestamp != 0 || e.offset != base_offset,
            Some(p) => e.timestamp > p.timestamp && e.offset >= p.offset,
        });
        Ok(index)
    }

    /// Entries that can still be added, keeping one slot free for the final entry written
    /// when the segment rolls (so the last entry is always the segment's largest timestamp).
    pub fn room(&self) -> usize {
        self.capacity().saturating_sub(self.entries() + 1)
    }

    /// Appends `(timestamp, offset)` if `timestamp` is larger than the last entry's (Kafka's
    /// `maybeAppend`). Returns `false` if nothing was added.
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64) -> bool {
        let rel = offset - self.base_offset();
        if !(0..=u32::MAX as i64).contains(&rel) || timestamp < 0 {
            return false;
        }
        if let Some(last) = self.last_entry() {
            if timestamp <= last.timestamp || offset < last.offset {
                return false;
            }
        }
        let mut e = [0u8; TimestampOffset::SIZE];
        e[..8].copy_from_slice(&timestamp.to_be_bytes());
        e[8..].copy_from_slice(&(rel as u32).to_be_bytes());
        self.push(&e)
    }

    /// The largest entry with timestamp <= `timestamp`, or `None` if there is none (then
    /// the search starts at the segment's first batch).
    pub fn lookup(&self, timestamp: i64) -> Option<TimestampOffset> {
        self.floor(|e| e.timestamp <= timestamp)
    }

    /// Keeps only the entries with offset < `end_offset` (after the log was truncated).
    pub fn truncate_to(&mut self, end_offset: i64) {
        self.truncate_back(|e| e.offset >= end_offset);
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
