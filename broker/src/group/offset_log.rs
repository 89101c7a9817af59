//! The committed-offsets log: an append-only file of CRC-checked frames, replayed on start.
//!
//! ```text
//!  <data-dir>/__group_offsets/offsets.log
//!  ┌──────────┬──────────┬──────────────────────────────────────────┐
//!  │ len: u32 │ crc: u32 │ payload: count u32, then `count` ops     │  … next frame
//!  └──────────┴──────────┴──────────────────────────────────────────┘
//!   big-endian; crc = CRC-32C of the payload
//!   op = tag u8, then
//!     1 Commit       group str16, topic str16, partition i32, offset i64,
//!                    leader_epoch i32, commit_timestamp_ms i64, metadata str32
//!     2 Delete       group str16, topic str16, partition i32
//!     3 DeleteGroup  group str16
//!     4 DeleteTopic  topic str16
//!   strN = length uN, then UTF-8 bytes
//! ```
//!
//! One frame holds all ops of one request, so a commit of many partitions applies whole or not
//! at all. Replay stops at the first frame whose length, CRC or contents are wrong — the torn
//! tail of a write cut short by a crash — and truncates the file there: everything before it
//! was acknowledged only after `fdatasync`, so nothing acknowledged is lost.
//!
//! Compaction rewrites the live offsets into `offsets.log.compact`, syncs it and renames it
//! over the log (then syncs the directory), so a crash at any point leaves either the old or
//! the new file whole.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::offsets::{CommittedOffset, TopicPartition};

const LOG_FILE: &str = "offsets.log";
const COMPACT_FILE: &str = "offsets.log.compact";
const HEADER: usize = 8;
/// A frame longer than this is corruption, not data: no request carries that many commits.
const MAX_FRAME: usize = 64 << 20;

/// One change to the committed offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetOp {
    Commit {
        group: String,
        tp: TopicPartition,
        offset: CommittedOffset,
    },
    Delete {
        group: String,
        tp: TopicPartition,
    },
    DeleteGroup {
        group: String,
    },
    DeleteTopic {
        topic: String,
    },
}

/// The open log file, positioned at its end.
#[derive(Debug)]
pub struct OffsetLog {
    dir: PathBuf,
    file: File,
    size: u64,
}

impl OffsetLog {
    /// Open (or create) the log in `dir` and return every intact frame's ops, oldest first.
    ///
    /// # Errors
    /// I/O errors opening, reading or truncating the file.
    pub fn open(dir: &Path) -> io::Result<(OffsetLog, Vec<Vec<OffsetOp>>)> {
        fs::create_dir_all(dir)?;
        // A leftover compaction file means a crash before the rename: the log is still whole.
        let _ = fs::remove_file(dir.join(COMPACT_FILE));
        let path = dir.join(LOG_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let (frames, good) = decode_frames(&data);
        if good < data.len() {
            tracing::warn!(
                path = %path.display(),
                kept = good,
                dropped = data.len() - good,
                "offsets log: truncating torn tail"
            );
            file.set_len(good as u64)?;
            file.sync_all()?;
        }
        Ok((
            OffsetLog {
                dir: dir.to_path_buf(),
                file,
                size: good as u64,
            },
            frames,
        ))
    }

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

    /// Replace the log by one holding only `live` (one frame per chunk of ops).
    ///
    /// # Errors
    /// I/O errors; the old log stays in place and in use.
    pub fn compact<'a>(
        &mut self,
        live: impl IntoIterator<Item = &'a [OffsetOp]>,
    ) -> io::Result<()> {
        let tmp_path = self.dir.join(COMPACT_FILE);
        let mut buf = Vec::new();
        for ops in live {
            encode_frame(ops, &mut buf);
        }
        {
            let mut tmp = File::create(&tmp_path)?;
            tmp.write_all(&buf)?;
            tmp.sync_all()?;
        }
        let path = self.dir.join(LOG_FILE);
        fs::rename(&tmp_path, &path)?;
        File::open(&self.dir)?.sync_all()?;
        self.file = OpenOptions::new().append(true).open(&path)?;
        self.size = buf.len() as u64;
        Ok(())
    }
}

/// Append one frame holding `ops` to `out`.
pub fn encode_frame(ops: &[OffsetOp], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    out.extend_from_slice(&(ops.len() as u32).to_be_bytes());
    for op in ops {
        encode_op(op, out);
    }
    let payload = &out[start + HEADER..];
    let len = payload.len() as u32;
    let crc = crc32c::crc32c(payload);
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
}

fn put_str16(s: &str, out: &mut Vec<u8>) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

fn encode_op(op: &OffsetOp, out: &mut Vec<u8>) {
    match op {
        OffsetOp::Commit { group, tp, offset } => {
            out.push(1);
            put_str16(group, out);
            put_str16(&tp.topic, out);
            out.extend_from_slice(&tp.partition.to_be_bytes());
            out.extend_from_slice(&offset.offset.to_be_bytes());
            out.extend_from_slice(&offset.leader_epoch.to_be_bytes());
            out.extend_from_slice(&offset.commit_timestamp_ms.to_be_bytes());
            out.extend_from_slice(&(offset.metadata.len() as u32).to_be_bytes());
            out.extend_from_slice(offset.metadata.as_bytes());
        }
        OffsetOp::Delete { group, tp } => {
            out.push(2);
            put_str16(group, out);
            put_str16(&tp.topic, out);
            out.extend_from_slice(&tp.partition.to_be_bytes());
        }
        OffsetOp::DeleteGroup { group } => {
            out.push(3);
            put_str16(group, out);
        }
        OffsetOp::DeleteTopic { topic } => {
            out.push(4);
            put_str16(topic, out);
        }
    }
}

/// Decode frames from the start of `data`: the ops of every intact frame, and how many bytes
/// they span (where a torn or corrupt tail begins).
pub fn decode_frames(data: &[u8]) -> (Vec<Vec<OffsetOp>>, usize) {
    let mut frames = Vec::new();
    let mut pos = 0;
    while data.len() - pos >= HEADER {
        let len = u32::from_be_bytes(data[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_be_bytes(data[pos + 4..pos + 8].try_into().expect("4 bytes"));
        if len > MAX_FRAME || data.len() - pos - HEADER < len {
            break;
        }
        let payload = &data[pos + HEADER..pos + HEADER + len];
        if crc32c::crc32c(payload) != crc {
            break;
        }
        let Some(ops) = decode_payload(payload) else {
            break;
        };
        frames.push(ops);
        pos += HEADER + len;
    }
    (frames, pos)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
    }
    fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take(8)
            .map(|b| i64::from_be_bytes(b.try_into().expect("8 bytes")))
    }
    fn str16(&mut self) -> Option<String> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn str32(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

fn decode_payload(payload: &[u8]) -> Option<Vec<OffsetOp>> {
    let mut r = Reader(payload);
    let count = r.u32()? as usize;
    // Each op is at least 3 bytes: never trust a count the payload cannot hold.
    if count > payload.len() / 3 {
        return None;
    }
    let mut ops = Vec::with_capacity(count);
    for _ in 0..count {
        let op = match r.u8()? {
            1 => {
                let group = r.str16()?;
                let topic = r.str16()?;
                let partition = r.i32()?;
                let offset = r.i64()?;
                let leader_epoch = r.i32()?;
                let commit_timestamp_ms = r.i64()?;
                let metadata = r.str32()?;
                OffsetOp::Commit {
                    group,
                    tp: TopicPartition { topic, partition },
                    offset: CommittedOffset {
                        offset,
                        leader_epoch,
                        metadata,
                        commit_timestamp_ms,
                    },
                }
            }
            2 => {
                let group = r.str16()?;
                let topic = r.str16()?;
                let partition = r.i32()?;
                OffsetOp::Delete {
                    group,
                    tp: TopicPartition { topic, partition },
                }
            }
            3 => OffsetOp::DeleteGroup { group: r.str16()? },
            4 => OffsetOp::DeleteTopic { topic: r.str16()? },
            _ => return None,
        };
        ops.push(op);
    }
    r.0.is_empty().then_some(ops)
}
