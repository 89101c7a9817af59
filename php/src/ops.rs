//! Client operations: the binding's only calls into the core client, and the
//! dispatch of core events to PHP callbacks on the PHP thread.
//!
//! Each function takes the client state (and, where callbacks may run, the
//! PHP object of the client, passed as the callbacks' first argument).

use std::time::{Duration, Instant};

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::ZendStr;
use kafkars::error::ErrorCode;
use kafkars::event::Event;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};
use kafkars::TopicConfig;

use crate::callbacks::{invoke, CallbackKind};
use crate::client::{not_implemented, ClientState};
use crate::exception::from_kafka;
use crate::kafka_consumer::CommitWhat;
use crate::message::{new_message, MessageFields};
use crate::metadata::{BrokerData, Metadata, MetadataData, PartitionData, TopicData};
use crate::returns::MessageRet;
use crate::topic_partition::TopicPartition;

/// A zval holding (a new reference to) the PHP object of `obj`.
pub fn this_zval<T: RegisteredClass>(obj: &mut ZendClassObject<T>) -> Zval {
    let mut zv = Zval::new();
    zv.set_object(obj.get_mut_zend_obj());
    zv
}

type Headers = Vec<(String, Option<Vec<u8>>)>;

fn ms(timeout_ms: i64) -> Duration {
    Duration::from_millis(timeout_ms.max(0) as u64)
}

/// Most events served by one `poll()` (librdkafka serves what is queued).
const POLL_BATCH: usize = 10_000;

/// How often `flush()` re-checks the out-queue while it waits.
const FLUSH_SLICE: Duration = Duration::from_millis(2);

pub fn add_brokers(state: &ClientState, list: &str) -> i64 {
    state.client().add_brokers(list) as i64
}

pub fn metadata(state: &ClientState, all_topics: bool, only_topic: Option<&str>, timeout_ms: i64) -> PhpResult<Metadata> {
    let md = state
        .client()
        .metadata(all_topics, only_topic, ms(timeout_ms))
        .map_err(from_kafka)?;
    Ok(Metadata::new(metadata_data(md)))
}

fn metadata_data(md: kafkars::cluster::Metadata) -> MetadataData {
    MetadataData {
        orig_broker_id: md.orig_broker_id,
        orig_broker_name: md.orig_broker_name,
        brokers: md
            .brokers
            .into_iter()
            .map(|b| BrokerData { id: b.id, host: b.host, port: b.port })
            .collect(),
        topics: md
            .topics
            .into_iter()
            .map(|t| TopicData {
                name: t.name,
                err: t.err.0,
                partitions: t
                    .partitions
                    .into_iter()
                    .map(|p| PartitionData {
                        id: p.id,
                        err: p.err.0,
                        leader: p.leader,
                        replicas: p.replicas,
                        isrs: p.isrs,
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn controller_id(state: &ClientState, timeout_ms: i64) -> PhpResult<i64> {
    state
        .client()
        .controller_id(ms(timeout_ms))
        .map(i64::from)
        .map_err(from_kafka)
}

pub fn out_q_len(state: &ClientState) -> i64 {
    let queued = state.producer().map_or(0, |p| p.out_queue_len());
    (queued + state.pending.borrow().len()) as i64
}

/// Takes new events from the core into `state.pending`.
fn take_events(state: &ClientState, max: usize, timeout: Duration) -> usize {
    let events = match state.producer() {
        Some(p) => p.poll_events(max, timeout),
        None => {
            if !timeout.is_zero() {
                std::thread::sleep(timeout.min(Duration::from_millis(100)));
            }
            Vec::new()
        }
    };
    let n = events.len();
    state.pending.borrow_mut().extend(events);
    n
}

/// Serves pending events in order; on a callback exception the rest stay
/// pending for the next call. Returns how many were served.
fn serve_pending(this: &Zval, state: &ClientState) -> PhpResult<usize> {
    let mut served = 0;
    loop {
        let Some(event) = state.pending.borrow_mut().pop_front() else { return Ok(served) };
        served += 1;
        dispatch(this, state, event)?;
    }
}

pub fn poll(this: &Zval, state: &ClientState, timeout_ms: i64) -> PhpResult<i64> {
    if state.pending.borrow().is_empty() {
        take_events(state, POLL_BATCH, ms(timeout_ms));
    }
    Ok(serve_pending(this, state)? as i64)
}

/// librdkafka's `rd_kafka_flush()`: serve events until every message is
/// delivered (or failed) and reported, or `timeout_ms` passes.
pub fn flush(this: &Zval, state: &ClientState, timeout_ms: i64) -> PhpResult<i64> {
    let deadline = Instant::now() + ms(timeout_ms);
    loop {
        serve_pending(this, state)?;
        let remaining = state.producer().map_or(0, |p| p.out_queue_len());
        if remaining == 0 {
            return Ok(i64::from(ErrorCode::NO_ERROR.0));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(i64::from(ErrorCode::TIMED_OUT.0));
        }
        // Short slices: when no callback listens, deliveries only move counters
        // and wake nobody, so the out-queue is re-checked every few ms.
        take_events(state, POLL_BATCH, (deadline - now).min(FLUSH_SLICE));
    }
}

pub fn purge(state: &ClientState, flags: i64) -> i64 {
    match state.producer() {
        Some(p) => match p.purge(flags as i32) {
            Ok(()) => 0,
            Err(e) => i64::from(e.code.0),
        },
        None => i64::from(ErrorCode::NOT_IMPLEMENTED.0),
    }
}

pub fn watermarks(state: &ClientState, topic: &str, partition: i64, timeout_ms: i64) -> PhpResult<(i64, i64)> {
    state
        .client()
        .query_watermark_offsets(topic, partition as i32, ms(timeout_ms))
        .map_err(from_kafka)
}

pub fn offsets_for_times(state: &ClientState, list: Vec<TopicPartition>, timeout_ms: i64) -> PhpResult<Vec<TopicPartition>> {
    let core: Vec<_> = list.iter().map(TopicPartition::to_core).collect();
    let out = state
        .client()
        .offsets_for_times(&core, ms(timeout_ms))
        .map_err(from_kafka)?;
    Ok(out.into_iter().map(TopicPartition::from_core).collect())
}

pub fn pause_resume(state: &ClientState, list: Vec<TopicPartition>, pause: bool) -> PhpResult<Vec<TopicPartition>> {
    let _ = (state, list, pause);
    Err(from_kafka(not_implemented()))
}

#[allow(clippy::too_many_arguments)]
pub fn produce(
    state: &ClientState,
    topic: &str,
    conf: &TopicConfig,
    partition: i32,
    block: bool,
    payload: Option<&[u8]>,
    key: Option<&[u8]>,
    headers: Option<Headers>,
    timestamp_ms: Option<i64>,
    opaque: Option<&[u8]>,
) -> PhpResult<()> {
    let _ = conf;
    let producer = state
        .producer()
        .ok_or_else(|| from_kafka(kafkars::KafkaError::new(ErrorCode::INVALID_ARG)))?;
    let opaque_key = match opaque {
        Some(bytes) => {
            // The opaque comes back with the delivery report, so reports must flow.
            if !state.callbacks.is_set(CallbackKind::DrMsg) {
                producer.enable_delivery_reports(false);
            }
            let mut zv = Zval::new();
            zv.set_zend_string(ZendStr::new(bytes, false));
            state.opaques.borrow_mut().insert(zv)
        }
        None => 0,
    };
    let header_refs: Vec<(&str, Option<&[u8]>)> = headers
        .as_ref()
        .map(|h| h.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect())
        .unwrap_or_default();
    let result = producer.produce(
        topic,
        partition,
        payload,
        key,
        &header_refs,
        timestamp_ms.unwrap_or(0),
        opaque_key,
        block,
    );
    if let Err(err) = result {
        state.opaques.borrow_mut().take(opaque_key);
        return Err(from_kafka(err));
    }
    Ok(())
}

/// Runs the PHP callback for one event (or just releases its resources).
fn dispatch(this: &Zval, state: &ClientState, event: Event) -> PhpResult<()> {
    match event {
        Event::Delivery(report) => {
            let opaque = state.opaques.borrow_mut().take(report.opaque);
            let Some(cb) = state.callbacks.get(CallbackKind::DrMsg).map(Zval::shallow_clone) else {
                return Ok(());
            };
            let headers = report
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()))
                .collect();
            let message = new_message(&MessageFields {
                err: report.err.0,
                topic_name: Some(&report.topic),
                timestamp: Some(report.timestamp),
                partition: report.partition,
                payload: report.payload.as_deref(),
                key: report.key.as_deref(),
                offset: report.offset,
                headers,
                opaque: opaque.as_ref(),
            });
            let message = message.into_zval(false)?;
            invoke(&cb, vec![this, &message])?;
        }
        Event::Error { code, reason, .. } => {
            if let Some(cb) = state.callbacks.get(CallbackKind::Error).map(Zval::shallow_clone) {
                invoke(&cb, vec![this, &i64::from(code.0), &reason])?;
            }
        }
        Event::Log { level, facility, message } => {
            if let Some(cb) = state.callbacks.get(CallbackKind::Log).map(Zval::shallow_clone) {
                invoke(&cb, vec![this, &i64::from(level), &facility, &message])?;
            }
        }
        Event::Stats(json) => {
            if let Some(cb) = state.callbacks.get(CallbackKind::Stats).map(Zval::shallow_clone) {
                let len = json.len() as i64;
                invoke(&cb, vec![this, &json, &len])?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub fn consume_start(
    state: &ClientState,
    topic: &str,
    conf: &TopicConfig,
    partition: i32,
    offset: i64,
    queue: Option<u64>,
) -> PhpResult<()> {
    let _ = (state, topic, conf, partition, offset, queue);
    Err(from_kafka(not_implemented()))
}

pub fn consume_stop(state: &ClientState, topic: &str, partition: i32) -> PhpResult<()> {
    let _ = (state, topic, partition);
    Err(from_kafka(not_implemented()))
}

pub fn consume_partition(
    owner: &Zval,
    state: &ClientState,
    topic: &str,
    partition: i32,
    timeout_ms: i64,
) -> PhpResult<Option<MessageRet>> {
    let _ = (owner, state, topic, partition, timeout_ms);
    Err(from_kafka(not_implemented()))
}

pub fn consume_batch(
    owner: &Zval,
    state: &ClientState,
    topic: &str,
    partition: i32,
    timeout_ms: i64,
    batch_size: usize,
) -> PhpResult<ZBox<ZendHashTable>> {
    let _ = (owner, state, topic, partition, timeout_ms, batch_size);
    Err(from_kafka(not_implemented()))
}

pub fn consume_callback(
    owner: &Zval,
    state: &ClientState,
    topic: &str,
    partition: i32,
    timeout_ms: i64,
    callback: &Zval,
) -> PhpResult<i64> {
    let _ = (owner, state, topic, partition, timeout_ms, callback);
    Err(from_kafka(not_implemented()))
}

pub fn consume_queue(owner: &Zval, state: &ClientState, queue: u64, timeout_ms: i64) -> PhpResult<Option<MessageRet>> {
    let _ = (owner, state, queue, timeout_ms);
    Err(from_kafka(not_implemented()))
}

pub fn offset_store(state: &ClientState, topic: &str, partition: i32, offset: i64) -> PhpResult<()> {
    let _ = (state, topic, partition, offset);
    Err(from_kafka(not_implemented()))
}

pub fn assign(state: &ClientState, list: Option<Vec<TopicPartition>>) -> PhpResult<()> {
    let _ = (state, list);
    Err(from_kafka(not_implemented()))
}

pub fn incremental_assign(state: &ClientState, list: Vec<TopicPartition>, add: bool) -> PhpResult<()> {
    let _ = (state, list, add);
    Err(from_kafka(not_implemented()))
}

pub fn assignment(state: &ClientState) -> PhpResult<Vec<TopicPartition>> {
    let _ = state;
    Err(from_kafka(not_implemented()))
}

pub fn commit(this: &Zval, state: &ClientState, what: CommitWhat, is_async: bool) -> PhpResult<()> {
    let _ = (this, state, what, is_async);
    Err(from_kafka(not_implemented()))
}

pub fn close(this: &Zval, state: &ClientState) -> PhpResult<()> {
    let _ = (this, state);
    Ok(())
}

pub fn consume_group(this: &Zval, state: &ClientState, timeout_ms: i64) -> PhpResult<MessageRet> {
    let _ = (this, state, timeout_ms);
    Err(from_kafka(not_implemented()))
}

pub fn subscribe(state: &ClientState, topics: Vec<String>) -> PhpResult<()> {
    let _ = (state, topics);
    Err(from_kafka(not_implemented()))
}

pub fn subscription(state: &ClientState) -> PhpResult<Vec<String>> {
    let _ = state;
    Err(from_kafka(not_implemented()))
}

pub fn unsubscribe(state: &ClientState) -> PhpResult<()> {
    let _ = state;
    Err(from_kafka(not_implemented()))
}

pub fn committed(state: &ClientState, list: Vec<TopicPartition>, timeout_ms: i64) -> PhpResult<Vec<TopicPartition>> {
    let _ = (state, list, timeout_ms);
    Err(from_kafka(not_implemented()))
}

pub fn positions(state: &ClientState, list: Vec<TopicPartition>) -> PhpResult<Vec<TopicPartition>> {
    let _ = (state, list);
    Err(from_kafka(not_implemented()))
}
