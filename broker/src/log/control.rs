//! Transaction markers: the control batches that end a transaction on a partition (KIP-98).
//!
//! ```text
//! RecordBatch v2, attributes 0x30 (transactional | control), baseSequence -1, one record:
//!   length varint, attributes i8 = 0, timestampDelta varint = 0, offsetDelta varint = 0,
//!   keyLength varint = 4,   key   = version i16 (0), type i16 (0 ABORT, 1 COMMIT)
//!   valueLength varint = 6, value = version i16 (0), coordinatorEpoch i32
//!   headers varint = 0
//! ```
//!
//! Markers are always uncompressed, so the type is readable from the bytes right after the
//! 61-byte header without decoding anything else.

use super::batch::HEADER_LEN;

/// Attribute bit of a transactional batch.
pub const TRANSACTIONAL: i16 = 0x10;
/// Attribute bit of a control batch.
pub const CONTROL: i16 = 0x20;

/// What a transaction marker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Abort,
    Commit,
}

/// The complete bytes of a marker batch (base offset 0, patched by the log on append).
pub fn marker_batch(
    producer_id: i64,
    producer_epoch: i16,
    marker: Marker,
    coordinator_epoch: i32,
    timestamp_ms: i64,
) -> Vec<u8> {
    let kind: i16 = match marker {
        Marker::Abort => 0,
        Marker::Commit => 1,
    };
    let mut record = vec![0u8, 0, 0]; // attributes, timestamp delta 0, offset delta 0
    record.push(8); // key length 4, zigzag
    record.extend_from_slice(&0i16.to_be_bytes());
    record.extend_from_slice(&kind.to_be_bytes());
    record.push(12); // value length 6, zigzag
    record.extend_from_slice(&0i16.to_be_bytes());
    record.extend_from_slice(&coordinator_epoch.to_be_bytes());
    record.push(0); // no headers
    let mut b = Vec::with_capacity(HEADER_LEN + 1 + record.len());
    b.extend_from_slice(&0i64.to_be_bytes());
    let batch_length = (HEADER_LEN - 12 + 1 + record.len()) as i32;
    b.extend_from_slice(&batch_length.to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes()); // leader epoch
    b.push(2); // magic
    b.extend_from_slice(&[0; 4]); // crc, below
    b.extend_from_slice(&(TRANSACTIONAL | CONTROL).to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes()); // last offset delta
    b.extend_from_slice(&timestamp_ms.to_be_bytes());
    b.extend_from_slice(&timestamp_ms.to_be_bytes());
    b.extend_from_slice(&producer_id.to_be_bytes());
    b.extend_from_slice(&producer_epoch.to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes()); // base sequence
    b.extend_from_slice(&1i32.to_be_bytes()); // record count
    b.push((record.len() as u8) << 1); // record length, zigzag (16 bytes: one byte)
    b.extend_from_slice(&record);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

fn varint(buf: &[u8], at: &mut usize) -> Option<i64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((v >> 1) as i64 ^ -((v & 1) as i64));
        }
    }
    None
}

/// The marker type of a control batch, from the bytes that follow its 61-byte header (at least
/// [`MARKER_PROBE_LEN`] of them, or the whole rest of the batch). `None` if they are not a
/// marker record.
pub fn parse_marker(after_header: &[u8]) -> Option<Marker> {
    let mut at = 0;
    let _length = varint(after_header, &mut at)?;
    at += 1; // attributes
    let _ts = varint(after_header, &mut at)?;
    let _delta = varint(after_header, &mut at)?;
    if varint(after_header, &mut at)? < 4 {
        return None;
    }
    let key = after_header.get(at..at + 4)?;
    match i16::from_be_bytes([key[2], key[3]]) {
        0 => Some(Marker::Abort),
        1 => Some(Marker::Commit),
        _ => None,
    }
}

/// Bytes after the header enough to read a marker's type.
pub const MARKER_PROBE_LEN: usize = 32;

#[cfg(test)]
mod tests {
    use super::super::batch::validate_batches;
    use super::*;

    #[test]
    fn markers_are_valid_batches_and_parse_back() {
        for marker in [Marker::Abort, Marker::Commit] {
            let b = marker_batch(77, 3, marker, 0, 1_700_000_000_000);
            let v = validate_batches(&b, 1 << 20).unwrap();
            assert_eq!(v.len(), 1);
            let h = v[0].header;
            assert_eq!(h.attributes, TRANSACTIONAL | CONTROL);
            assert_eq!((h.producer_id, h.producer_epoch), (77, 3));
            assert_eq!(h.size(), b.len());
            assert_eq!(parse_marker(&b[HEADER_LEN..]), Some(marker));
        }
        assert_eq!(parse_marker(&[]), None);
        assert_eq!(parse_marker(&[0xff; 40]), None);
    }
}
