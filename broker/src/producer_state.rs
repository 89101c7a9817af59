//! Idempotent producers, the part this broker does: a retried batch (same producer id,
//! epoch, base sequence and record count as one of that producer's last five batches on the
//! partition) is answered with the offset it got the first time instead of being appended
//! twice. Sequence gaps are not rejected, and the state lives in memory only — after a
//! restart a retry of a batch acknowledged before the restart can still be duplicated.

use std::collections::{HashMap, VecDeque};

use crate::log::BatchHeader;

/// Batches remembered per producer (Kafka keeps five: max.in.flight for idempotence).
const RECENT: usize = 5;
/// Producers remembered per partition; the state is dropped when exceeded.
const MAX_PRODUCERS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeenBatch {
    base_sequence: i32,
    record_count: i32,
    base_offset: i64,
}

#[derive(Debug, Default)]
struct Producer {
    epoch: i16,
    recent: VecDeque<SeenBatch>,
}

/// One partition's view of idempotent producers.
#[derive(Debug, Default)]
pub struct ProducerState {
    producers: HashMap<i64, Producer>,
}

fn idempotent(h: &BatchHeader) -> bool {
    h.producer_id >= 0 && h.base_sequence >= 0
}

impl ProducerState {
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

    /// Remembers an appended batch.
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
}
