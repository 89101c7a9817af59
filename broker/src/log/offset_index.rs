//! The sparse offset index of one segment, Kafka's `.index` format.
//!
//! ```text
//! entry (8 bytes, big endian):  relative offset u32 | file position u32
//! ```
//!
//! Like Kafka's `LogSegment.append`, an entry is added for a batch once more than
//! `index.interval.bytes` of log were written since the last entry; it maps the batch's
//! *last* offset to the batch's *start* position. So for a target offset, the largest entry
//! with offset <= target gives a position at or before the batch holding the target, and a
//! short forward scan of batch headers finds it. Entries grow strictly in both fields.

use std::io;
use std::path::Path;

use super::sparse_index::{IndexEntry, SparseIndex};

/// A segment's `.index`.
pub type OffsetIndex = SparseIndex<OffsetPosition>;

/// One index entry, in absolute offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPosition {
    pub offset: i64,
    pub position: u32,
}

impl IndexEntry for OffsetPosition {
    const SIZE: usize = 8;

    fn decode(e: &[u8], base_offset: i64) -> Self {
        OffsetPosition {
            offset: base_offset + u32::from_be_bytes([e[0], e[1], e[2], e[3]]) as i64,
            position: u32::from_be_bytes([e[4], e[5], e[6], e[7]]),
        }
    }
}

impl OffsetIndex {
    /// Opens (creating if absent) the index of the segment based at `base_offset`. The entry
    /// count is the longest prefix of strictly growing entries, so the zero tail of a file
    /// left preallocated by a crash is not taken for entries.
    ///
    /// # Errors
    /// I/O errors opening or mapping the file.
    pub fn open(path: &Path, base_offset: i64) -> io::Result<OffsetIndex> {
        let mut index = Self::open_file(path, base_offset)?;
        let n = index.entries();
        let grows =
            |p: OffsetPosition, e: OffsetPosition| e.offset > p.offset && e.position > p.position;
        let sane_tail = n < 2 || grows(index.get(n - 2), index.get(n - 1));
        if !sane_tail || (n > 0 && index.get(0).position == 0) {
            index.keep_sane_prefix(|prev, e| match prev {
                None => e.position > 0,
                Some(p) => grows(p, e),
            });
        }
        Ok(index)
    }

    /// Entries that can still be added before the file is full.
    pub fn room(&self) -> usize {
        self.capacity().saturating_sub(self.entries())
    }

    /// Appends an entry. Returns `false` (and adds nothing) if the index is full or the entry
    /// does not grow both fields past the last one, or lies outside this segment's range.
    pub fn append(&mut self, offset: i64, position: u32) -> bool {
        let rel = offset - self.base_offset();
        if !(0..=u32::MAX as i64).contains(&rel) {
            return false;
        }
        if let Some(last) = self.last_entry() {
            if offset <= last.offset || position <= last.position {
                return false;
            }
        }
        let mut e = [0u8; OffsetPosition::SIZE];
        e[..4].copy_from_slice(&(rel as u32).to_be_bytes());
        e[4..].copy_from_slice(&position.to_be_bytes());
        self.push(&e)
    }

    /// The largest entry with offset <= `offset`, or (base offset, 0) if there is none.
    pub fn lookup(&self, offset: i64) -> OffsetPosition {
        self.floor(|e| e.offset <= offset)
            .unwrap_or_else(|| self.segment_start())
    }

    /// The largest entry with position <= `position`, or (base offset, 0) if there is none.
    /// Every entry's position is a batch boundary, so this bounds how far a reader must
    /// scan to find the last whole batch ending before `position`.
    pub fn lookup_position(&self, position: u64) -> OffsetPosition {
        self.floor(|e| e.position as u64 <= position)
            .unwrap_or_else(|| self.segment_start())
    }

    fn segment_start(&self) -> OffsetPosition {
        OffsetPosition {
            offset: self.base_offset(),
            position: 0,
        }
    }

    /// Keeps only the entries before the first one with position >= `size` or offset >=
    /// `end_offset` (after the log was truncated).
    pub fn truncate_to(&mut self, size: u64, end_offset: i64) {
        self.truncate_back(|e| !((e.position as u64) < size && e.offset < end_offset));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_the_floor_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000100.index");
        let mut idx = OffsetIndex::open(&path, 100).unwrap();
        idx.preallocate(8 * 10).unwrap();
        assert_eq!(
            idx.lookup(150),
            OffsetPosition {
                offset: 100,
                position: 0
            }
        );
        for i in 1..=5u32 {
            assert!(idx.append(100 + 10 * i as i64, 1000 * i));
        }
        assert!(!idx.append(140, 9000), "offsets must grow");
        assert_eq!(
            idx.lookup(99),
            OffsetPosition {
                offset: 100,
                position: 0
            }
        );
        assert_eq!(
            idx.lookup(110),
            OffsetPosition {
                offset: 110,
                position: 1000
            }
        );
        assert_eq!(
            idx.lookup(119),
            OffsetPosition {
                offset: 110,
                position: 1000
            }
        );
        assert_eq!(
            idx.lookup(1000),
            OffsetPosition {
                offset: 150,
                position: 5000
            }
        );
        assert_eq!(
            idx.lookup_position(2500),
            OffsetPosition {
                offset: 120,
                position: 2000
            }
        );
        assert_eq!(
            idx.lookup_position(10),
            OffsetPosition {
                offset: 100,
                position: 0
            }
        );
        idx.truncate_to(3000, i64::MAX);
        assert_eq!(idx.entries(), 2);
    }

    #[test]
    fn reopen_after_trim_and_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000000.index");
        let mut idx = OffsetIndex::open(&path, 0).unwrap();
        idx.preallocate(8 * 100).unwrap();
        for i in 1..=3u32 {
            idx.append(i as i64 * 5, i * 4096);
        }
        idx.flush().unwrap();
        drop(idx); // untrimmed: 800 bytes of which 24 are entries, like after kill -9
        let idx = OffsetIndex::open(&path, 0).unwrap();
        assert_eq!(idx.entries(), 3);
        assert!(idx.has_slack());
        let mut idx = idx;
        idx.trim().unwrap();
        drop(idx);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 24);
        let idx = OffsetIndex::open(&path, 0).unwrap();
        assert_eq!(
            idx.last_entry(),
            Some(OffsetPosition {
                offset: 15,
                position: 3 * 4096
            })
        );
    }
}
