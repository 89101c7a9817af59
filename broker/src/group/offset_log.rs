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

use std::io;
use std::path::Path;

use super::offsets::{CommittedOffset, TopicPartition};
use crate::framed_log::{
    finish_frame, put_str16, put_str32, replay_frames, start_frame, FramedLog, LogFiles, Reader,
};

const FILES: LogFiles = LogFiles {
    log: "offsets.log",
    compact: "offsets.log.compact",
    what: "offsets log",
};

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
    log: FramedLog,
}

impl OffsetLog {
    /// Open (or create) the log in `dir` and return every intact frame's ops, oldest first.
    ///
    /// # Errors
    /// I/O errors opening, reading or truncating the file.
    pub fn open(dir: &Path) -> io::Result<(OffsetLog, Vec<Vec<OffsetOp>>)> {
        let mut frames = Vec::new();
        let log = FramedLog::open(dir, FILES, |payload| {
            decode_payload(payload)
                .map(|ops| frames.push(ops))
                .is_some()
        })?;
        Ok((OffsetLog { log }, frames))
    }

    pub fn size(&self) -> u64 {
        self.log.size()
    }

    /// Append already-encoded frames and wait until they are on disk.
    ///
    /// # Errors
    /// I/O errors; the file is then cut back to its previous size so no partial frame sits
    /// in front of later ones.
    pub fn append(&mut self, frames: &[u8]) -> io::Result<()> {
        self.log.append(frames)
    }

    /// Replace the log by one holding only `live` (one frame per chunk of ops).
    ///
    /// # Errors
    /// I/O errors; the old log stays in place and in use.
    pub fn compact<'a>(
        &mut self,
        live: impl IntoIterator<Item = &'a [OffsetOp]>,
    ) -> io::Result<()> {
        let mut buf = Vec::new();
        for ops in live {
            encode_frame(ops, &mut buf);
        }
        self.log.replace(&buf)
    }
}

/// Append one frame holding `ops` to `out`.
pub fn encode_frame(ops: &[OffsetOp], out: &mut Vec<u8>) {
    let start = start_frame(out);
    out.extend_from_slice(&(ops.len() as u32).to_be_bytes());
    for op in ops {
        encode_op(op, out);
    }
    finish_frame(out, start);
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
            put_str32(&offset.metadata, out);
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
    let good = replay_frames(data, |payload| {
        decode_payload(payload)
            .map(|ops| frames.push(ops))
            .is_some()
    });
    (frames, good)
}

fn decode_payload(payload: &[u8]) -> Option<Vec<OffsetOp>> {
    let mut r = Reader::new(payload);
    // Each op is at least 3 bytes.
    let count = r.count(3)?;
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
    r.is_empty().then_some(ops)
}
