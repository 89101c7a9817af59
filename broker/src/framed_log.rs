//! An append-only file of CRC-checked frames, replayed on start: the durable store under the
//! group offsets log (`group::offset_log`) and the transaction-state file (`txn::state_log`).
//! Each of those owns its payload format; this module owns the frames and the file.
//!
//! ```text
//!  ┌──────────┬──────────┬──────────────────┐
//!  │ len: u32 │ crc: u32 │ payload: len B   │  … next frame
//!  └──────────┴──────────┴──────────────────┘
//!   big-endian; crc = CRC-32C of the payload
//!   strN = length uN, then UTF-8 bytes (the payloads' strings)
//! ```
//!
//! Replay stops at the first frame whose length, CRC or contents are wrong — the torn tail of
//! a write cut short by a crash — and truncates the file there: every append is acknowledged
//! only after `fdatasync`, so nothing acknowledged is lost.
//!
//! Compaction writes the live frames into a side file, syncs it and renames it over the log
//! (then syncs the directory), so a crash at any point leaves either the old or the new file
//! whole.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Frame header: length and CRC, 4 bytes each.
const HEADER: usize = 8;
/// A frame longer than this is corruption, not data: no request carries that much.
const MAX_FRAME: usize = 64 << 20;

/// The file names of one framed log, and its name in warnings.
#[derive(Debug, Clone, Copy)]
pub struct LogFiles {
    /// The log itself, e.g. `offsets.log`.
    pub log: &'static str,
    /// The side file compaction writes before its rename, e.g. `offsets.log.compact`.
    pub compact: &'static str,
    /// What the log holds, for the torn-tail warning.
    pub what: &'static str,
}

/// The open log file, positioned at its end.
#[derive(Debug)]
pub struct FramedLog {
    dir: PathBuf,
    files: LogFiles,
    file: File,
    size: u64,
}

impl FramedLog {
    /// Open (or create) the log in `dir`, hand every intact frame's payload to `replay`
    /// (oldest first) and cut the file after the last one. `replay` returns `false` for a
    /// payload it cannot decode: that frame and all after it are the torn tail.
    ///
    /// # Errors
    /// I/O errors opening, reading or truncating the file.
    pub fn open(
        dir: &Path,
        files: LogFiles,
        replay: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<FramedLog> {
        fs::create_dir_all(dir)?;
        // A leftover compaction file means a crash before the rename: the log is still whole.
        let _ = fs::remove_file(dir.join(files.compact));
        let path = dir.join(files.log);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let good = replay_frames(&data, replay);
        if good < data.len() {
            tracing::warn!(
                path = %path.display(),
                kept = good,
                dropped = data.len() - good,
                "{}: truncating torn tail",
                files.what
            );
            file.set_len(good as u64)?;
            file.sync_all()?;
        }
        Ok(FramedLog {
            dir: dir.to_path_buf(),
            files,
            file,
            size: good as u64,
        })
    }

    /// Bytes in the file.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append already-encoded frames and wait until they are on disk.
    ///
    /// # Errors
    /// I/O errors; the file is then cut back to its previous size so no partial frame sits
    /// in front of later ones.
    pub fn append(&mut self, frames: &[u8]) -> io::Result<()> {
        let result = self
            .file
            .write_all(frames)
            .and_then(|()| self.file.sync_data());
        match result {
            Ok(()) => {
                self.size += frames.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.size);
                Err(e)
            }
        }
    }

    /// Replace the whole log by `frames` (already encoded): write the side file, sync it,
    /// rename it over the log, sync the directory.
    ///
    /// # Errors
    /// I/O errors; the old log stays in place and in use.
    pub fn replace(&mut self, frames: &[u8]) -> io::Result<()> {
        let tmp_path = self.dir.join(self.files.compact);
        {
            let mut tmp = File::create(&tmp_path)?;
            tmp.write_all(frames)?;
            tmp.sync_all()?;
        }
        let path = self.dir.join(self.files.log);
        fs::rename(&tmp_path, &path)?;
        File::open(&self.dir)?.sync_all()?;
        self.file = OpenOptions::new().append(true).open(&path)?;
        self.size = frames.len() as u64;
        Ok(())
    }
}

/// Start a frame at the end of `out`; write its payload after this, then call
/// [`finish_frame`] with the returned start.
pub fn start_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    start
}

/// Fill in the length and CRC of the frame begun at `start` by [`start_frame`].
pub fn finish_frame(out: &mut [u8], start: usize) {
    let payload = &out[start + HEADER..];
    let len = payload.len() as u32;
    let crc = crc32c::crc32c(payload);
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
}

/// Hand the payload of every intact frame at the start of `data` to `replay` until one is
/// torn, corrupt, or refused (`replay` returns `false`); returns how many bytes the accepted
/// frames span (where the tail to cut begins).
pub fn replay_frames(data: &[u8], mut replay: impl FnMut(&[u8]) -> bool) -> usize {
    let mut pos = 0;
    while data.len() - pos >= HEADER {
        let len = u32::from_be_bytes(data[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_be_bytes(data[pos + 4..pos + 8].try_into().expect("4 bytes"));
        if len > MAX_FRAME || data.len() - pos - HEADER < len {
            break;
        }
        let payload = &data[pos + HEADER..pos + HEADER + len];
        if crc32c::crc32c(payload) != crc || !replay(payload) {
            break;
        }
        pos += HEADER + len;
    }
    pos
}

/// Append `s` as a str16 (cut at 65,535 bytes).
pub fn put_str16(s: &str, out: &mut Vec<u8>) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// Append `s` as a str32.
pub fn put_str32(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads big-endian fields from a payload; `None` when the payload ends too soon or a string
/// is not UTF-8.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(payload: &'a [u8]) -> Self {
        Reader(payload)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn i16(&mut self) -> Option<i16> {
        self.u16().map(|v| v as i16)
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
    }
    pub fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }
    pub fn i64(&mut self) -> Option<i64> {
        self.take(8)
            .map(|b| i64::from_be_bytes(b.try_into().expect("8 bytes")))
    }
    pub fn str16(&mut self) -> Option<String> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    pub fn str32(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    /// A u32 count that the remaining bytes can hold (each item at least `min` bytes): never
    /// trust a count the payload cannot hold.
    pub fn count(&mut self, min: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n <= self.0.len() / min).then_some(n)
    }
    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
