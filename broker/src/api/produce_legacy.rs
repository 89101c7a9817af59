//! Produce v0–v2: decoded and answered by hand, because the protocol crate knows only v3+.
//!
//! Produce is advertised from v0 (DESIGN.md decision 6: librdkafka turns compression off
//! otherwise); no current client sends v0–v2, but one that does (a client with
//! `api.version.request=false`) must get an answer, not a closed connection.
//!
//! ```text
//! request  v0–v2: acks i16, timeout_ms i32,
//!                 [topic string, [partition i32, records bytes]]
//! response v0:    [topic string, [partition i32, error_code i16, base_offset i64]]
//!          v1:    v0 + throttle_time_ms i32 at the end
//!          v2:    v1 + log_append_time i64 after base_offset
//! ```
//!
//! These versions carry message sets of magic 0/1, which this broker does not store (it keeps
//! producers' v2 batches as they are): such partitions get UNSUPPORTED_FOR_MESSAGE_FORMAT.
//! Magic 2 batches sent with an old request version are stored as usual.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::produce::{self, Outcome};
use super::{error_code, RequestContext, RequestError, Response, ResponsePart};

/// Kafka's UNSUPPORTED_FOR_MESSAGE_FORMAT.
const UNSUPPORTED_FOR_MESSAGE_FORMAT: i16 = 43;
/// Byte offset of the magic byte in both message sets and record batches.
const MAGIC_AT: usize = 16;

fn malformed(ctx: &RequestContext, reason: &str) -> RequestError {
    RequestError::Malformed {
        key: ctx.api_key,
        version: ctx.version,
        reason: reason.into(),
    }
}

fn take_string(ctx: &RequestContext, b: &mut Bytes) -> Result<StrBytes, RequestError> {
    if b.remaining() < 2 {
        return Err(malformed(ctx, "truncated string"));
    }
    let n = b.get_i16();
    if n < 0 || b.remaining() < n as usize {
        return Err(malformed(ctx, "bad string length"));
    }
    StrBytes::from_utf8(b.split_to(n as usize)).map_err(|_| malformed(ctx, "string is not UTF-8"))
}

fn take_count(ctx: &RequestContext, b: &mut Bytes, min_item: usize) -> Result<usize, RequestError> {
    if b.remaining() < 4 {
        return Err(malformed(ctx, "truncated array"));
    }
    let n = b.get_i32();
    // Never trust a count the remaining bytes cannot hold.
    if n < 0 || n as usize > b.remaining() / min_item {
        return Err(malformed(ctx, "bad array length"));
    }
    Ok(n as usize)
}

/// Decodes a v0–v2 request body into the crate's struct (as v3 without a transactional id).
///
/// # Errors
/// `RequestError::Malformed`.
pub fn decode(ctx: &RequestContext, mut b: Bytes) -> Result<ProduceRequest, RequestError> {
    if b.remaining() < 6 {
        return Err(malformed(ctx, "truncated request"));
    }
    let acks = b.get_i16();
    let timeout_ms = b.get_i32();
    let topics = take_count(ctx, &mut b, 6)?;
    let mut topic_data = Vec::with_capacity(topics);
    for _ in 0..topics {
        let name = take_string(ctx, &mut b)?;
        let partitions = take_count(ctx, &mut b, 8)?;
        let mut partition_data = Vec::with_capacity(partitions);
        for _ in 0..partitions {
            if b.remaining() < 8 {
                return Err(malformed(ctx, "truncated partition"));
            }
            let index = b.get_i32();
            let len = b.get_i32();
            let records = if len < 0 {
                None
            } else if b.remaining() < len as usize {
                return Err(malformed(ctx, "truncated records"));
            } else {
                Some(b.split_to(len as usize))
            };
            partition_data.push(
                PartitionProduceData::default()
                    .with_index(index)
                    .with_records(records),
            );
        }
        topic_data.push(
            TopicProduceData::default()
                .with_name(TopicName(name))
                .with_partition_data(partition_data),
        );
    }
    Ok(ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(timeout_ms)
        .with_topic_data(topic_data))
}

/// Serves a v0–v2 Produce.
///
/// # Errors
/// `RequestError::Malformed` for a body that does not decode.
pub async fn handle(ctx: &RequestContext, body: Bytes) -> Result<Response, RequestError> {
    let req = decode(ctx, body)?;
    let old_format: Vec<(String, i32)> = req
        .topic_data
        .iter()
        .flat_map(|t| {
            t.partition_data
                .iter()
                .filter(|p| {
                    p.records
                        .as_ref()
                        .is_some_and(|r| r.len() > MAGIC_AT && r[MAGIC_AT] < 2)
                })
                .map(|p| (t.name.0.to_string(), p.index))
        })
        .collect();
    let resp = match produce::handle(ctx, req).await {
        Outcome::Respond(resp) => resp,
        Outcome::Silent => return Ok(Response::Nothing),
        Outcome::Close => return Ok(Response::Close),
    };
    Ok(Response::Frame(vec![ResponsePart::Bytes(encode(
        ctx.correlation_id,
        ctx.version,
        &resp,
        &old_format,
    ))]))
}

/// The whole response frame (size prefix, header v0, body) of version `version`.
pub fn encode(
    correlation_id: i32,
    version: i16,
    resp: &ProduceResponse,
    old_format: &[(String, i32)],
) -> Bytes {
    let mut buf = BytesMut::with_capacity(64);
    buf.put_i32(0);
    buf.put_i32(correlation_id);
    buf.put_i32(resp.responses.len() as i32);
    for t in &resp.responses {
        let name = t.name.0.as_bytes();
        buf.put_i16(name.len() as i16);
        buf.put_slice(name);
        buf.put_i32(t.partition_responses.len() as i32);
        for p in &t.partition_responses {
            let old = old_format
                .iter()
                .any(|(n, i)| n.as_bytes() == name && *i == p.index);
            buf.put_i32(p.index);
            if old && p.error_code != error_code::NONE {
                buf.put_i16(UNSUPPORTED_FOR_MESSAGE_FORMAT);
            } else {
                buf.put_i16(p.error_code);
            }
            buf.put_i64(p.base_offset);
            if version >= 2 {
                buf.put_i64(p.log_append_time_ms);
            }
        }
    }
    if version >= 1 {
        buf.put_i32(resp.throttle_time_ms);
    }
    let size = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    buf.freeze()
}
