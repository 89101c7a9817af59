//! Client operations: the binding's only calls into the core client, and the
//! dispatch of core events to PHP callbacks on the PHP thread.
//!
//! Each function takes the client state (and, where callbacks may run, the
//! PHP object of the client, passed as the callbacks' first argument).

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};
use kafkars::TopicConfig;

use crate::client::{not_implemented, ClientState};
use crate::exception::from_kafka;
use crate::kafka_consumer::CommitWhat;
use crate::metadata::Metadata;
use crate::returns::MessageRet;
use crate::topic_partition::TopicPartition;

/// A zval holding (a new reference to) the PHP object of `obj`.
pub fn this_zval<T: RegisteredClass>(obj: &mut ZendClassObject<T>) -> Zval {
    let mut zv = Zval::new();
    zv.set_object(obj.get_mut_zend_obj());
    zv
}

type Headers = Vec<(String, Option<Vec<u8>>)>;

pub fn add_brokers(state: &ClientState, list: &str) -> i64 {
    let _ = state;
    list.split(',').filter(|b| !b.trim().is_empty()).count() as i64
}

pub fn metadata(state: &ClientState, all_topics: bool, only_topic: Option<&str>, timeout_ms: i64) -> PhpResult<Metadata> {
    let _ = (state, all_topics, only_topic, timeout_ms);
    Err(from_kafka(not_implemented()))
}

pub fn controller_id(state: &ClientState, timeout_ms: i64) -> PhpResult<i64> {
    let _ = (state, timeout_ms);
    Err(from_kafka(not_implemented()))
}

pub fn out_q_len(state: &ClientState) -> i64 {
    let _ = state;
    0
}

pub fn poll(this: &Zval, state: &ClientState, timeout_ms: i64) -> PhpResult<i64> {
    let _ = (this, state, timeout_ms);
    Ok(0)
}

pub fn flush(this: &Zval, state: &ClientState, timeout_ms: i64) -> PhpResult<i64> {
    let _ = (this, state, timeout_ms);
    Ok(0)
}

pub fn purge(state: &ClientState, flags: i64) -> i64 {
    let _ = (state, flags);
    0
}

pub fn watermarks(state: &ClientState, topic: &str, partition: i64, timeout_ms: i64) -> PhpResult<(i64, i64)> {
    let _ = (state, topic, partition, timeout_ms);
    Err(from_kafka(not_implemented()))
}

pub fn offsets_for_times(state: &ClientState, list: Vec<TopicPartition>, timeout_ms: i64) -> PhpResult<Vec<TopicPartition>> {
    let _ = (state, list, timeout_ms);
    Err(from_kafka(not_implemented()))
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
    payload: Option<&[u8]>,
    key: Option<&[u8]>,
    headers: Option<Headers>,
    timestamp_ms: Option<i64>,
    opaque: Option<&[u8]>,
) -> PhpResult<()> {
    let _ = (state, topic, conf, partition, payload, key, headers, timestamp_ms, opaque);
    Err(from_kafka(not_implemented()))
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
