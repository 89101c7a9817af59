//! Fetch: long-poll for records and send them from the segment files with `sendfile`.
//!
//! The response is written by hand (only here, DESIGN.md decision 3) so that each partition's
//! records are a [`ResponsePart::File`] byte range instead of bytes in memory. The encoding
//! is tested byte for byte against the crate's own `FetchResponse` encoding below.
//!
//! Waiting: each partition's `watch` channel carries its log end offset; the request
//! subscribes before reading, so an append between the read and the wait still wakes it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::FetchRequest;
use tokio::time::Instant;
use uuid::Uuid;

use super::{error_code, log_error_code, RequestContext, RequestError, Response, ResponsePart};
use crate::log::FetchSlice;
use crate::topics::Partition;

/// Longest long-poll we honour, whatever the client asks.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Kafka's broker-side `fetch.max.bytes` default: caps what one response carries (plus at
/// most one oversized first batch), so the frame size always fits its i32.
const FETCH_MAX_BYTES: u64 = 57_671_680;

/// One partition's part of the answer.
#[derive(Debug, Clone)]
pub struct PartitionResult {
    pub index: i32,
    pub error_code: i16,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
    /// Whole record batches; `None` = empty (but non-null) records.
    pub records: Option<FetchSlice>,
    /// (producer id, first offset) of aborted transactions in the range (read_committed).
    pub aborted: Vec<(i64, i64)>,
}

/// Aborted transactions listed in one partition's answer at most (the client then sees
/// the rest at its next fetch, which starts later).
const MAX_ABORTED: usize = 10_000;

/// Fetch `isolation_level` 1: only records below the last stable offset.
const READ_COMMITTED: i8 = 1;

/// One topic's part of the answer.
#[derive(Debug, Clone)]
pub struct TopicResult {
    pub name: String,
    pub id: Uuid,
    pub partitions: Vec<PartitionResult>,
}

struct Wanted {
    partition: Option<Arc<Partition>>,
    unknown_code: i16,
    index: i32,
    offset: i64,
    max_bytes: i32,
}

/// Serves Fetch.
///
/// # Errors
/// None today; the signature matches dispatch.
pub async fn handle(ctx: &RequestContext, req: FetchRequest) -> Result<Response, RequestError> {
    let by_id = ctx.version >= 13;
    let mut wanted: Vec<(String, Uuid, Vec<Wanted>)> = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        let topic = if by_id {
            ctx.state.topics.get_by_id(t.topic_id)
        } else {
            ctx.state.topics.get(t.topic.0.as_str())
        };
        let unknown_code = if by_id {
            error_code::UNKNOWN_TOPIC_ID
        } else {
            error_code::UNKNOWN_TOPIC_OR_PARTITION
        };
        let parts = t
            .partitions
            .iter()
            .map(|p| Wanted {
                partition: topic.as_ref().and_then(|t| t.partition(p.partition)),
                unknown_code: if topic.is_some() {
                    error_code::UNKNOWN_TOPIC_OR_PARTITION
                } else {
                    unknown_code
                },
                index: p.partition,
                offset: p.fetch_offset,
                max_bytes: p.partition_max_bytes,
            })
            .collect();
        let name = topic
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_else(|| t.topic.0.to_string());
        wanted.push((name, t.topic_id, parts));
    }
    let wait = Duration::from_millis(req.max_wait_ms.max(0) as u64).min(MAX_WAIT);
    let deadline = Instant::now() + wait;
    let min_bytes = req.min_bytes.max(0) as u64;
    let max_bytes = if req.max_bytes <= 0 {
        FETCH_MAX_BYTES
    } else {
        (req.max_bytes as u64).min(FETCH_MAX_BYTES)
    };
    let shutdown = ctx.state.shutdown.clone();
    let results = loop {
        let mut receivers: Vec<_> = wanted
            .iter()
            .flat_map(|(_, _, ps)| ps.iter().filter_map(|w| w.partition.as_ref()))
            .map(|p| {
                let mut rx = p.subscribe();
                rx.borrow_and_update();
                rx
            })
            .collect();
        let committed = req.isolation_level == READ_COMMITTED;
        let (results, bytes, errors) = read_all(&wanted, max_bytes, committed);
        if bytes >= min_bytes || errors || Instant::now() >= deadline || shutdown.is_cancelled() {
            break results;
        }
        let mut changes: Vec<Pin<Box<dyn Future<Output = _> + Send + '_>>> = receivers
            .iter_mut()
            .map(|rx| Box::pin(rx.changed()) as _)
            .collect();
        let any_change = std::future::poll_fn(|cx| {
            for f in changes.iter_mut() {
                if f.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        });
        tokio::select! {
            _ = any_change => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shutdown.cancelled() => {}
        }
    };
    Ok(Response::Frame(encode_response(
        ctx.correlation_id,
        ctx.version,
        &results,
    )))
}

/// Reads every wanted partition once: (results, record bytes found, any error).
fn read_all(
    wanted: &[(String, Uuid, Vec<Wanted>)],
    max_bytes: u64,
    read_committed: bool,
) -> (Vec<TopicResult>, u64, bool) {
    let mut total: u64 = 0;
    let mut errors = false;
    let mut topics = Vec::with_capacity(wanted.len());
    for (name, id, parts) in wanted {
        let mut partitions = Vec::with_capacity(parts.len());
        for w in parts {
            let mut r = PartitionResult {
                index: w.index,
                error_code: error_code::NONE,
                high_watermark: -1,
                last_stable_offset: -1,
                log_start_offset: -1,
                records: None,
                aborted: Vec::new(),
            };
            let guard = w.partition.as_ref().map(|p| p.log());
            match guard.as_ref().and_then(|g| g.as_ref()) {
                None => {
                    r.error_code = w.unknown_code;
                    errors = true;
                }
                Some(log) => {
                    let (start, end) = (log.log_start_offset(), log.log_end_offset());
                    let lso = w
                        .partition
                        .as_ref()
                        .map_or(end, |p| p.producers().last_stable_offset(end));
                    let visible = if read_committed { lso } else { end };
                    r.high_watermark = end;
                    r.last_stable_offset = lso;
                    r.log_start_offset = start;
                    if w.offset < start || w.offset > end {
                        r.error_code = error_code::OFFSET_OUT_OF_RANGE;
                        errors = true;
                    } else if w.offset < visible && total < max_bytes {
                        let limit = (w.max_bytes.max(0) as u64).min(max_bytes - total) as u32;
                        match log.read_upto(w.offset, limit.max(1), visible) {
                            // Only the first non-empty partition may exceed the limits.
                            Ok(slice) if slice.len > 0 && (total == 0 || slice.len <= limit) => {
                                total += slice.len as u64;
                                r.records = Some(slice);
                                if read_committed {
                                    r.aborted = log.txn_index().collect(w.offset, lso);
                                    r.aborted.truncate(MAX_ABORTED);
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                r.error_code = log_error_code(&e);
                                errors = true;
                            }
                        }
                    }
                }
            }
            partitions.push(r);
        }
        topics.push(TopicResult {
            name: name.clone(),
            id: *id,
            partitions,
        });
    }
    (topics, total, errors)
}

fn put_uvarint(buf: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

fn put_array_len(buf: &mut BytesMut, flexible: bool, n: usize) {
    if flexible {
        put_uvarint(buf, n as u64 + 1);
    } else {
        buf.put_i32(n as i32);
    }
}

/// Encodes a whole Fetch response frame (size prefix, header v0/v1, body), records as file
/// ranges. No tagged fields are written (all are at their defaults).
pub fn encode_response(
    correlation_id: i32,
    version: i16,
    topics: &[TopicResult],
) -> Vec<ResponsePart> {
    let flexible = version >= 12;
    let mut parts: Vec<Piece> = Vec::new();
    let mut buf = BytesMut::with_capacity(128);
    buf.put_i32(0); // size, patched below
    buf.put_i32(correlation_id);
    if flexible {
        put_uvarint(&mut buf, 0); // header tagged fields
    }
    buf.put_i32(0); // throttle_time_ms
    if version >= 7 {
        buf.put_i16(error_code::NONE);
        buf.put_i32(0); // session_id: no fetch sessions, clients keep sending full fetches
    }
    put_array_len(&mut buf, flexible, topics.len());
    for t in topics {
        if version <= 12 {
            if flexible {
                put_uvarint(&mut buf, t.name.len() as u64 + 1);
            } else {
                buf.put_i16(t.name.len() as i16);
            }
            buf.put_slice(t.name.as_bytes());
        } else {
            buf.put_slice(t.id.as_bytes());
        }
        put_array_len(&mut buf, flexible, t.partitions.len());
        for p in &t.partitions {
            buf.put_i32(p.index);
            buf.put_i16(p.error_code);
            buf.put_i64(p.high_watermark);
            buf.put_i64(p.last_stable_offset);
            if version >= 5 {
                buf.put_i64(p.log_start_offset);
            }
            put_array_len(&mut buf, flexible, p.aborted.len());
            for &(producer_id, first_offset) in &p.aborted {
                buf.put_i64(producer_id);
                buf.put_i64(first_offset);
                if flexible {
                    put_uvarint(&mut buf, 0);
                }
            }
            if version >= 11 {
                buf.put_i32(-1); // preferred_read_replica
            }
            let len = p.records.as_ref().map_or(0, |s| s.len);
            if flexible {
                put_uvarint(&mut buf, len as u64 + 1);
            } else {
                buf.put_i32(len as i32);
            }
            if let Some(slice) = p.records.as_ref().filter(|s| s.len > 0) {
                parts.push(Piece::Bytes(buf.split()));
                parts.push(Piece::File(slice.clone()));
            }
            if flexible {
                put_uvarint(&mut buf, 0); // partition tagged fields
            }
        }
        if flexible {
            put_uvarint(&mut buf, 0); // topic tagged fields
        }
    }
    if flexible {
        put_uvarint(&mut buf, 0); // response tagged fields
    }
    parts.push(Piece::Bytes(buf));
    finish(parts)
}

/// A response frame under construction: byte buffers with file ranges between them.
enum Piece {
    Bytes(BytesMut),
    File(FetchSlice),
}

fn finish(mut pieces: Vec<Piece>) -> Vec<ResponsePart> {
    let total: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Bytes(b) => b.len(),
            Piece::File(f) => f.len as usize,
        })
        .sum();
    let size = (total - 4) as i32;
    if let Some(Piece::Bytes(first)) = pieces.first_mut() {
        first[..4].copy_from_slice(&size.to_be_bytes());
    }
    pieces
        .into_iter()
        .filter_map(|p| match p {
            Piece::Bytes(b) if b.is_empty() => None,
            Piece::Bytes(b) => Some(ResponsePart::Bytes(b.freeze())),
            Piece::File(f) => Some(ResponsePart::File(f)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    use bytes::Bytes;
    use kafka_protocol::messages::fetch_response::{
        AbortedTransaction, FetchableTopicResponse, PartitionData,
    };
    use kafka_protocol::messages::{FetchResponse, ProducerId, TopicName};
    use kafka_protocol::protocol::{HeaderVersion, StrBytes};

    use super::*;
    use crate::api::encode_frame;

    fn materialize(parts: &[ResponsePart]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            match p {
                ResponsePart::Bytes(b) => out.extend_from_slice(b),
                ResponsePart::File(f) => {
                    let mut buf = vec![0u8; f.len as usize];
                    f.file.read_exact_at(&mut buf, f.position).unwrap();
                    out.extend_from_slice(&buf);
                }
            }
        }
        out
    }

    fn slice(file: &Arc<std::fs::File>, position: u64, len: u32) -> Option<FetchSlice> {
        Some(FetchSlice {
            file: file.clone(),
            position,
            len,
        })
    }

    #[test]
    fn hand_encoding_matches_the_crate_byte_for_byte() {
        let mut tmp = tempfile::tempfile().unwrap();
        let content: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        tmp.write_all(&content).unwrap();
        let file = Arc::new(tmp);
        let part = |index, error_code, records| PartitionResult {
            index,
            error_code,
            high_watermark: 1000 + index as i64,
            last_stable_offset: 1000 + index as i64,
            log_start_offset: 7,
            records,
            aborted: if index == 2 {
                vec![(77, 900), (78, 950)]
            } else {
                vec![]
            },
        };
        let topics = vec![
            TopicResult {
                name: "xiaojun".into(),
                id: crate::topics::new_topic_id(),
                partitions: vec![
                    part(0, 0, slice(&file, 3, 200)),
                    part(1, error_code::OFFSET_OUT_OF_RANGE, None),
                    part(2, 0, slice(&file, 1000, 1500)),
                ],
            },
            TopicResult {
                name: "t2".into(),
                id: crate::topics::new_topic_id(),
                partitions: vec![part(0, 0, None), part(5, 0, slice(&file, 0, 130))],
            },
            TopicResult {
                name: "empty".into(),
                id: Uuid::nil(),
                partitions: vec![],
            },
        ];
        for version in [4i16, 5, 7, 10, 11, 12, 13, 15, 16] {
            let ours = materialize(&encode_response(42, version, &topics));
            let responses = topics
                .iter()
                .map(|t| {
                    let mut r = FetchableTopicResponse::default().with_partitions(
                        t.partitions
                            .iter()
                            .map(|p| {
                                let records = p.records.as_ref().map_or_else(Bytes::new, |s| {
                                    Bytes::copy_from_slice(
                                        &content[s.position as usize..][..s.len as usize],
                                    )
                                });
                                PartitionData::default()
                                    .with_partition_index(p.index)
                                    .with_error_code(p.error_code)
                                    .with_high_watermark(p.high_watermark)
                                    .with_last_stable_offset(p.last_stable_offset)
                                    .with_log_start_offset(p.log_start_offset)
                                    .with_aborted_transactions(Some(
                                        p.aborted
                                            .iter()
                                            .map(|&(pid, first)| {
                                                AbortedTransaction::default()
                                                    .with_producer_id(ProducerId(pid))
                                                    .with_first_offset(first)
                                            })
                                            .collect(),
                                    ))
                                    .with_preferred_read_replica(
                                        kafka_protocol::messages::BrokerId(-1),
                                    )
                                    .with_records(Some(records))
                            })
                            .collect(),
                    );
                    if version <= 12 {
                        r.topic = TopicName(StrBytes::from_string(t.name.clone()));
                    } else {
                        r.topic_id = t.id;
                    }
                    r
                })
                .collect();
            let expected = FetchResponse::default().with_responses(responses);
            let expected = encode_frame(
                42,
                FetchResponse::header_version(version),
                &expected,
                version,
            )
            .unwrap();
            assert_eq!(ours, expected.to_vec(), "fetch v{version}");
        }
    }
}
