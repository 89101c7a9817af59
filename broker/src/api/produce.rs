//! Produce: validate and append producer batches as they arrived (DESIGN.md decision 2).
//!
//! acks=0 gets no response at all; acks other than 0, 1, -1 is INVALID_REQUIRED_ACKS for
//! every partition. A retried idempotent batch is answered with its first offsets, and one
//! that leaves a gap in its producer's sequence gets OUT_OF_ORDER_SEQUENCE_NUMBER (see
//! `producer_state`).

use bytes::BytesMut;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;

use super::{error_code, log_error_code, RequestContext};
use crate::log::control::{CONTROL, TRANSACTIONAL};
use crate::log::BatchHeader;
use crate::state::now_ms;
use crate::topics::Partition;

/// Serves Produce.
pub async fn handle(ctx: &RequestContext, req: ProduceRequest) -> Outcome {
    let acks_ok = matches!(req.acks, -1..=1);
    let mut responses = Vec::with_capacity(req.topic_data.len());
    for td in req.topic_data {
        let topic = ctx.state.topics.get(td.name.0.as_str());
        let mut partition_responses = Vec::with_capacity(td.partition_data.len());
        for pd in td.partition_data {
            let mut r = PartitionProduceResponse::default()
                .with_index(pd.index)
                .with_base_offset(-1)
                .with_log_append_time_ms(-1)
                .with_log_start_offset(-1);
            if !acks_ok {
                r.error_code = error_code::INVALID_REQUIRED_ACKS;
                partition_responses.push(r);
                continue;
            }
            let Some(partition) = topic.as_ref().and_then(|t| t.partition(pd.index)) else {
                r.error_code = error_code::UNKNOWN_TOPIC_OR_PARTITION;
                partition_responses.push(r);
                continue;
            };
            let Some(records) = pd.records.filter(|r| !r.is_empty()) else {
                r.error_code = error_code::CORRUPT_MESSAGE;
                partition_responses.push(r);
                continue;
            };
            let appended = match transactional_producer(&records) {
                Err(code) => Err(code),
                Ok(None) => append(&partition, &records),
                Ok(Some((pid, epoch))) => ctx
                    .state
                    .txns
                    .with_produce(pid, epoch, &partition.topic, pd.index, || {
                        append(&partition, &records)
                    })
                    .unwrap_or_else(|e| Err(e.code())),
            };
            match appended {
                Ok((base_offset, log_start_offset)) => {
                    r.base_offset = base_offset;
                    r.log_start_offset = log_start_offset;
                }
                Err(code) => {
                    r.error_code = code;
                    if code == error_code::CORRUPT_MESSAGE {
                        r.error_message = Some(StrBytes::from_static_str("invalid record batch"));
                    }
                }
            }
            partition_responses.push(r);
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(td.name)
                .with_topic_id(td.topic_id)
                .with_partition_responses(partition_responses),
        );
    }
    if req.acks == 0 {
        let failed = responses
            .iter()
            .flat_map(|t| &t.partition_responses)
            .any(|p| p.error_code != error_code::NONE);
        return if failed {
            Outcome::Close
        } else {
            Outcome::Silent
        };
    }
    Outcome::Respond(ProduceResponse::default().with_responses(responses))
}

/// What a Produce request gets back.
#[derive(Debug)]
pub enum Outcome {
    Respond(ProduceResponse),
    /// acks=0: no response.
    Silent,
    /// acks=0 and some partition failed: close the connection (Kafka's signal to the client).
    Close,
}

/// Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER (kept here, its only user).
const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
/// Kafka's INVALID_RECORD: control batches from a client, or a mix of transactional and
/// other batches.
const INVALID_RECORD: i16 = 87;

/// `Some((producer id, epoch))` if the batches are transactional (then all must be, of one
/// producer); control batches are refused (only the coordinator writes markers). Batches
/// that do not parse are left to the log's validation.
fn transactional_producer(records: &[u8]) -> Result<Option<(i64, i16)>, i16> {
    let mut at = 0;
    let mut first: Option<Option<(i64, i16)>> = None;
    while let Ok(Some(h)) = BatchHeader::parse(&records[at..]) {
        if h.attributes & CONTROL != 0 {
            return Err(INVALID_RECORD);
        }
        let this = (h.attributes & TRANSACTIONAL != 0).then_some((h.producer_id, h.producer_epoch));
        if *first.get_or_insert(this) != this {
            return Err(INVALID_RECORD);
        }
        at += h.size();
        if at >= records.len() {
            break;
        }
    }
    Ok(first.flatten())
}

/// Appends one partition's batches: (base offset, log start offset) or a Kafka error code.
/// A retried idempotent batch gets the offsets of its first append back instead; one that
/// does not continue its producer's sequence is refused.
fn append(partition: &Partition, records: &[u8]) -> Result<(i64, i64), i16> {
    let mut guard = partition.log();
    let log = guard
        .as_mut()
        .ok_or(error_code::UNKNOWN_TOPIC_OR_PARTITION)?;
    // Only a partition's data made of exactly one batch is checked against earlier ones
    // (what idempotent producers send).
    let single = BatchHeader::parse(records)
        .ok()
        .flatten()
        .filter(|h| h.size() == records.len());
    if let Some(h) = &single {
        let producers = partition.producers();
        if let Some(base_offset) = producers.duplicate_of(h) {
            return Ok((base_offset, log.log_start_offset()));
        }
        if producers.out_of_order(h) {
            tracing::debug!(topic = %partition.topic, partition = partition.index,
                producer_id = h.producer_id, epoch = h.producer_epoch,
                base_sequence = h.base_sequence, "out-of-order sequence");
            return Err(OUT_OF_ORDER_SEQUENCE_NUMBER);
        }
    }
    // The frame's bytes are shared; the log patches offsets in place, so copy once.
    let mut batches = BytesMut::from(records);
    let info = log.append(&mut batches, now_ms()).map_err(|e| {
        tracing::debug!(topic = %partition.topic, partition = partition.index, error = %e, "produce rejected");
        log_error_code(&e)
    })?;
    // Every appended batch is remembered (its header now carries its offset), so the
    // sequence check of the next one sees them all.
    let mut producers = partition.producers();
    let mut at = 0;
    while let Ok(Some(h)) = BatchHeader::parse(&batches[at..]) {
        producers.record(&h, h.base_offset);
        if h.attributes & TRANSACTIONAL != 0 {
            producers.begin_txn(h.producer_id, h.base_offset);
        }
        at += h.size();
    }
    drop(producers);
    partition.notify_appended(log.log_end_offset());
    Ok((info.base_offset, info.log_start_offset))
}
