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

use memmap2::{MmapMut, MmapOptions};

/// A memory-mapped file of `entry_size`-byte entries; `entries` of them are in use.
#[derive(Debug)]
pub(crate) struct IndexFile {
    path: PathBuf,
    /// `None` while the file is empty (mapping zero bytes is not portable).
    mmap: Option<MmapMut>,
    entry_size: usize,
    entries: usize,
}

impl IndexFile {
    /// Opens (creating if absent) and maps the file at its current length. The entry count
    /// starts as the number of whole entries in the file; the caller may lower it.
    pub(crate) fn open(path: &Path, entry_size: usize) -> io::Result<IndexFile> {
        let file = Self::open_file(path)?;
        let len = file.metadata()?.len() as usize;
        let mut index = IndexFile {
            path: path.to_path_buf(),
            mmap: None,
            entry_size,
            entries: len / entry_size,
        };
        index.map(&file, len)?;
        Ok(index)
    }

    fn open_file(path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    }

    fn map(&mut self, file: &File, len: usize) -> io::Result<()> {
        self.mmap = None;
        if len > 0 {
            // SAFETY: the file belongs to this partition directory, which only this broker
            // writes; it is never shrunk while mapped (`resize` unmaps first), so the mapping
            // never covers bytes past the end of the file.
            self.mmap = Some(unsafe { MmapOptions::new().len(len).map_mut(file)? });
        }
        Ok(())
    }

    fn mapped_len(&self) -> usize {
        self.mmap.as_ref().map_or(0, |m| m.len())
    }

    /// Sets the file length to `bytes` (rounded down to whole entries) and maps it again.
    fn resize(&mut self, bytes: usize) -> io::Result<()> {
        let bytes = bytes / self.entry_size * self.entry_size;
        let file = Self::open_file(&self.path)?;
        if bytes == self.mapped_len() && bytes == file.metadata()?.len() as usize {
            return Ok(());
        }
        if let Some(m) = &self.mmap {
            m.flush()?;
        }
        self.mmap = None;
        file.set_len(bytes as u64)?;
        self.entries = self.entries.min(bytes / self.entry_size);
        self.map(&file, bytes)
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
        self.mapped_len() / self.entry_size
    }

    /// The file's length in bytes (entries in use or not).
    pub(crate) fn file_len(&self) -> usize {
        self.mapped_len()
    }

    /// Entry `i`, which may be beyond the entries in use but must be within the capacity.
    pub(crate) fn raw_entry(&self, i: usize) -> &[u8] {
        let at = i * self.entry_size;
        match &self.mmap {
            Some(m) if at + self.entry_size <= m.len() => &m[at..at + self.entry_size],
            _ => &[],
        }
    }

    /// Appends an entry; `false` if the file is full.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> bool {
        debug_assert_eq!(bytes.len(), self.entry_size);
        let at = self.entries * self.entry_size;
        match &mut self.mmap {
            Some(m) if at + self.entry_size <= m.len() => {
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
        match &self.mmap {
            Some(m) => m.flush(),
            None => Ok(()),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Unmaps and removes the file.
    pub(crate) fn remove(mut self) -> io::Result<()> {
        self.mmap = None;
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
        let f = IndexFile::open(&path, 8).unwrap();
        assert_eq!(f.entries(), 2);
        assert_eq!(f.raw_entry(1), &[2; 8]);
    }
}
