//! `isolation.level=read_committed`: dropping the batches of aborted transactions.
//!
//! A read_committed Fetch answer stops at the last stable offset and lists the aborted
//! transactions that overlap the returned data as `(producer id, first offset)`. A batch is
//! dropped when it is transactional and its producer has an aborted transaction that started
//! at or before the batch's last offset and whose ABORT marker (a control batch of the same
//! producer) has not been passed yet — Kafka's and librdkafka's rule. Control batches never
//! reach the application (the decoder skips them).
//!
//! Only batch headers and the first record of control batches are read; the kept batches are
//! copied into a new buffer only when something is actually dropped.

use bytes::{Bytes, BytesMut};
use std::collections::HashSet;

const HEADER_LEN: usize = 61;
const ATTR_TRANSACTIONAL: i16 = 0x10;
const ATTR_CONTROL: i16 = 0x20;

fn be_i64(b: &[u8]) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    i64::from_be_bytes(a)
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i16(b: &[u8]) -> i16 {
    i16::from_be_bytes([b[0], b[1]])
}

/// Reads a zigzag varint; `None` when truncated.
fn varint(b: &[u8], pos: &mut usize) -> Option<i64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(((v >> 1) as i64) ^ -((v & 1) as i64));
        }
    }
    None
}

/// Whether a control batch's first record is an ABORT marker (key: version i16, type i16
/// with 0 = abort, 1 = commit).
fn is_abort_marker(batch: &[u8]) -> bool {
    let recs = &batch[HEADER_LEN.min(batch.len())..];
    let mut pos = 0;
    let parsed = (|| {
        varint(recs, &mut pos)?; // record length
        pos += 1; // attributes
        varint(recs, &mut pos)?; // timestamp delta
        varint(recs, &mut pos)?; // offset delta
        let klen = varint(recs, &mut pos)?;
        if klen < 4 {
            return None;
        }
        let key = recs.get(pos..pos + 4)?;
        Some(be_i16(&key[2..4]))
    })();
    parsed == Some(0)
}

/// Returns `records` without the batches of aborted transactions. `aborted` is the Fetch
/// answer's list of `(producer id, first offset)`.
pub(crate) fn filter_aborted(records: Bytes, aborted: &[(i64, i64)]) -> Bytes {
    if aborted.is_empty() {
        return records;
    }
    let mut pending: Vec<(i64, i64)> = aborted.to_vec();
    pending.sort_by_key(|&(_, first)| std::cmp::Reverse(first));
    let mut active: HashSet<i64> = HashSet::new();
    let mut kept: Vec<(usize, usize)> = Vec::new();
    let mut dropped = false;
    let data = &records[..];
    let mut pos = 0usize;
    while data.len().saturating_sub(pos) >= HEADER_LEN {
        let b = &data[pos..];
        let len = be_i32(&b[8..12]);
        if len < 0 {
            break;
        }
        let total = 12 + len as usize;
        if b.len() < total || total < HEADER_LEN || b[16] != 2 {
            // Partial trailing batch or a legacy format: leave the rest to the decoder.
            kept.push((pos, data.len()));
            pos = data.len();
            break;
        }
        let base = be_i64(&b[0..8]);
        let attributes = be_i16(&b[21..23]);
        let last = base.saturating_add(i64::from(be_i32(&b[23..27])));
        let pid = be_i64(&b[43..51]);
        while pending.last().is_some_and(|&(_, first)| first <= last) {
            if let Some((p, _)) = pending.pop() {
                active.insert(p);
            }
        }
        let drop_it = if attributes & ATTR_CONTROL != 0 {
            if active.contains(&pid) && is_abort_marker(&b[..total]) {
                active.remove(&pid);
            }
            // Control batches are skipped by the decoder; keeping them keeps offsets moving.
            false
        } else {
            attributes & ATTR_TRANSACTIONAL != 0 && active.contains(&pid)
        };
        if drop_it {
            dropped = true;
        } else {
            kept.push((pos, pos + total));
        }
        pos += total;
    }
    if !dropped {
        return records;
    }
    if pos < data.len() {
        kept.push((pos, data.len()));
    }
    let mut out = BytesMut::with_capacity(kept.iter().map(|(a, b)| b - a).sum());
    for (a, b) in kept {
        out.extend_from_slice(&data[a..b]);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::records::{build_batch, decode_batches, encode_record, BatchHeader, Codec};

    fn batch(base: i64, pid: i64, values: &[&[u8]], transactional: bool) -> Vec<u8> {
        let mut recs = BytesMut::new();
        for (i, v) in values.iter().enumerate() {
            encode_record(&mut recs, 0, i as i32, None, Some(*v), &[]);
        }
        let b = build_batch(
            &BatchHeader {
                count: values.len() as i32,
                base_timestamp: 1,
                max_timestamp: 1,
                producer_id: pid,
                producer_epoch: 0,
                base_sequence: 0,
                codec: Codec::None,
                transactional,
            },
            &recs,
        );
        let mut v = b.to_vec();
        v[..8].copy_from_slice(&base.to_be_bytes());
        v
    }

    fn marker(base: i64, pid: i64, commit: bool) -> Vec<u8> {
        let key = [0u8, 0, 0, u8::from(commit)];
        let mut recs = BytesMut::new();
        encode_record(&mut recs, 0, 0, Some(&key), Some(&[0, 0, 0, 0, 0, 0]), &[]);
        let mut v = build_batch(
            &BatchHeader {
                count: 1,
                base_timestamp: 1,
                max_timestamp: 1,
                producer_id: pid,
                producer_epoch: 0,
                base_sequence: -1,
                codec: Codec::None,
                transactional: true,
            },
            &recs,
        )
        .to_vec();
        v[..8].copy_from_slice(&base.to_be_bytes());
        let attrs = i16::from_be_bytes([v[21], v[22]]) | ATTR_CONTROL;
        v[21..23].copy_from_slice(&attrs.to_be_bytes());
        let crc = crc32c::crc32c(&v[21..]);
        v[17..21].copy_from_slice(&crc.to_be_bytes());
        v
    }

    fn values(data: Bytes) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        decode_batches(data, 0, &mut out).unwrap();
        out.into_iter()
            .map(|r| r.value.unwrap_or_default().to_vec())
            .collect()
    }

    #[test]
    fn aborted_batches_go_committed_and_plain_stay() {
        let mut log = Vec::new();
        log.extend(batch(0, 7, &[b"aborted-1", b"aborted-2"], true)); // 0..1
        log.extend(batch(2, 8, &[b"committed"], true)); // 2
        log.extend(marker(3, 7, false)); // 3: abort of pid 7
        log.extend(marker(4, 8, true)); // 4: commit of pid 8
        log.extend(batch(5, 7, &[b"later-7"], true)); // 5: pid 7's next transaction
        log.extend(batch(6, -1, &[b"plain"], false)); // 6
        log.extend(marker(7, 7, true));
        let data = Bytes::from(log);
        assert_eq!(values(data.clone()).len(), 5);
        let kept = filter_aborted(data.clone(), &[(7, 0)]);
        assert_eq!(
            values(kept),
            vec![
                b"committed".to_vec(),
                b"later-7".to_vec(),
                b"plain".to_vec()
            ]
        );
        assert_eq!(filter_aborted(data.clone(), &[]), data);
    }

    #[test]
    fn garbage_never_panics() {
        for n in 0..200u8 {
            let v: Vec<u8> = (0..(n as usize * 3))
                .map(|i| (i as u8).wrapping_mul(n))
                .collect();
            let _ = filter_aborted(Bytes::from(v), &[(0, 0), (1, -5)]);
        }
    }
}
