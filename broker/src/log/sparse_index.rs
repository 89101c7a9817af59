//! What the offset index and the time index share: a sorted run of fixed-size entries of one
//! segment, in `index_file`'s mmap'd file, read as absolute offsets. Each index's own file
//! ([`offset_index`](super::offset_index), [`time_index`](super::time_index)) holds its entry
//! format, the rule an entry must follow to be sane, and its lookups and appends.

use std::io;
use std::marker::PhantomData;
use std::path::Path;

use super::index_file::IndexFile;

/// One entry of a sparse index.
pub trait IndexEntry: Copy {
    /// Bytes per entry on disk, at most 16.
    const SIZE: usize;

    /// Decodes the `SIZE` bytes of an entry of the segment based at `base_offset` (all zero
    /// bytes when the entry cannot be read).
    fn decode(bytes: &[u8], base_offset: i64) -> Self;
}

/// A segment's sparse index of `E` entries, sorted by every field that lookups search.
#[derive(Debug)]
pub struct SparseIndex<E> {
    base_offset: i64,
    file: IndexFile,
    entry: PhantomData<E>,
}

impl<E: IndexEntry> SparseIndex<E> {
    /// Opens (creating if absent) the file, taking every whole entry in it as in use; the
    /// caller then drops the insane tail with [`keep_sane_prefix`](Self::keep_sane_prefix).
    pub(super) fn open_file(path: &Path, base_offset: i64) -> io::Result<Self> {
        Ok(SparseIndex {
            base_offset,
            file: IndexFile::open(path, E::SIZE)?,
            entry: PhantomData,
        })
    }

    /// Keeps the longest prefix of entries in which each one `follows` the one before it
    /// (`None` for the first), so the zero tail of a file left preallocated by a crash is not
    /// taken for entries.
    pub(super) fn keep_sane_prefix(&mut self, follows: impl Fn(Option<E>, E) -> bool) {
        let n = self.entries();
        let mut valid = 0;
        let mut prev = None;
        while valid < n {
            let e = self.get(valid);
            if !follows(prev, e) {
                break;
            }
            prev = Some(e);
            valid += 1;
        }
        self.file.truncate_entries(valid);
    }

    /// The base offset of the segment.
    pub(super) fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// Entry `i` (which must be below the capacity).
    pub(super) fn get(&self, i: usize) -> E {
        const ZEROS: [u8; 16] = [0; 16];
        let bytes = self.file.raw_entry(i);
        let bytes = if bytes.len() < E::SIZE {
            &ZEROS[..E::SIZE]
        } else {
            bytes
        };
        E::decode(bytes, self.base_offset)
    }

    /// Appends encoded entry bytes; `false` if the file is full.
    pub(super) fn push(&mut self, bytes: &[u8]) -> bool {
        self.file.push(bytes)
    }

    /// Entries the file can hold at its current length.
    pub(super) fn capacity(&self) -> usize {
        self.file.capacity()
    }

    /// The last entry for which `at_or_below` holds, `at_or_below` being true for a prefix of
    /// the entries (a binary search).
    pub(super) fn floor(&self, at_or_below: impl Fn(&E) -> bool) -> Option<E> {
        // Index of the first entry past the target.
        let (mut lo, mut hi) = (0usize, self.entries());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if at_or_below(&self.get(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo.checked_sub(1).map(|i| self.get(i))
    }

    /// Drops entries from the end while `drop` holds for the last one.
    pub(super) fn truncate_back(&mut self, drop: impl Fn(&E) -> bool) {
        let mut n = self.entries();
        while n > 0 && drop(&self.get(n - 1)) {
            n -= 1;
        }
        self.file.truncate_entries(n);
    }

    /// Number of entries.
    pub fn entries(&self) -> usize {
        self.file.entries()
    }

    /// Whether the file holds more bytes than its entries (preallocated, or left by a crash).
    pub fn has_slack(&self) -> bool {
        self.file.file_len() != self.file.entries() * E::SIZE
    }

    /// The last entry, if any.
    pub fn last_entry(&self) -> Option<E> {
        self.entries().checked_sub(1).map(|i| self.get(i))
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

    /// The path of the file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}
