//! RecordBatch v2 codec, by hand on the hot paths.
//!
//! ```text
//! batch header (61 bytes)                          record (all ints zigzag varints)
//! 0  baseOffset        i64                         length
//! 8  batchLength       i32  (bytes after this)     attributes i8
//! 12 partitionLeaderEpoch i32                      timestampDelta varlong
//! 16 magic             i8 = 2                      offsetDelta
//! 17 crc               u32  CRC-32C of 21..end     keyLength (-1 = null), key
//! 21 attributes        i16  codec bits 0-2,        valueLength (-1 = null), value
//!                           bit 3 log-append time, headerCount
//!                           bit 4 transactional,     keyLength, key, valueLength, value
//!                           bit 5 control
//! 23 lastOffsetDelta   i32
//! 27 baseTimestamp     i64
//! 35 maxTimestamp      i64
//! 43 producerId        i64
//! 51 producerEpoch     i16
//! 53 baseSequence      i32
//! 57 recordCount       i32
//! 61 records (compressed as a whole when a codec is set)
//! ```
//!
//! The producer writes each record straight into the open batch's buffer
//! ([`encode_record`]); sealing compresses the records section and prepends the header
//! ([`build_batch`]). The consumer parses headers without copying and decompresses with the
//! kafka-protocol crate's codecs ([`decode_batches`]).

use crate::error::{ErrorCode, KafkaError, Result};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::compression::{Compressor, Decompressor, Gzip, Lz4, Snappy, Zstd};

/// Size of the batch header.
pub const BATCH_HEADER_LEN: usize = 61;

/// Compression codecs (attribute bits 0-2, and `compression.codec` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Codec {
    /// No compression.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// Snappy (xerial framing).
    Snappy,
    /// LZ4 frame.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Codec {
    /// From the `compression.codec` property value.
    pub fn from_name(s: &str) -> Codec {
        match s {
            "gzip" => Codec::Gzip,
            "snappy" => Codec::Snappy,
            "lz4" => Codec::Lz4,
            "zstd" => Codec::Zstd,
            _ => Codec::None,
        }
    }

    fn bits(self) -> i16 {
        match self {
            Codec::None => 0,
            Codec::Gzip => 1,
            Codec::Snappy => 2,
            Codec::Lz4 => 3,
            Codec::Zstd => 4,
        }
    }
}

fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}
fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn uvarint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn varint_len(v: i32) -> usize {
    uvarint_len(u64::from(zigzag32(v)))
}
fn varlong_len(v: i64) -> usize {
    uvarint_len(zigzag64(v))
}

fn opt_len(b: Option<&[u8]>) -> usize {
    match b {
        None => varint_len(-1),
        Some(b) => varint_len(b.len() as i32) + b.len(),
    }
}

/// The small fields between a record's byte strings (varints, attributes), gathered on the
/// stack and appended with one copy: `BytesMut::put_u8` is a call and a `memcpy` per byte.
struct Fields {
    bytes: [u8; 32],
    len: usize,
}

impl Fields {
    fn new() -> Fields {
        Fields {
            bytes: [0; 32],
            len: 0,
        }
    }

    fn byte(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    fn varint(&mut self, v: i32) {
        self.uvarint(u64::from(zigzag32(v)));
    }

    fn varlong(&mut self, v: i64) {
        self.uvarint(zigzag64(v));
    }

    /// A nullable byte string: its length (-1 for null), then the bytes themselves.
    fn opt(&mut self, buf: &mut BytesMut, b: Option<&[u8]>) {
        match b {
            None => self.varint(-1),
            Some(b) => {
                self.varint(b.len() as i32);
                self.flush(buf);
                buf.extend_from_slice(b);
            }
        }
    }

    fn flush(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(&self.bytes[..self.len]);
        self.len = 0;
    }
}

/// A header for [`encode_record`].
pub type HeaderRef<'a> = (&'a str, Option<&'a [u8]>);

/// Bytes one record takes in a batch (including its length prefix).
pub fn record_size(
    ts_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[HeaderRef<'_>],
) -> usize {
    let body = body_size(ts_delta, offset_delta, key, value, headers);
    varint_len(body as i32) + body
}

/// The size of a record without its length prefix (see [`record_size`]).
pub fn body_size(
    ts_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[HeaderRef<'_>],
) -> usize {
    1 + varlong_len(ts_delta)
        + varint_len(offset_delta)
        + opt_len(key)
        + opt_len(value)
        + varint_len(headers.len() as i32)
        + headers
            .iter()
            .map(|(k, v)| opt_len(Some(k.as_bytes())) + opt_len(*v))
            .sum::<usize>()
}

/// Appends one record to `buf` (the open batch's records section).
pub fn encode_record(
    buf: &mut BytesMut,
    ts_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[HeaderRef<'_>],
) {
    let zero_body = body_size(0, 0, key, value, headers);
    encode_record_sized(buf, zero_body, ts_delta, offset_delta, key, value, headers);
}

/// The length prefix of a record whose body (everything after it) is `body` bytes.
pub fn record_len(body: usize) -> usize {
    varint_len(body as i32) + body
}

/// [`encode_record`] for a record whose `body_size(0, 0, ...)` the caller knows already.
pub fn encode_record_sized(
    buf: &mut BytesMut,
    zero_body: usize,
    ts_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[HeaderRef<'_>],
) {
    // The zero deltas took one byte each.
    let body = zero_body - 2 + varlong_len(ts_delta) + varint_len(offset_delta);
    buf.reserve(body + 5);
    let mut f = Fields::new();
    f.varint(body as i32);
    f.byte(0);
    f.varlong(ts_delta);
    f.varint(offset_delta);
    f.opt(buf, key);
    f.opt(buf, value);
    f.varint(headers.len() as i32);
    for (k, v) in headers {
        f.opt(buf, Some(k.as_bytes()));
        f.opt(buf, *v);
    }
    f.flush(buf);
}

/// Compresses a records section with `codec`.
///
/// # Errors
/// `_BAD_COMPRESSION` if the codec fails.
pub fn compress(codec: Codec, records: &[u8]) -> Result<Bytes> {
    let mut out = BytesMut::with_capacity(records.len() / 2 + 64);
    let fill = |b: &mut BytesMut| {
        b.put_slice(records);
        Ok(())
    };
    let r = match codec {
        Codec::None => return Ok(Bytes::copy_from_slice(records)),
        Codec::Gzip => Gzip::compress(&mut out, fill),
        Codec::Snappy => Snappy::compress(&mut out, fill),
        Codec::Lz4 => Lz4::compress(&mut out, fill),
        Codec::Zstd => Zstd::compress(&mut out, fill),
    };
    r.map_err(|e| KafkaError::with_message(ErrorCode::BAD_COMPRESSION, format!("{e}")))?;
    Ok(out.freeze())
}

/// Batch-level fields for [`build_batch`].
#[derive(Debug, Clone, Copy)]
pub struct BatchHeader {
    /// Number of records.
    pub count: i32,
    /// First record's timestamp.
    pub base_timestamp: i64,
    /// Largest timestamp.
    pub max_timestamp: i64,
    /// Producer id (-1 without idempotence).
    pub producer_id: i64,
    /// Producer epoch (-1 without idempotence).
    pub producer_epoch: i16,
    /// First sequence number (-1 without idempotence).
    pub base_sequence: i32,
    /// Codec of the (already compressed) records section.
    pub codec: Codec,
    /// Part of a transaction (attribute bit 4).
    pub transactional: bool,
}

/// Prepends the 61-byte header to an (already compressed) records section and computes the
/// CRC.
pub fn build_batch(h: &BatchHeader, records: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(BATCH_HEADER_LEN + records.len());
    b.put_bytes(0, BATCH_HEADER_LEN);
    b.put_slice(records);
    write_batch_header(h, &mut b);
    b.freeze()
}

/// Fills in the 61-byte header at the start of `batch` (whose records section follows it)
/// and computes the CRC: the producer encodes records behind a reserved header, so an
/// uncompressed batch goes out without being copied.
///
/// # Panics
/// When `batch` is shorter than the header.
pub fn write_batch_header(h: &BatchHeader, batch: &mut [u8]) {
    let records_len = batch.len() - BATCH_HEADER_LEN;
    let mut w = &mut batch[..BATCH_HEADER_LEN];
    w.put_i64(0);
    w.put_i32((BATCH_HEADER_LEN - 12 + records_len) as i32);
    w.put_i32(-1);
    w.put_i8(2);
    w.put_u32(0);
    w.put_i16(h.codec.bits() | if h.transactional { 0x10 } else { 0 });
    w.put_i32(h.count - 1);
    w.put_i64(h.base_timestamp);
    w.put_i64(h.max_timestamp);
    w.put_i64(h.producer_id);
    w.put_i16(h.producer_epoch);
    w.put_i32(h.base_sequence);
    w.put_i32(h.count);
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRecord {
    /// Absolute offset.
    pub offset: i64,
    /// Timestamp (ms).
    pub timestamp: i64,
    /// 0 create time, 1 log append time.
    pub timestamp_type: i8,
    /// Key.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
    /// Headers in order.
    pub headers: Vec<(String, Option<Bytes>)>,
}

fn get_uvarint(b: &mut Bytes) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        if !b.has_remaining() {
            return None;
        }
        let byte = b.get_u8();
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}
fn get_varlong(b: &mut Bytes) -> Option<i64> {
    let u = get_uvarint(b)?;
    Some(((u >> 1) as i64) ^ -((u & 1) as i64))
}
fn get_opt(b: &mut Bytes) -> Option<Option<Bytes>> {
    let n = get_varlong(b)?;
    if n < 0 {
        return Some(None);
    }
    let n = usize::try_from(n).ok()?;
    if b.remaining() < n {
        return None;
    }
    Some(Some(b.split_to(n)))
}

fn decompress(codec: i16, mut data: Bytes) -> Result<Bytes> {
    let take = |b: &mut Bytes| Ok(b.copy_to_bytes(b.remaining()));
    let r = match codec {
        0 => return Ok(data),
        1 => Gzip::decompress(&mut data, take),
        2 => Snappy::decompress(&mut data, take),
        3 => Lz4::decompress(&mut data, take),
        4 => Zstd::decompress(&mut data, take),
        _ => {
            return Err(KafkaError::with_message(
                ErrorCode::BAD_COMPRESSION,
                format!("unknown codec {codec}"),
            ))
        }
    };
    r.map_err(|e| KafkaError::with_message(ErrorCode::BAD_COMPRESSION, format!("{e}")))
}

fn bad(what: &str) -> KafkaError {
    KafkaError::with_message(
        ErrorCode::BAD_MSG,
        format!("Malformed record batch: {what}"),
    )
}

/// Decodes every complete batch in `data` (a Fetch response's records), skipping control
/// batches and records before `min_offset`. A trailing partial batch is ignored, as Kafka
/// allows. Aborted transactions are not filtered. Returns the offset after the last complete
/// batch (control batches included), if any.
///
/// # Errors
/// `_BAD_MSG` for a malformed batch, `_BAD_COMPRESSION` when decompression fails.
pub fn decode_batches(
    mut data: Bytes,
    min_offset: i64,
    out: &mut Vec<DecodedRecord>,
) -> Result<Option<i64>> {
    let mut next: Option<i64> = None;
    while data.remaining() >= 17 {
        let len = i32::from_be_bytes([data[8], data[9], data[10], data[11]]);
        if len < 0 {
            return Err(bad("negative length"));
        }
        let total = 12 + len as usize;
        if data.remaining() < total {
            break;
        }
        if total < 17 {
            return Err(bad("short batch"));
        }
        let mut batch = data.split_to(total);
        let magic = batch[16];
        if magic != 2 {
            // Legacy message sets (magic 0/1) are not produced by any broker we talk to.
            continue;
        }
        if batch.len() < BATCH_HEADER_LEN {
            return Err(bad("short header"));
        }
        let base_offset = batch.get_i64();
        batch.advance(4 + 4 + 1 + 4);
        let attributes = batch.get_i16();
        let last_delta = batch.get_i32();
        let after = base_offset
            .saturating_add(i64::from(last_delta))
            .saturating_add(1);
        next = Some(next.map_or(after, |n: i64| n.max(after)));
        let base_ts = batch.get_i64();
        let max_ts = batch.get_i64();
        batch.advance(8 + 2 + 4);
        let count = batch.get_i32();
        if attributes & 0x20 != 0 {
            continue;
        }
        let log_append = attributes & 0x08 != 0;
        let mut recs = decompress(attributes & 0x07, batch)?;
        for _ in 0..count.max(0) {
            let rec_len = get_varlong(&mut recs).ok_or_else(|| bad("record length"))?;
            let rec_len = usize::try_from(rec_len).map_err(|_| bad("record length"))?;
            if recs.remaining() < rec_len {
                return Err(bad("truncated record"));
            }
            let mut r = recs.split_to(rec_len);
            if !r.has_remaining() {
                return Err(bad("empty record"));
            }
            r.advance(1);
            let ts_delta = get_varlong(&mut r).ok_or_else(|| bad("timestamp"))?;
            let off_delta = get_varlong(&mut r).ok_or_else(|| bad("offset"))?;
            let key = get_opt(&mut r).ok_or_else(|| bad("key"))?;
            let value = get_opt(&mut r).ok_or_else(|| bad("value"))?;
            let hc = get_varlong(&mut r).ok_or_else(|| bad("headers"))?;
            let mut headers = Vec::with_capacity(hc.clamp(0, 64) as usize);
            for _ in 0..hc.max(0) {
                let k = get_opt(&mut r)
                    .ok_or_else(|| bad("header key"))?
                    .unwrap_or_default();
                let v = get_opt(&mut r).ok_or_else(|| bad("header value"))?;
                headers.push((String::from_utf8_lossy(&k).into_owned(), v));
            }
            let offset = base_offset + off_delta;
            if offset < min_offset {
                continue;
            }
            out.push(DecodedRecord {
                offset,
                timestamp: if log_append {
                    max_ts
                } else {
                    base_ts + ts_delta
                },
                timestamp_type: i8::from(log_append),
                key,
                value,
                headers,
            });
        }
    }
    Ok(next)
}

/// The offset after the last complete v2 batch in `data`, from batch headers only (no
/// decompression): lets the fetcher ask for the next data before decoding this.
pub fn scan_next_offset(data: &[u8]) -> Option<i64> {
    let mut next = None;
    let mut pos = 0usize;
    while data.len().saturating_sub(pos) >= 27 {
        let b = &data[pos..];
        let len = i32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        if len < 15 {
            break;
        }
        let total = 12 + len as usize;
        if b.len() < total {
            break;
        }
        if b[16] == 2 {
            let base = i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            let last = i32::from_be_bytes([b[23], b[24], b[25], b[26]]);
            let after = base.saturating_add(i64::from(last)).saturating_add(1);
            next = Some(next.map_or(after, |n: i64| n.max(after)));
        }
        pos += total;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::records::RecordBatchDecoder;

    fn sample(codec: Codec) -> Bytes {
        let mut recs = BytesMut::new();
        encode_record(
            &mut recs,
            0,
            0,
            Some(b"k1"),
            Some(b"v1"),
            &[("h", Some(b"x"))],
        );
        encode_record(&mut recs, 5, 1, None, None, &[]);
        encode_record(
            &mut recs,
            7,
            2,
            Some(b""),
            Some(&[7u8; 300]),
            &[("n", None)],
        );
        assert_eq!(
            recs.len(),
            record_size(0, 0, Some(b"k1"), Some(b"v1"), &[("h", Some(b"x"))])
                + record_size(5, 1, None, None, &[])
                + record_size(7, 2, Some(b""), Some(&[7u8; 300]), &[("n", None)])
        );
        let body = compress(codec, &recs).unwrap();
        let h = BatchHeader {
            count: 3,
            base_timestamp: 1000,
            max_timestamp: 1007,
            producer_id: 9,
            producer_epoch: 1,
            base_sequence: 4,
            codec,
            transactional: false,
        };
        build_batch(&h, &body)
    }

    #[test]
    fn round_trip_every_codec_and_crate_agrees() {
        for codec in [
            Codec::None,
            Codec::Gzip,
            Codec::Snappy,
            Codec::Lz4,
            Codec::Zstd,
        ] {
            let b = sample(codec);
            let mut out = Vec::new();
            decode_batches(b.clone(), 0, &mut out).unwrap();
            assert_eq!(out.len(), 3, "{codec:?}");
            assert_eq!(out[0].key.as_deref(), Some(&b"k1"[..]));
            assert_eq!(
                out[0].headers,
                vec![("h".to_string(), Some(Bytes::from_static(b"x")))]
            );
            assert_eq!(out[1].value, None);
            assert_eq!(out[1].timestamp, 1005);
            assert_eq!(out[2].offset, 2);
            assert_eq!(out[2].key.as_deref(), Some(&b""[..]));
            // The kafka-protocol crate validates the CRC and decodes the same records.
            let mut buf = b.clone();
            let set = RecordBatchDecoder::decode(&mut buf).unwrap();
            assert_eq!(set.records.len(), 3);
            assert_eq!(set.records[2].value.as_ref().map(|v| v.len()), Some(300));
            assert_eq!(set.records[0].sequence, 4);
        }
    }

    #[test]
    fn scan_agrees_with_decode() {
        let b = sample(Codec::Zstd);
        let mut two = BytesMut::from(&b[..]);
        let mut second = BytesMut::from(&b[..]);
        second[0..8].copy_from_slice(&3i64.to_be_bytes());
        two.extend_from_slice(&second);
        let two = two.freeze();
        let mut out = Vec::new();
        let next = decode_batches(two.clone(), 0, &mut out).unwrap();
        assert_eq!(next, Some(6));
        assert_eq!(scan_next_offset(&two), Some(6));
        assert_eq!(scan_next_offset(&two[..two.len() - 1]), Some(3));
        assert_eq!(scan_next_offset(&[]), None);
    }

    #[test]
    fn min_offset_partial_and_garbage() {
        let b = sample(Codec::None);
        let mut out = Vec::new();
        decode_batches(b.clone(), 2, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        let mut out = Vec::new();
        decode_batches(b.slice(..b.len() - 3), 0, &mut out).unwrap();
        assert!(out.is_empty());
        let mut junk = BytesMut::from(&b[..]);
        junk[70] = 0xff;
        junk[71] = 0xff;
        let _ = decode_batches(junk.freeze(), 0, &mut Vec::new());
        let _ = decode_batches(Bytes::from_static(&[0u8; 40]), 0, &mut Vec::new());
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = decode_batches(Bytes::from(data), 0, &mut Vec::new());
        }
    }
}
