//! The aborted-transaction index of a partition: what Fetch answers `aborted_transactions`
//! from without scanning the log.
//!
//! ```text
//! <data>/<topic>-<partition>/aborted.txnindex
//!   entries of 34 bytes, Kafka's .txnindex entry format, in marker-offset order:
//!   version i16 (0) | producer_id i64 | first_offset i64 | last_offset i64 | lso i64
//! ```
//!
//! One file per partition instead of one per segment (Kafka's layout): entries are few (one
//! per aborted transaction), so the whole index is kept in memory, and retention drops the
//! entries whose marker fell below the log start, rewriting the file. `last_offset` is the
//! offset of the abort marker. The file is written after the marker is in the log and is not
//! fsynced: on open the log tail is scanned for abort markers past the last entry, so a
//! crash loses nothing (see `producer_state`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::LogError;

const FILE: &str = "aborted.txnindex";
const ENTRY: usize = 34;
/// Entries kept in memory; older ones are dropped (their fetches then see the aborted data).
const MAX_ENTRIES: usize = 1_000_000;

/// One aborted transaction on this partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: i64,
    /// Offset of the transaction's first batch on this partition.
    pub first_offset: i64,
    /// Offset of the abort marker.
    pub last_offset: i64,
    /// The partition's last stable offset when the marker was written.
    pub last_stable_offset: i64,
}

/// The aborted transactions of one partition, oldest marker first.
#[derive(Debug)]
pub struct TxnIndex {
    path: PathBuf,
    /// Opened (created) at the first entry: partitions without aborts have no file.
    file: Option<File>,
    entries: Vec<AbortedTxn>,
}

impl TxnIndex {
    /// Opens the index of the partition directory (none yet is an empty index); a torn last
    /// entry is cut off.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(dir: &Path) -> Result<TxnIndex, LogError> {
        let path = dir.join(FILE);
        let mut file = match OpenOptions::new().read(true).append(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(TxnIndex {
                    path,
                    file: None,
                    entries: Vec::new(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let whole = data.len() / ENTRY * ENTRY;
        if whole != data.len() {
            file.set_len(whole as u64)?;
        }
        let mut entries: Vec<AbortedTxn> = data[..whole]
            .chunks_exact(ENTRY)
            .map(|e| {
                let at = |i: usize| i64::from_be_bytes(e[i..i + 8].try_into().expect("8 bytes"));
                AbortedTxn {
                    producer_id: at(2),
                    first_offset: at(10),
                    last_offset: at(18),
                    last_stable_offset: at(26),
                }
            })
            .collect();
        // Out-of-order entries can only come from damage: keep the ordered prefix.
        if let Some(bad) = entries
            .windows(2)
            .position(|w| w[1].last_offset <= w[0].last_offset)
        {
            entries.truncate(bad + 1);
        }
        Ok(TxnIndex {
            path,
            file: Some(file),
            entries,
        })
    }

    /// The marker offset of the newest entry.
    pub fn last_marker_offset(&self) -> Option<i64> {
        self.entries.last().map(|e| e.last_offset)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no aborted transaction is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an entry (its marker must be newer than every indexed one; older ones are ignored).
    ///
    /// # Errors
    /// I/O errors writing the file (the entry is kept in memory anyway).
    pub fn push(&mut self, e: AbortedTxn) -> Result<(), LogError> {
        if self
            .last_marker_offset()
            .is_some_and(|l| e.last_offset <= l)
        {
            return Ok(());
        }
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.drain(..MAX_ENTRIES / 2);
        }
        self.entries.push(e);
        let mut b = [0u8; ENTRY];
        b[2..10].copy_from_slice(&e.producer_id.to_be_bytes());
        b[10..18].copy_from_slice(&e.first_offset.to_be_bytes());
        b[18..26].copy_from_slice(&e.last_offset.to_be_bytes());
        b[26..34].copy_from_slice(&e.last_stable_offset.to_be_bytes());
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&self.path)?,
            ),
        };
        file.write_all(&b)?;
        Ok(())
    }

    /// The aborted transactions a fetch of `[fetch_offset, upper)` must be told about:
    /// (producer id, first offset) of those whose range overlaps it (Kafka's
    /// `collectAbortedTxns`). Stops at the first marker at or past `upper`.
    pub fn collect(&self, fetch_offset: i64, upper: i64) -> Vec<(i64, i64)> {
        let from = self
            .entries
            .partition_point(|e| e.last_offset < fetch_offset);
        let mut out = Vec::new();
        for e in &self.entries[from..] {
            if e.first_offset < upper {
                out.push((e.producer_id, e.first_offset));
            }
            if e.last_offset >= upper {
                break;
            }
        }
        out
    }

    /// Drops entries whose marker is below `log_start` (retention deleted their data) and
    /// rewrites the file when any went.
    ///
    /// # Errors
    /// I/O errors rewriting the file.
    pub fn trim(&mut self, log_start: i64) -> Result<(), LogError> {
        let n = self.entries.partition_point(|e| e.last_offset < log_start);
        if n == 0 {
            return Ok(());
        }
        self.entries.drain(..n);
        let tmp = self.path.with_extension("txnindex.tmp");
        {
            let mut f = File::create(&tmp)?;
            for e in &self.entries {
                let mut b = [0u8; ENTRY];
                b[2..10].copy_from_slice(&e.producer_id.to_be_bytes());
                b[10..18].copy_from_slice(&e.first_offset.to_be_bytes());
                b[18..26].copy_from_slice(&e.last_offset.to_be_bytes());
                b[26..34].copy_from_slice(&e.last_stable_offset.to_be_bytes());
                f.write_all(&b)?;
            }
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        self.file = Some(OpenOptions::new().append(true).open(&self.path)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(pid: i64, first: i64, last: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id: pid,
            first_offset: first,
            last_offset: last,
            last_stable_offset: first,
        }
    }

    #[test]
    fn entries_survive_reopen_and_answer_ranges() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut idx = TxnIndex::open(dir.path()).unwrap();
            idx.push(e(1, 0, 5)).unwrap();
            idx.push(e(2, 3, 9)).unwrap();
            idx.push(e(1, 10, 12)).unwrap();
            idx.push(e(9, 0, 4)).unwrap(); // older marker: ignored
        }
        // A torn tail entry is cut off.
        let path = dir.path().join(FILE);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[1, 2, 3]).unwrap();
        let mut idx = TxnIndex::open(dir.path()).unwrap();
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.collect(0, 100), vec![(1, 0), (2, 3), (1, 10)]);
        assert_eq!(idx.collect(6, 100), vec![(2, 3), (1, 10)]);
        assert_eq!(idx.collect(0, 3), vec![(1, 0)]);
        assert_eq!(idx.collect(13, 100), vec![]);
        idx.trim(6).unwrap();
        let idx = TxnIndex::open(dir.path()).unwrap();
        assert_eq!(idx.collect(0, 100), vec![(2, 3), (1, 10)]);
    }
}
