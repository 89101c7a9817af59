//! The transaction-state file: every change to a transactional id's state, appended and
//! fsynced before the request that caused it is answered; replayed on start (the last record
//! of an id wins).
//!
//! ```text
//!  <data-dir>/__transaction_state/txn.log
//!  ┌──────────┬──────────┬────────────────────────────┐
//!  │ len: u32 │ crc: u32 │ payload: one TxnRecord      │  … next frame
//!  └──────────┴──────────┴────────────────────────────┘
//!   big-endian; crc = CRC-32C of the payload
//!   TxnRecord = id str16, producer_id i64, epoch i16, timeout_ms i32, state u8 (6 = the id
//!               was forgotten), started_ms i64, updated_ms i64, partitions u32 × (topic str16, partition i32),
//!               groups u32 × str16,
//!               offsets u32 × (group str16, topic str16, partition i32, offset i64,
//!                              leader_epoch i32, metadata str32)
//! ```
//!
//! Replay stops at the first torn or corrupt frame and cuts the file there (as the group
//! offsets log does). When the file grows past twice the live size (and 1 MiB), it is
//! rewritten from the live states into `txn.log.compact`, synced and renamed over it.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use super::coordinator::{PendingOffset, TxnMetadata, TxnState};
use crate::framed_log::{
    finish_frame, put_str16, put_str32, start_frame, FramedLog, LogFiles, Reader,
};

const FILES: LogFiles = LogFiles {
    log: "txn.log",
    compact: "txn.log.compact",
    what: "transaction state",
};
const COMPACT_MIN_BYTES: u64 = 1 << 20;

/// The open state file.
#[derive(Debug)]
pub struct StateLog {
    log: FramedLog,
    live_size: u64,
}

impl StateLog {
    /// Opens (creating) the file and returns the latest record of every transactional id.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(dir: &Path) -> io::Result<(StateLog, BTreeMap<String, TxnMetadata>)> {
        let mut txns = BTreeMap::new();
        let log = FramedLog::open(dir, FILES, |payload| {
            let Some(m) = decode(payload) else {
                return false;
            };
            if m.state == TxnState::Dead {
                txns.remove(&m.transactional_id);
            } else {
                txns.insert(m.transactional_id.clone(), m);
            }
            true
        })?;
        let live_size = log.size();
        Ok((StateLog { log, live_size }, txns))
    }

    /// Appends one record and waits until it is on disk.
    ///
    /// # Errors
    /// I/O errors (the file is cut back so no partial frame stays).
    pub fn append(&mut self, m: &TxnMetadata) -> io::Result<()> {
        let mut buf = Vec::with_capacity(128);
        encode_frame(m, &mut buf);
        self.log.append(&buf)
    }

    /// Whether the file has grown enough to be rewritten.
    pub fn wants_compaction(&self) -> bool {
        self.log.size() > COMPACT_MIN_BYTES.max(self.live_size.saturating_mul(2))
    }

    /// Rewrites the file holding only `live`.
    ///
    /// # Errors
    /// I/O errors; the old file stays in use.
    pub fn compact<'a>(
        &mut self,
        live: impl IntoIterator<Item = &'a TxnMetadata>,
    ) -> io::Result<()> {
        let mut buf = Vec::new();
        for m in live {
            encode_frame(m, &mut buf);
        }
        self.log.replace(&buf)?;
        self.live_size = self.log.size();
        Ok(())
    }
}

fn state_tag(s: TxnState) -> u8 {
    match s {
        TxnState::Empty => 0,
        TxnState::Ongoing => 1,
        TxnState::PrepareCommit => 2,
        TxnState::PrepareAbort => 3,
        TxnState::CompleteCommit => 4,
        TxnState::CompleteAbort => 5,
        TxnState::Dead => 6,
    }
}

fn encode_frame(m: &TxnMetadata, out: &mut Vec<u8>) {
    let start = start_frame(out);
    put_str16(&m.transactional_id, out);
    out.extend_from_slice(&m.producer_id.to_be_bytes());
    out.extend_from_slice(&m.epoch.to_be_bytes());
    out.extend_from_slice(&m.timeout_ms.to_be_bytes());
    out.push(state_tag(m.state));
    out.extend_from_slice(&m.started_ms.to_be_bytes());
    out.extend_from_slice(&m.updated_ms.to_be_bytes());
    out.extend_from_slice(&(m.partitions.len() as u32).to_be_bytes());
    for (topic, p) in &m.partitions {
        put_str16(topic, out);
        out.extend_from_slice(&p.to_be_bytes());
    }
    out.extend_from_slice(&(m.groups.len() as u32).to_be_bytes());
    for g in &m.groups {
        put_str16(g, out);
    }
    out.extend_from_slice(&(m.offsets.len() as u32).to_be_bytes());
    for o in &m.offsets {
        put_str16(&o.group, out);
        put_str16(&o.topic, out);
        out.extend_from_slice(&o.partition.to_be_bytes());
        out.extend_from_slice(&o.offset.to_be_bytes());
        out.extend_from_slice(&o.leader_epoch.to_be_bytes());
        put_str32(&o.metadata, out);
    }
    finish_frame(out, start);
}

fn decode(payload: &[u8]) -> Option<TxnMetadata> {
    let mut r = Reader::new(payload);
    let transactional_id = r.str16()?;
    let producer_id = r.i64()?;
    let epoch = r.i16()?;
    let timeout_ms = r.i32()?;
    let state = match r.u8()? {
        0 => TxnState::Empty,
        1 => TxnState::Ongoing,
        2 => TxnState::PrepareCommit,
        3 => TxnState::PrepareAbort,
        4 => TxnState::CompleteCommit,
        5 => TxnState::CompleteAbort,
        6 => TxnState::Dead,
        _ => return None,
    };
    let started_ms = r.i64()?;
    let updated_ms = r.i64()?;
    let mut partitions = BTreeSet::new();
    for _ in 0..r.count(6)? {
        partitions.insert((r.str16()?, r.i32()?));
    }
    let mut groups = BTreeSet::new();
    for _ in 0..r.count(2)? {
        groups.insert(r.str16()?);
    }
    let mut offsets = Vec::new();
    for _ in 0..r.count(24)? {
        offsets.push(PendingOffset {
            group: r.str16()?,
            topic: r.str16()?,
            partition: r.i32()?,
            offset: r.i64()?,
            leader_epoch: r.i32()?,
            metadata: r.str32()?,
        });
    }
    r.is_empty().then_some(TxnMetadata {
        transactional_id,
        producer_id,
        epoch,
        timeout_ms,
        state,
        started_ms,
        partitions,
        groups,
        offsets,
        updated_ms,
    })
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::Write;

    use super::*;

    fn meta(id: &str, state: TxnState) -> TxnMetadata {
        TxnMetadata {
            transactional_id: id.into(),
            producer_id: 42,
            epoch: 3,
            timeout_ms: 60_000,
            state,
            started_ms: 1_700_000_000_000,
            partitions: [("t".to_string(), 0), ("u".to_string(), 7)].into(),
            groups: ["g".to_string()].into(),
            offsets: vec![PendingOffset {
                group: "g".into(),
                topic: "t".into(),
                partition: 0,
                offset: 99,
                leader_epoch: -1,
                metadata: "m".into(),
            }],
            updated_ms: 1_700_000_000_500,
        }
    }

    #[test]
    fn records_replay_latest_wins_and_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, txns) = StateLog::open(dir.path()).unwrap();
            assert!(txns.is_empty());
            log.append(&meta("a", TxnState::Ongoing)).unwrap();
            log.append(&meta("b", TxnState::Empty)).unwrap();
            log.append(&meta("a", TxnState::PrepareCommit)).unwrap();
        }
        let path = dir.path().join(FILES.log);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0, 0, 0, 50, 1, 2]).unwrap();
        drop(f);
        let (mut log, txns) = StateLog::open(dir.path()).unwrap();
        assert_eq!(txns.len(), 2);
        assert_eq!(txns["a"], meta("a", TxnState::PrepareCommit));
        assert_eq!(txns["b"].state, TxnState::Empty);
        log.compact(txns.values()).unwrap();
        let (_, again) = StateLog::open(dir.path()).unwrap();
        assert_eq!(again, txns);
        log.append(&meta("b", TxnState::Dead)).unwrap();
        let (_, after) = StateLog::open(dir.path()).unwrap();
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            ["a"],
            "a tombstone forgets the id"
        );
    }
}
