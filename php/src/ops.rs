//! Client operations: the binding's only calls into the core client, and the
//! dispatch of core events to PHP callbacks on the PHP thread.
//!
//! Each function takes the client state (and, where callbacks may run, the
//! PHP object of the client, passed as the callbacks' first argument).

use std::time::{Duration, Instant};

use ext_php_rs::boxed::ZBox;
use ext_php_rs::class::RegisteredClass;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::ZendStr;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};
use kafkars::error::ErrorCode;
use kafkars::event::Event;
use kafkars::KafkaError;
use kafkars::TopicConfig;

use crate::callbacks::{invoke, CallbackKind};
use crate::client::ClientState;
use crate::exception::{from_kafka, rdkafka_exception};
use crate::kafka_consumer::CommitWhat;
use crate::message::{new_message, MessageFields};
use crate::metadata::{BrokerData, Metadata, MetadataData, PartitionData, TopicData};
use crate::returns::MessageRet;
use crate::topic_partition::{list_to_array, TopicPartition};

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

pub fn add_brokers(state: &ClientState, list: &str) -> i64 {
    state.client().add_brokers(list) as i64
}

pub fn metadata(
    state: &ClientState,
    all_topics: bool,
    only_topic: Option<&str>,
    timeout_ms: i64,
) -> PhpResult<Metadata> {
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
            .map(|b| BrokerData {
                id: b.id,
                host: b.host,
                port: b.port,
            })
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

/// `getControllerId()`: -1 when the controller is not known within the
/// timeout (php-rdkafka returns `rd_kafka_controllerid()`, which never fails).
pub fn controller_id(state: &ClientState, timeout_ms: i64) -> PhpResult<i64> {
    Ok(state
        .client()
        .controller_id(ms(timeout_ms))
        .map_or(-1, i64::from))
}

pub fn out_q_len(state: &ClientState) -> i64 {
    let queued = state.producer().map_or(0, |p| p.out_queue_len());
    (queued + state.pending.borrow().len()) as i64
}

/// Takes new events from the core into `state.pending`.
fn take_events(state: &ClientState, max: usize, timeout: Duration) -> usize {
    let events = state.poll_events(max, timeout);
    let n = events.len();
    state.pending.borrow_mut().extend(events);
    n
}

/// Serves pending events in order; on a callback exception the rest stay
/// pending for the next call. Returns how many were served.
fn serve_pending(this: &Zval, state: &ClientState) -> PhpResult<usize> {
    let mut served = 0;
    loop {
        let Some(event) = state.pending.borrow_mut().pop_front() else {
            return Ok(served);
        };
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
    let deadline = deadline_after(timeout_ms);
    // Queued batches leave now instead of after `linger.ms`, as in librdkafka.
    let _flushing = state.producer().map(|p| p.flushing());
    loop {
        serve_pending(this, state)?;
        let Some(producer) = state.producer() else {
            return Ok(i64::from(ErrorCode::NO_ERROR.0));
        };
        if producer.out_queue_len() == 0 {
            return Ok(i64::from(ErrorCode::NO_ERROR.0));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(i64::from(ErrorCode::TIMED_OUT.0));
        }
        // Returns with events, or when the out-queue drains (deliveries nobody listens to
        // only move counters), or at the deadline.
        let events = producer.poll_events_until_drained(POLL_BATCH, deadline - now);
        state.pending.borrow_mut().extend(events);
    }
}

/// `now + timeout_ms`, capped so that huge timeouts wait "forever" instead of overflowing.
fn deadline_after(timeout_ms: i64) -> Instant {
    let now = Instant::now();
    let wait = ms(timeout_ms).min(Duration::from_secs(10 * 365 * 24 * 3600));
    now.checked_add(wait).unwrap_or(now)
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

pub fn watermarks(
    state: &ClientState,
    topic: &str,
    partition: i64,
    timeout_ms: i64,
) -> PhpResult<(i64, i64)> {
    state
        .client()
        .query_watermark_offsets(topic, partition as i32, ms(timeout_ms))
        .map_err(from_kafka)
}

pub fn offsets_for_times(
    state: &ClientState,
    list: Vec<TopicPartition>,
    timeout_ms: i64,
) -> PhpResult<Vec<TopicPartition>> {
    let core: Vec<_> = list.iter().map(TopicPartition::to_core).collect();
    let out = state
        .client()
        .offsets_for_times(&core, ms(timeout_ms))
        .map_err(from_kafka)?;
    Ok(out.into_iter().map(TopicPartition::from_core).collect())
}

pub fn pause_resume(
    state: &ClientState,
    list: Vec<TopicPartition>,
    pause: bool,
) -> PhpResult<Vec<TopicPartition>> {
    let core: Vec<_> = list.iter().map(TopicPartition::to_core).collect();
    let out = if let Ok(c) = state.group_consumer() {
        if pause {
            c.pause(&core)
        } else {
            c.resume(&core)
        }
    } else if let Ok(c) = state.consumer() {
        c.set_paused(&core, pause)
    } else {
        // A producer: librdkafka accepts the list and reports each partition
        // without error (its app-pause flag only stops fetching).
        core.into_iter()
            .map(|mut tp| {
                tp.err = ErrorCode(0);
                tp
            })
            .collect()
    };
    Ok(out.into_iter().map(TopicPartition::from_core).collect())
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
        .ok_or_else(|| from_kafka(KafkaError::new(ErrorCode::INVALID_ARG)))?;
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

pub fn consume_start(
    state: &ClientState,
    topic: &str,
    conf: &TopicConfig,
    partition: i32,
    offset: i64,
    queue: Option<u64>,
) -> PhpResult<()> {
    let _ = (conf, queue);
    state
        .consumer()?
        .consume_start(topic, partition, offset)
        .map_err(from_kafka)
}

pub fn consume_stop(state: &ClientState, topic: &str, partition: i32) -> PhpResult<()> {
    state
        .consumer()?
        .consume_stop(topic, partition)
        .map_err(from_kafka)
}

/// A consumed message as an `RdKafka\Message` object.
pub fn message_object(state: &ClientState, m: &kafkars::consumer::Message) -> MessageRet {
    let headers = m
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    MessageRet(new_message(&MessageFields {
        err: m.err.0,
        topic_name: None,
        // Consumer errors without a topic (`_MAX_POLL_EXCEEDED`) have a null topic_name.
        topic_zval: (!m.topic.is_empty()).then(|| state.topic_names.get(&m.topic)),
        timestamp: Some(m.timestamp),
        partition: m.partition,
        payload: m.payload.as_deref(),
        key: m.key.as_deref(),
        offset: m.offset,
        headers,
        opaque: None,
    }))
}

pub fn consume_partition(
    owner: &Zval,
    state: &ClientState,
    topic: &str,
    partition: i32,
    timeout_ms: i64,
) -> PhpResult<Option<MessageRet>> {
    let _ = owner;
    let consumer = state.consumer()?;
    consumer
        .check_partition(topic, partition)
        .map_err(from_kafka)?;
    Ok(consumer
        .consume(topic, partition, ms(timeout_ms))
        .map(|m| message_object(state, &m)))
}

pub fn consume_batch(
    owner: &Zval,
    state: &ClientState,
    topic: &str,
    partition: i32,
    timeout_ms: i64,
    batch_size: usize,
) -> PhpResult<ZBox<ZendHashTable>> {
    let _ = owner;
    let consumer = state.consumer()?;
    consumer
        .check_partition(topic, partition)
        .map_err(from_kafka)?;
    let messages =
        consumer.consume_batch(topic, partition, ms(timeout_ms), batch_size.min(1_000_000));
    let mut array = ZendHashTable::with_capacity(messages.len() as u32);
    for m in &messages {
        array.push(message_object(state, m))?;
    }
    Ok(array)
}

/// `consumeCallback()`: calls `callback(Message)` for each message that
/// arrives within `timeout_ms`; returns how many were handed over, or -1 (no exception, as
/// php-rdkafka) for a partition that is neither started nor in the metadata.
pub fn consume_callback(
    owner: &Zval,
    state: &ClientState,
    topic: &str,
    partition: i32,
    timeout_ms: i64,
    callback: &Zval,
) -> PhpResult<i64> {
    let _ = owner;
    let consumer = state.consumer()?;
    if consumer.check_partition(topic, partition).is_err() {
        return Ok(-1);
    }
    let deadline = deadline_after(timeout_ms);
    let mut count = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(m) = consumer.consume(topic, partition, left) else {
            break;
        };
        count += 1;
        let message = message_object(state, &m).into_zval(false)?;
        invoke(callback, vec![&message])?;
        if left.is_zero() {
            break;
        }
    }
    Ok(count)
}

pub fn consume_queue(
    owner: &Zval,
    state: &ClientState,
    queue: u64,
    timeout_ms: i64,
) -> PhpResult<Option<MessageRet>> {
    let _ = (owner, queue);
    Ok(state
        .consumer()?
        .consume_any(ms(timeout_ms))
        .map(|m| message_object(state, &m)))
}

pub fn offset_store(
    state: &ClientState,
    topic: &str,
    partition: i32,
    offset: i64,
) -> PhpResult<()> {
    if let Ok(c) = state.group_consumer() {
        let tp = kafkars::TopicPartition {
            topic: topic.to_owned(),
            partition,
            offset: offset + 1,
            err: ErrorCode::NO_ERROR,
            metadata: None,
        };
        return c.store_offsets(&[tp]).map_err(from_kafka);
    }
    state
        .consumer()?
        .offset_store(topic, partition, offset)
        .map_err(from_kafka)
}

fn core_list(list: &[TopicPartition]) -> Vec<kafkars::TopicPartition> {
    list.iter().map(TopicPartition::to_core).collect()
}

fn binding_list(list: Vec<kafkars::TopicPartition>) -> Vec<TopicPartition> {
    list.into_iter().map(TopicPartition::from_core).collect()
}

pub fn assign(state: &ClientState, list: Option<Vec<TopicPartition>>) -> PhpResult<()> {
    let core = list.as_deref().map(core_list);
    state
        .group_consumer()?
        .assign(core.as_deref())
        .map_err(from_kafka)
}

pub fn incremental_assign(
    state: &ClientState,
    list: Vec<TopicPartition>,
    add: bool,
) -> PhpResult<()> {
    let c = state.group_consumer()?;
    let core = core_list(&list);
    let result = if add {
        c.incremental_assign(&core)
    } else {
        c.incremental_unassign(&core)
    };
    // php-rdkafka throws librdkafka's error string here, with code 0.
    result.map_err(|e| rdkafka_exception(e.message, 0))
}

pub fn assignment(state: &ClientState) -> PhpResult<Vec<TopicPartition>> {
    Ok(binding_list(state.group_consumer()?.assignment()))
}

pub fn commit(this: &Zval, state: &ClientState, what: CommitWhat, is_async: bool) -> PhpResult<()> {
    let _ = this;
    let c = state.group_consumer()?;
    let offsets = match what {
        CommitWhat::Current => None,
        CommitWhat::Offsets(list) => Some(core_list(&list)),
    };
    c.commit(offsets.as_deref(), is_async).map_err(from_kafka)
}

/// `KafkaConsumer::close()`: final commit, revoke (callback), leave group.
pub fn close(this: &Zval, state: &ClientState) -> PhpResult<()> {
    let c = state.group_consumer()?;
    serve_pending(this, state)?;
    c.close_with(|event| dispatch(this, state, event))
}

/// Slice of one wait inside `KafkaConsumer::consume()`: events (rebalances)
/// are served between slices.
const CONSUME_SLICE: Duration = Duration::from_millis(50);

/// `KafkaConsumer::consume()`: serves events (rebalance, commit results,
/// errors) in order, then returns a message, or `_TIMED_OUT` in message form.
pub fn consume_group(this: &Zval, state: &ClientState, timeout_ms: i64) -> PhpResult<MessageRet> {
    let c = state.group_consumer()?;
    // The first pass takes a queued message without reading the clock.
    let mut deadline: Option<Instant> = None;
    loop {
        serve_pending(this, state)?;
        if let Some(m) = state.stashed.borrow_mut().take() {
            return Ok(message_object(state, &m));
        }
        let slice = match deadline {
            None => Duration::ZERO,
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .min(CONSUME_SLICE),
        };
        // A rebalance is served inside the core's call, so the core sees whether the
        // callback assigned (else it would apply the default assignment first, and the
        // callback's own assign() would restart the partitions: duplicates). An exception
        // is kept and raised after the call; events after it stay pending, in order.
        let thrown: std::cell::RefCell<Option<ext_php_rs::exception::PhpException>> =
            std::cell::RefCell::new(None);
        let taken = c.consume_with(slice, |event| {
            let rebalance = matches!(event, Event::Rebalance { .. });
            state.pending.borrow_mut().push_back(event);
            if rebalance && thrown.borrow().is_none() {
                if let Err(e) = serve_pending(this, state) {
                    *thrown.borrow_mut() = Some(e);
                }
            }
            Ok::<(), ()>(())
        });
        if let Some(e) = thrown.into_inner() {
            if let Ok(Some(m)) = taken {
                *state.stashed.borrow_mut() = Some(m);
            }
            return Err(e);
        }
        match taken {
            Ok(Some(m)) if state.pending.borrow().is_empty() => {
                return Ok(message_object(state, &m))
            }
            Ok(Some(m)) => *state.stashed.borrow_mut() = Some(m),
            _ => {}
        }
        let Some(d) = deadline else {
            deadline = Some(deadline_after(timeout_ms));
            continue;
        };
        if Instant::now() >= d
            && state.pending.borrow().is_empty()
            && state.stashed.borrow().is_none()
        {
            return Ok(timed_out_message());
        }
    }
}

/// php-rdkafka's message for a `consume()` timeout: `err` `_TIMED_OUT`, the
/// rest zero/null.
fn timed_out_message() -> MessageRet {
    MessageRet(new_message(&MessageFields {
        err: ErrorCode::TIMED_OUT.0,
        ..MessageFields::default()
    }))
}

pub fn subscribe(state: &ClientState, topics: Vec<String>) -> PhpResult<()> {
    state
        .group_consumer()?
        .subscribe(&topics)
        .map_err(from_kafka)
}

pub fn subscription(state: &ClientState) -> PhpResult<Vec<String>> {
    Ok(state.group_consumer()?.subscription())
}

pub fn unsubscribe(state: &ClientState) -> PhpResult<()> {
    state.group_consumer()?.unsubscribe().map_err(from_kafka)
}

pub fn committed(
    state: &ClientState,
    list: Vec<TopicPartition>,
    timeout_ms: i64,
) -> PhpResult<Vec<TopicPartition>> {
    state
        .group_consumer()?
        .committed(&core_list(&list), ms(timeout_ms))
        .map(binding_list)
        .map_err(from_kafka)
}

pub fn positions(state: &ClientState, list: Vec<TopicPartition>) -> PhpResult<Vec<TopicPartition>> {
    Ok(binding_list(
        state.group_consumer()?.position(&core_list(&list)),
    ))
}

/// Runs the PHP callback for one event (or just releases its resources).
fn dispatch(this: &Zval, state: &ClientState, event: Event) -> PhpResult<()> {
    match event {
        Event::Delivery(report) => {
            let opaque = state.opaques.borrow_mut().take(report.opaque);
            let Some(cb) = state
                .callbacks
                .get(CallbackKind::DrMsg)
                .map(Zval::shallow_clone)
            else {
                return Ok(());
            };
            let headers = report
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()))
                .collect();
            let message = new_message(&MessageFields {
                err: report.err.0,
                topic_name: None,
                topic_zval: Some(state.topic_names.get(&report.topic)),
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
            if let Some(cb) = state
                .callbacks
                .get(CallbackKind::Error)
                .map(Zval::shallow_clone)
            {
                invoke(&cb, vec![this, &i64::from(code.0), &reason])?;
            } else if let Some(cb) = state
                .callbacks
                .get(CallbackKind::Log)
                .map(Zval::shallow_clone)
            {
                // librdkafka logs errors nobody handles as `ERROR` lines.
                let client = state.client();
                if client.logger().get_level() >= kafkars::log::level::ERR {
                    let message = format!("[thrd:app]: {}: {reason}", client.name());
                    invoke(
                        &cb,
                        vec![
                            this,
                            &i64::from(kafkars::log::level::ERR),
                            &"ERROR",
                            &message,
                        ],
                    )?;
                }
            } else {
                // Without either callback, librdkafka's default logger prints it.
                let client = state.client();
                client.logger().log(
                    kafkars::log::level::ERR,
                    "ERROR",
                    "app",
                    format_args!("{}: {reason}", client.name()),
                );
            }
        }
        Event::Log {
            level,
            facility,
            message,
        } => {
            if let Some(cb) = state
                .callbacks
                .get(CallbackKind::Log)
                .map(Zval::shallow_clone)
            {
                invoke(&cb, vec![this, &i64::from(level), &facility, &message])?;
            }
        }
        Event::Stats(json) => {
            if let Some(cb) = state
                .callbacks
                .get(CallbackKind::Stats)
                .map(Zval::shallow_clone)
            {
                let len = json.len() as i64;
                invoke(&cb, vec![this, &json, &len])?;
            }
        }
        Event::Rebalance { kind, partitions } => {
            let Some(cb) = state
                .callbacks
                .get(CallbackKind::Rebalance)
                .map(Zval::shallow_clone)
            else {
                return Ok(());
            };
            let list = list_to_array(binding_list(partitions))?;
            let mut array = Zval::new();
            array.set_hashtable(list);
            invoke(&cb, vec![this, &i64::from(kind.0), &array])?;
        }
        Event::OauthbearerTokenRefresh { config } => {
            crate::oauthbearer::dispatch_refresh(this, state, &config)?;
        }
        Event::OffsetCommit { err, partitions } => {
            let Some(cb) = state
                .callbacks
                .get(CallbackKind::OffsetCommit)
                .map(Zval::shallow_clone)
            else {
                return Ok(());
            };
            let list = list_to_array(binding_list(partitions))?;
            let mut array = Zval::new();
            array.set_hashtable(list);
            invoke(&cb, vec![this, &i64::from(err.0), &array])?;
        }
        _ => {}
    }
    Ok(())
}
