//! The fixed 61-byte RecordBatch v2 header: parse, validate, patch in place.
//!
//! ```text
//!  0  baseOffset            i64  ┐ patched by the broker,
//!  8  batchLength           i32  │ outside the CRC
//! 12  partitionLeaderEpoch  i32  ┘
//! 16  magic                 i8   (= 2)
//! 17  crc                   u32  CRC-32C of bytes 21..end
//! 21  attributes            i16  ┐
//! 23  lastOffsetDelta       i32  │
//! 27  baseTimestamp         i64  │
//! 35  maxTimestamp          i64  │ covered by the CRC
//! 43  producerId            i64  │
//! 51  producerEpoch         i16  │
//! 53  baseSequence          i32  │
//! 57  recordCount           i32  │
//! 61  records …                  ┘
//! ```
//!
//! `batchLength` counts the bytes after itself, so a batch occupies `12 + batchLength` bytes.
//! Records are never decoded here: compressed batches pass through untouched.

use super::LogError;

/// Bytes of the v2 batch header.
pub const HEADER_LEN: usize = 61;
/// Bytes before `batchLength`'s count starts (baseOffset + batchLength), Kafka's LOG_OVERHEAD.
pub const LOG_OVERHEAD: usize = 12;
/// The only record format the log stores.
pub const MAGIC_V2: i8 = 2;

const BATCH_LENGTH_AT: usize = 8;
const LEADER_EPOCH_AT: usize = 12;
const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
const CRC_START: usize = 21;
const ATTRIBUTES_AT: usize = 21;
const LAST_OFFSET_DELTA_AT: usize = 23;
const BASE_TIMESTAMP_AT: usize = 27;
const MAX_TIMESTAMP_AT: usize = 35;
const PRODUCER_ID_AT: usize = 43;
const PRODUCER_EPOCH_AT: usize = 51;
const BASE_SEQUENCE_AT: usize = 53;
const RECORD_COUNT_AT: usize = 57;

/// The parsed header of one v2 record batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}

fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn be_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_be_bytes(a)
}

impl BatchHeader {
    /// Parses the header at the start of `buf` and checks what the header alone can tell:
    /// magic 2, a batch length that covers at least the header, a non-negative record count
    /// and last offset delta. The CRC is not checked (see [`BatchHeader::check_crc`]).
    /// `Ok(None)` if `buf` is shorter than a header.
    ///
    /// # Errors
    /// `CorruptBatch` (with `position` 0; callers add their own position).
    pub fn parse(buf: &[u8]) -> Result<Option<BatchHeader>, LogError> {
        if buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let header = BatchHeader {
            base_offset: be_i64(buf, 0),
            batch_length: be_i32(buf, BATCH_LENGTH_AT),
            partition_leader_epoch: be_i32(buf, LEADER_EPOCH_AT),
            magic: buf[MAGIC_AT] as i8,
            crc: be_i32(buf, CRC_AT) as u32,
            attributes: be_i16(buf, ATTRIBUTES_AT),
            last_offset_delta: be_i32(buf, LAST_OFFSET_DELTA_AT),
            base_timestamp: be_i64(buf, BASE_TIMESTAMP_AT),
            max_timestamp: be_i64(buf, MAX_TIMESTAMP_AT),
            producer_id: be_i64(buf, PRODUCER_ID_AT),
            producer_epoch: be_i16(buf, PRODUCER_EPOCH_AT),
            base_sequence: be_i32(buf, BASE_SEQUENCE_AT),
            record_count: be_i32(buf, RECORD_COUNT_AT),
        };
        let corrupt = |reason| {
            Err(LogError::CorruptBatch {
                position: 0,
                reason,
            })
        };
        if header.magic != MAGIC_V2 {
            return corrupt("magic is not 2");
        }
        if header.batch_length < (HEADER_LEN - LOG_OVERHEAD) as i32 {
            return corrupt("batch length shorter than the header");
        }
        if header.record_count < 0 {
            return corrupt("negative record count");
        }
        if header.last_offset_delta < 0 {
            return corrupt("negative last offset delta");
        }
        if header.base_offset < 0
            || header
                .base_offset
                .checked_add(header.last_offset_delta as i64)
                .is_none()
        {
            return corrupt("base offset out of range");
        }
        Ok(Some(header))
    }

    /// Bytes the whole batch occupies: `12 + batchLength`.
    pub fn size(&self) -> usize {
        LOG_OVERHEAD + self.batch_length as usize
    }

    /// Offset of the batch's last record.
    pub fn last_offset(&self) -> i64 {
        self.base_offset + self.last_offset_delta as i64
    }

    /// The offset after the batch.
    pub fn next_offset(&self) -> i64 {
        self.last_offset() + 1
    }

    /// Checks the CRC-32C of a whole batch (`batch.len() == self.size()`).
    ///
    /// # Errors
    /// `CorruptBatch` on a mismatch or a slice of the wrong length.
    pub fn check_crc(&self, batch: &[u8]) -> Result<(), LogError> {
        if batch.len() != self.size() {
            return Err(LogError::CorruptBatch {
                position: 0,
                reason: "batch length disagrees with the bytes",
            });
        }
        if crc32c::crc32c(&batch[CRC_START..]) != self.crc {
            return Err(LogError::CorruptBatch {
                position: 0,
                reason: "CRC-32C mismatch",
            });
        }
        Ok(())
    }

    /// The CRC-32C state to feed the bytes after the header into, for callers that check a
    /// batch in chunks (recovery): `crc32c_append(start, rest)` must equal `self.crc`.
    pub fn crc_of_header_tail(header_bytes: &[u8]) -> u32 {
        crc32c::crc32c(&header_bytes[CRC_START..HEADER_LEN])
    }
}

/// One batch found by [`validate_batches`]: where it is in the buffer and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidBatch {
    pub position: usize,
    pub header: BatchHeader,
}

/// Validates a producer's record set: one or more v2 batches back to back, each complete,
/// with a matching CRC-32C, at least one record, `lastOffsetDelta + 1 == recordCount` (as
/// Kafka's LogValidator requires of client batches) and no larger than `max_batch_bytes`.
///
/// # Errors
/// `CorruptBatch` with the byte position of the offending batch; `MessageTooLarge`.
pub fn validate_batches(buf: &[u8], max_batch_bytes: usize) -> Result<Vec<ValidBatch>, LogError> {
    if buf.is_empty() {
        return Err(LogError::CorruptBatch {
            position: 0,
            reason: "no record batch",
        });
    }
    let mut out = Vec::with_capacity((buf.len() / HEADER_LEN).min(1024));
    let mut pos = 0usize;
    while pos < buf.len() {
        let at = |e: LogError| match e {
            LogError::CorruptBatch { reason, .. } => LogError::CorruptBatch {
                position: pos,
                reason,
            },
            other => other,
        };
        let rest = &buf[pos..];
        let header = match BatchHeader::parse(rest).map_err(at)? {
            Some(h) => h,
            None => {
                return Err(LogError::CorruptBatch {
                    position: pos,
                    reason: "truncated batch header",
                })
            }
        };
        let size = header.size();
        if size > max_batch_bytes {
            return Err(LogError::MessageTooLarge {
                size,
                max: max_batch_bytes,
            });
        }
        if size > rest.len() {
            return Err(LogError::CorruptBatch {
                position: pos,
                reason: "batch length exceeds the bytes sent",
            });
        }
        header.check_crc(&rest[..size]).map_err(at)?;
        if header.record_count == 0 {
            return Err(LogError::CorruptBatch {
                position: pos,
                reason: "batch has no records",
            });
        }
        if header.last_offset_delta as i64 + 1 != header.record_count as i64 {
            return Err(LogError::CorruptBatch {
                position: pos,
                reason: "last offset delta disagrees with record count",
            });
        }
        out.push(ValidBatch {
            position: pos,
            header,
        });
        pos += size;
    }
    Ok(out)
}

/// Writes `base_offset` into the batch at the start of `batch` (outside the CRC).
/// Does nothing if `batch` is shorter than a header.
pub fn patch_base_offset(batch: &mut [u8], base_offset: i64) {
    if batch.len() >= HEADER_LEN {
        batch[..8].copy_from_slice(&base_offset.to_be_bytes());
    }
}

/// Writes the partition leader epoch into the batch at the start of `batch` (outside the CRC).
/// Does nothing if `batch` is shorter than a header.
pub fn patch_leader_epoch(batch: &mut [u8], epoch: i32) {
    if batch.len() >= HEADER_LEN {
        batch[LEADER_EPOCH_AT..LEADER_EPOCH_AT + 4].copy_from_slice(&epoch.to_be_bytes());
    }
}

/// A tiny v2 batch encoder for tests: uncompressed records with the given values.
#[cfg(test)]
pub(crate) mod test_support {
    fn varint(out: &mut Vec<u8>, v: i64) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        loop {
            if z < 0x80 {
                out.push(z as u8);
                return;
            }
            out.push((z as u8 & 0x7f) | 0x80);
            z >>= 7;
        }
    }

    /// A valid batch with base offset 0, records `values`, timestamps `timestamp` onward.
    pub(crate) fn batch(values: &[&[u8]], timestamp: i64) -> Vec<u8> {
        let mut records = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let mut r = Vec::new();
            r.push(0u8); // attributes
            varint(&mut r, i as i64); // timestamp delta
            varint(&mut r, i as i64); // offset delta
            varint(&mut r, -1); // null key
            varint(&mut r, v.len() as i64);
            r.extend_from_slice(v);
            varint(&mut r, 0); // headers
            varint(&mut records, r.len() as i64);
            records.extend_from_slice(&r);
        }
        let n = values.len() as i32;
        let mut b = Vec::with_capacity(61 + records.len());
        b.extend_from_slice(&0i64.to_be_bytes());
        b.extend_from_slice(&((49 + records.len()) as i32).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.push(2);
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&(n - 1).max(0).to_be_bytes());
        b.extend_from_slice(&timestamp.to_be_bytes());
        b.extend_from_slice(&(timestamp + (n as i64 - 1).max(0)).to_be_bytes());
        b.extend_from_slice(&(-1i64).to_be_bytes());
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.extend_from_slice(&n.to_be_bytes());
        b.extend_from_slice(&records);
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        b
    }

    /// A batch of `n` records of `size` bytes each.
    pub(crate) fn batch_of(n: usize, size: usize, timestamp: i64) -> Vec<u8> {
        let value = vec![b'x'; size];
        let values: Vec<&[u8]> = (0..n).map(|_| value.as_slice()).collect();
        batch(&values, timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::batch;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_validates_a_batch() {
        let b = batch(&[b"a", b"bc", b"def"], 1000);
        let v = validate_batches(&b, 1 << 20).unwrap();
        assert_eq!(v.len(), 1);
        let h = v[0].header;
        assert_eq!(h.record_count, 3);
        assert_eq!(h.last_offset_delta, 2);
        assert_eq!(h.max_timestamp, 1002);
        assert_eq!(h.size(), b.len());
    }

    #[test]
    fn several_batches_back_to_back() {
        let mut b = batch(&[b"a"], 1);
        b.extend(batch(&[b"b", b"c"], 2));
        let v = validate_batches(&b, 1 << 20).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].position, b.len() - v[1].header.size());
    }

    #[test]
    fn patching_keeps_the_crc_valid() {
        let mut b = batch(&[b"a", b"b"], 1);
        patch_base_offset(&mut b, 1234);
        patch_leader_epoch(&mut b, 7);
        let v = validate_batches(&b, 1 << 20).unwrap();
        assert_eq!(v[0].header.base_offset, 1234);
        assert_eq!(v[0].header.partition_leader_epoch, 7);
        assert_eq!(v[0].header.last_offset(), 1235);
    }

    #[test]
    fn rejects_bad_batches() {
        let good = batch(&[b"a", b"b"], 1);
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            validate_batches(&flipped, 1 << 20),
            Err(LogError::CorruptBatch {
                reason: "CRC-32C mismatch",
                ..
            })
        ));
        let mut magic = good.clone();
        magic[16] = 1;
        assert!(matches!(
            validate_batches(&magic, 1 << 20),
            Err(LogError::CorruptBatch { .. })
        ));
        assert!(matches!(
            validate_batches(&good[..good.len() - 1], 1 << 20),
            Err(LogError::CorruptBatch { .. })
        ));
        assert!(matches!(
            validate_batches(&good[..30], 1 << 20),
            Err(LogError::CorruptBatch { .. })
        ));
        assert!(matches!(
            validate_batches(&good, 10),
            Err(LogError::MessageTooLarge { .. })
        ));
        assert!(validate_batches(&[], 1 << 20).is_err());
        let mut two = good.clone();
        two.extend(&flipped);
        assert!(
            matches!(validate_batches(&two, 1 << 20), Err(LogError::CorruptBatch { position, .. }) if position == good.len())
        );
    }

    #[test]
    fn rejects_inconsistent_last_offset_delta() {
        let mut b = batch(&[b"a", b"b"], 1);
        b[23..27].copy_from_slice(&5i32.to_be_bytes());
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            validate_batches(&b, 1 << 20),
            Err(LogError::CorruptBatch { .. })
        ));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = validate_batches(&bytes, 1 << 20);
            let _ = BatchHeader::parse(&bytes);
        }

        #[test]
        fn corrupted_valid_batches_never_panic(flip in 0usize..200, len_cut in 0usize..200) {
            let mut b = batch(&[b"hello", b"world"], 5);
            let n = b.len();
            b[flip % n] ^= 0x5a;
            let cut = n - (len_cut % n);
            let _ = validate_batches(&b[..cut], 1 << 20);
        }
    }
}
