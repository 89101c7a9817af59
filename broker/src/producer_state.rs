//! Idempotent producers, the part this broker does: a retried batch (same producer id,
//! epoch, base sequence and record count as one of that producer's last five batches on the
//! partition) is answered with the offset it got the first time instead of being appended
//! twice, and a batch that does not continue its producer's sequence is refused
//! (OUT_OF_ORDER_SEQUENCE_NUMBER).
//!
//! The state lives in memory and is rebuilt from the tail of the log when a partition is
//! opened ([`ProducerState::load`]), so a retry of a batch acknowledged just before a crash
//! is still recognised after the restart. Kafka does the same from a snapshot plus the log
//! after it; without snapshots we bound the scan instead (see [`SEGMENTS_SCANNED`]).
//!
//! Transactions: the state also knows which producers have a transaction open on the
//! partition and at which offset it began, which gives the last stable offset (LSO): the
//! first offset of the oldest open transaction, or the high watermark when none is open.
//! The same scan rebuilds them (a transactional batch opens, a marker closes) and adds abort
//! markers missing from the aborted-transaction index (written after the marker, so a crash
//! can lose its last entries).

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::log::control::{Marker, CONTROL, TRANSACTIONAL};
use crate::log::txn_index::AbortedTxn;
use crate::log::{BatchHeader, LogError, PartitionLog};

/// Batches remembered per producer (Kafka keeps five: max.in.flight for idempotence).
const RECENT: usize = 5;
/// Producers remembered per partition; the state is dropped when exceeded.
const MAX_PRODUCERS: usize = 10_000;
/// Segments scanned when a partition is opened: the active one and the one before it.
///
/// A retry that must be recognised after a restart is of a batch in flight at the crash,
/// i.e. appended at most `delivery.timeout.ms` (two minutes by default) before it — at the
/// tail of the log. Scanning the previous segment too covers a roll within that window.
/// Older batches are not needed: a producer retries only its last five, and one whose
/// batches are all older starts out unknown (accepted as Kafka accepts an unknown producer).
/// Only batch headers are read, so the cost is one `pread` per 8 KiB or per batch, at most
/// two segments' worth (`segment.bytes`, 1 GiB by default) per partition.
pub const SEGMENTS_SCANNED: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeenBatch {
    base_sequence: i32,
    record_count: i32,
    last_offset_delta: i32,
    base_offset: i64,
}

impl SeenBatch {
    /// The sequence the producer's next batch must start with. Sequences wrap from
    /// `i32::MAX` to 0 (Kafka's `DefaultRecordBatch.incrementSequence`).
    fn next_sequence(&self) -> i32 {
        let next = i64::from(self.base_sequence) + i64::from(self.last_offset_delta) + 1;
        (next % (i64::from(i32::MAX) + 1)) as i32
    }
}

#[derive(Debug, Default)]
struct Producer {
    epoch: i16,
    recent: VecDeque<SeenBatch>,
}

/// One partition's view of idempotent producers and open transactions.
#[derive(Debug, Default)]
pub struct ProducerState {
    producers: HashMap<i64, Producer>,
    /// Producer id → offset of its open transaction's first batch here.
    ongoing: HashMap<i64, i64>,
    /// The same, ordered by first offset (the smallest is the LSO).
    ongoing_by_offset: BTreeSet<(i64, i64)>,
}

fn idempotent(h: &BatchHeader) -> bool {
    h.producer_id >= 0 && h.base_sequence >= 0
}

impl ProducerState {
    /// Rebuilds the state from the batches of the last [`SEGMENTS_SCANNED`] segments.
    ///
    /// # Errors
    /// I/O errors; `CorruptBatch` if a scanned segment holds bytes that are not a batch.
    pub fn load(log: &mut PartitionLog) -> Result<ProducerState, LogError> {
        let mut state = ProducerState::default();
        let indexed = log.txn_index().last_marker_offset().unwrap_or(-1);
        let mut scan_start = None;
        let mut missing = Vec::new();
        log.for_each_recent_batch(SEGMENTS_SCANNED, |h, marker| {
            let start = *scan_start.get_or_insert(h.base_offset);
            if h.attributes & CONTROL != 0 {
                let first = state.end_txn(h.producer_id).unwrap_or(start);
                if marker == Some(Marker::Abort) && h.base_offset > indexed {
                    missing.push(AbortedTxn {
                        producer_id: h.producer_id,
                        first_offset: first,
                        last_offset: h.base_offset,
                        last_stable_offset: state.last_stable_offset(h.base_offset),
                    });
                }
            } else {
                if h.attributes & TRANSACTIONAL != 0 {
                    state.begin_txn(h.producer_id, h.base_offset);
                }
                state.record(h, h.base_offset);
            }
        })?;
        for e in missing {
            log.txn_index_mut().push(e)?;
        }
        Ok(state)
    }

    /// Notes that `producer_id` wrote a transactional batch at `offset`: its transaction is
    /// open here from its first such batch.
    pub fn begin_txn(&mut self, producer_id: i64, offset: i64) {
        if let std::collections::hash_map::Entry::Vacant(v) = self.ongoing.entry(producer_id) {
            v.insert(offset);
            self.ongoing_by_offset.insert((offset, producer_id));
        }
    }

    /// Closes `producer_id`'s open transaction (a marker was written): its first offset.
    pub fn end_txn(&mut self, producer_id: i64) -> Option<i64> {
        let first = self.ongoing.remove(&producer_id)?;
        self.ongoing_by_offset.remove(&(first, producer_id));
        Some(first)
    }

    /// Whether `producer_id` has a transaction open here.
    pub fn in_txn(&self, producer_id: i64) -> bool {
        self.ongoing.contains_key(&producer_id)
    }

    /// Producers with a transaction open here.
    pub fn open_txn_producers(&self) -> Vec<i64> {
        self.ongoing.keys().copied().collect()
    }

    /// The last stable offset given the high watermark.
    pub fn last_stable_offset(&self, high_watermark: i64) -> i64 {
        self.ongoing_by_offset
            .first()
            .map_or(high_watermark, |&(first, _)| first.min(high_watermark))
    }

    /// The base offset a batch got when it was first appended, if this is a retry of it.
    pub fn duplicate_of(&self, h: &BatchHeader) -> Option<i64> {
        if !idempotent(h) {
            return None;
        }
        let p = self.producers.get(&h.producer_id)?;
        if p.epoch != h.producer_epoch {
            return None;
        }
        p.recent
            .iter()
            .find(|b| b.base_sequence == h.base_sequence && b.record_count == h.record_count)
            .map(|b| b.base_offset)
    }

    /// Whether `h` does not continue its producer's sequence: it must start right after the
    /// producer's last batch, or at 0 when the epoch changes. A batch of a producer not
    /// remembered (new, or forgotten) is accepted, as Kafka does. Check
    /// [`ProducerState::duplicate_of`] first: a retry is not out of order.
    pub fn out_of_order(&self, h: &BatchHeader) -> bool {
        if !idempotent(h) {
            return false;
        }
        let Some(last) = self
            .producers
            .get(&h.producer_id)
            .and_then(|p| p.recent.back().map(|b| (p.epoch, b)))
        else {
            return false;
        };
        match last {
            (epoch, _) if epoch != h.producer_epoch => h.base_sequence != 0,
            (_, b) => h.base_sequence != b.next_sequence(),
        }
    }

    /// Remembers an appended batch (`base_offset` is the offset it was given).
    pub fn record(&mut self, h: &BatchHeader, base_offset: i64) {
        if !idempotent(h) {
            return;
        }
        if self.producers.len() >= MAX_PRODUCERS && !self.producers.contains_key(&h.producer_id) {
            self.producers.clear();
        }
        let p = self.producers.entry(h.producer_id).or_default();
        if p.epoch != h.producer_epoch {
            p.epoch = h.producer_epoch;
            p.recent.clear();
        }
        if p.recent.len() == RECENT {
            p.recent.pop_front();
        }
        p.recent.push_back(SeenBatch {
            base_sequence: h.base_sequence,
            record_count: h.record_count,
            last_offset_delta: h.last_offset_delta,
            base_offset,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(pid: i64, epoch: i16, seq: i32, count: i32) -> BatchHeader {
        BatchHeader {
            base_offset: 0,
            batch_length: 100,
            partition_leader_epoch: 0,
            magic: 2,
            crc: 0,
            attributes: 0,
            last_offset_delta: count - 1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
            record_count: count,
        }
    }

    #[test]
    fn retries_are_recognised_within_the_window() {
        let mut s = ProducerState::default();
        for i in 0..7 {
            s.record(&header(9, 0, i * 10, 10), 100 + i as i64 * 10);
        }
        assert_eq!(s.duplicate_of(&header(9, 0, 60, 10)), Some(160));
        assert_eq!(s.duplicate_of(&header(9, 0, 20, 10)), Some(120));
        assert_eq!(
            s.duplicate_of(&header(9, 0, 10, 10)),
            None,
            "older than five batches"
        );
        assert_eq!(s.duplicate_of(&header(9, 1, 60, 10)), None, "new epoch");
        assert_eq!(
            s.duplicate_of(&header(8, 0, 60, 10)),
            None,
            "other producer"
        );
        assert_eq!(
            s.duplicate_of(&header(-1, -1, -1, 10)),
            None,
            "not idempotent"
        );
    }

    #[test]
    fn open_transactions_hold_the_stable_offset() {
        let mut s = ProducerState::default();
        assert_eq!(s.last_stable_offset(10), 10);
        s.begin_txn(1, 4);
        s.begin_txn(2, 7);
        s.begin_txn(1, 9); // already open: keeps its first offset
        assert_eq!(s.last_stable_offset(12), 4);
        assert_eq!(s.end_txn(1), Some(4));
        assert_eq!(s.last_stable_offset(12), 7);
        assert!(s.in_txn(2) && !s.in_txn(1));
        assert_eq!(s.end_txn(1), None);
        assert_eq!(s.end_txn(2), Some(7));
        assert_eq!(s.last_stable_offset(12), 12);
    }

    #[test]
    fn sequence_gaps_are_out_of_order() {
        let mut s = ProducerState::default();
        assert!(!s.out_of_order(&header(9, 0, 40, 10)), "unknown producer");
        s.record(&header(9, 0, 0, 10), 0);
        assert!(!s.out_of_order(&header(9, 0, 10, 5)), "next in line");
        assert!(s.out_of_order(&header(9, 0, 11, 5)), "a gap");
        assert!(s.out_of_order(&header(9, 0, 5, 5)), "going back");
        assert!(!s.out_of_order(&header(9, 1, 0, 5)), "new epoch from 0");
        assert!(s.out_of_order(&header(9, 1, 3, 5)), "new epoch not from 0");
        assert!(!s.out_of_order(&header(-1, -1, -1, 5)), "not idempotent");
        s.record(&header(7, 0, i32::MAX - 4, 5), 10);
        assert!(!s.out_of_order(&header(7, 0, 0, 1)), "sequences wrap to 0");
    }
}
