//! A file of fixed-size entries mapped into memory: the storage under both the offset index
//! and the time index.
//!
//! Like Kafka, the active segment's index file is preallocated to `log.index.size.max.bytes`
//! (rounded down to whole entries) so appends never grow the file, and trimmed to its entries
//! when the segment rolls or closes. A file that was not trimmed (a crash) therefore ends in
//! zeros; the owning index finds its real entry count with a sanity scan.
//!
//! No file descriptor is kept: a mapping outlives the descriptor it was made from, and a
//! broker with thousands of segments would otherwise hold two descriptors per segment for
//! indexes alone. The file is opened again only to resize it (on open, roll and close).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use memmap2::{MmapMut, MmapOptions};

/// A memory-mapped file of `entry_size`-byte entries; `entries` of them are in use.
///
/// Closed segments [`release`](IndexFile::release) their mappings after the open-time checks
/// and map again on first use, like Kafka's lazy indexes: a restart with thousands of old
/// segments then costs neither mappings (`vm.max_map_count`) nor page faults for them.
#[derive(Debug)]
pub(crate) struct IndexFile {
    path: PathBuf,
    /// The file's length; the mapping, when present, covers exactly this.
    len: usize,
    /// Empty until mapped; `Some(None)` for an empty file (mapping zero bytes is not
    /// portable) or one that could not be mapped.
    mmap: OnceLock<Option<MmapMut>>,
    entry_size: usize,
    entries: usize,
}

impl IndexFile {
    /// Opens (creating if absent) and maps the file at its current length. The entry count
    /// starts as the number of whole entries in the file; the caller may lower it.
    pub(crate) fn open(path: &Path, entry_size: usize) -> io::Result<IndexFile> {
        let file = Self::open_file(path)?;
        let len = file.metadata()?.len() as usize;
        Ok(IndexFile {
            path: path.to_path_buf(),
            len,
            mmap: OnceLock::from(Self::map(&file, len)?),
            entry_size,
            entries: len / entry_size,
        })
    }

    fn open_file(path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    }

    fn map(file: &File, len: usize) -> io::Result<Option<MmapMut>> {
        if len == 0 {
            return Ok(None);
        }
        // SAFETY: the file belongs to this partition directory, which only this broker
        // writes; it is never shrunk while mapped (`resize` unmaps first), so the mapping
        // never covers bytes past the end of the file.
        Ok(Some(unsafe { MmapOptions::new().len(len).map_mut(file)? }))
    }

    /// The mapping, made now if it was released. A file that cannot be mapped any more
    /// reads as no entries: lookups then scan the segment from its start, slower but right.
    fn mapping(&self) -> Option<&MmapMut> {
        self.mmap
            .get_or_init(|| {
                let mapped = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&self.path)
                    .and_then(|f| Self::map(&f, self.len));
                mapped.unwrap_or_else(|e| {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot map an index");
                    None
                })
            })
            .as_ref()
    }

    /// Drops the mapping (a closed segment's, after the open-time checks); the next
    /// lookup maps the file again.
    pub(crate) fn release(&mut self) {
        self.mmap = OnceLock::new();
    }

    /// Sets the file length to `bytes` (rounded down to whole entries) and maps it again.
    fn resize(&mut self, bytes: usize) -> io::Result<()> {
        let bytes = bytes / self.entry_size * self.entry_size;
        let file = Self::open_file(&self.path)?;
        if bytes == self.len && bytes == file.metadata()?.len() as usize {
            return Ok(());
        }
        if let Some(Some(m)) = self.mmap.take() {
            m.flush()?;
        }
        file.set_len(bytes as u64)?;
        self.len = bytes;
        self.entries = self.entries.min(bytes / self.entry_size);
        self.mmap = OnceLock::from(Self::map(&file, bytes)?);
        Ok(())
    }

    /// Preallocates the file to `max_bytes` so it can take entries (active segment).
    pub(crate) fn preallocate(&mut self, max_bytes: usize) -> io::Result<()> {
        self.resize(max_bytes.max(self.entries * self.entry_size))
    }

    /// Shrinks the file to exactly its entries (segment rolled or closed).
    pub(crate) fn trim(&mut self) -> io::Result<()> {
        self.resize(self.entries * self.entry_size)
    }

    /// Entries in use.
    pub(crate) fn entries(&self) -> usize {
        self.entries
    }

    /// Whole entries the file can hold at its current length.
    pub(crate) fn capacity(&self) -> usize {
        self.len / self.entry_size
    }

    /// The file's length in bytes (entries in use or not).
    pub(crate) fn file_len(&self) -> usize {
        self.len
    }

    /// Entry `i`, which may be beyond the entries in use but must be within the capacity
    /// (otherwise, or if the file cannot be mapped, an empty slice).
    pub(crate) fn raw_entry(&self, i: usize) -> &[u8] {
        let at = i * self.entry_size;
        match self.mapping() {
            Some(m) if at + self.entry_size <= m.len() => &m[at..at + self.entry_size],
            _ => &[],
        }
    }

    /// Appends an entry; `false` if the file is full.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> bool {
        debug_assert_eq!(bytes.len(), self.entry_size);
        let at = self.entries * self.entry_size;
        if self.mapping().is_none() {
            return false;
        }
        match self.mmap.get_mut() {
            Some(Some(m)) if at + self.entry_size <= m.len() => {
                m[at..at + self.entry_size].copy_from_slice(bytes);
                self.entries += 1;
                true
            }
            _ => false,
        }
    }

    /// Forgets entries from `n` on (their bytes are overwritten by later pushes or trimmed).
    pub(crate) fn truncate_entries(&mut self, n: usize) {
        self.entries = self.entries.min(n);
    }

    /// Writes dirty pages to disk.
    pub(crate) fn flush(&self) -> io::Result<()> {
        match self.mmap.get() {
            Some(Some(m)) => m.flush(),
            _ => Ok(()),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Unmaps and removes the file.
    pub(crate) fn remove(mut self) -> io::Result<()> {
        self.release();
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preallocate_push_trim_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.index");
        let mut f = IndexFile::open(&path, 8).unwrap();
        assert_eq!(f.entries(), 0);
        assert!(!f.push(&[1; 8]));
        f.preallocate(8 * 3 + 5).unwrap();
        assert_eq!(f.capacity(), 3);
        assert!(f.push(&[1; 8]));
        assert!(f.push(&[2; 8]));
        assert!(f.push(&[3; 8]));
        assert_eq!(f.entries(), f.capacity());
        assert!(!f.push(&[4; 8]));
        f.truncate_entries(2);
        f.trim().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 16);
        drop(f);
        let mut f = IndexFile::open(&path, 8).unwrap();
        assert_eq!(f.entries(), 2);
        f.release();
        assert!(f.mmap.get().is_none());
        assert_eq!(f.raw_entry(1), &[2; 8]);
    }
}
