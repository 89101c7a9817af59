//! The sender task: metadata for new topics, linger, batch closing, one Produce request per
//! leader, retries with backoff, message timeouts, idempotent producer id and sequences.

use super::accumulator::{Accumulator, Batch, MsgMeta};
use super::Inner;
use crate::error::{ErrorCode, KafkaError};
use crate::net::records::{
    body_size, build_batch, compress, write_batch_header, BatchHeader, Codec, HeaderRef,
    BATCH_HEADER_LEN,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    InitProducerIdRequest, ProduceRequest, ProducerId, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProducerIdent {
    pub id: i64,
    pub epoch: i16,
}

/// Fails every queued (not in-flight) message with `_PURGE_QUEUE`.
pub(super) fn purge_queue(inner: &Inner) {
    let mut out: Vec<(Arc<str>, i32, Vec<MsgMeta>)> = Vec::new();
    {
        let mut acc = inner.lock_acc();
        for tq in acc.topics.values_mut() {
            for (i, pq) in tq.parts.iter_mut().enumerate() {
                for b in pq.ready.drain(..) {
                    out.push((tq.name.clone(), i as i32, b.msgs));
                }
                if let Some(o) = pq.open.take() {
                    out.push((tq.name.clone(), i as i32, o.msgs));
                }
            }
        }
        for m in acc.ua.drain(..) {
            out.push((Arc::from(m.topic.as_str()), -1, vec![m.meta]));
        }
    }
    for (t, p, msgs) in out {
        inner.deliver(&t, p, -1, ErrorCode::PURGE_QUEUE, msgs, 0);
    }
}

pub(super) async fn run(inner: Arc<Inner>) {
    let mut last_md: Option<Instant> = None;
    let mut pid: Option<ProducerIdent> = None;
    let mut pid_backoff: Option<Instant> = None;
    let mut last_stats = Instant::now();
    loop {
        if let Some(iv) = inner.stats_interval {
            if last_stats.elapsed() >= iv {
                last_stats = Instant::now();
                inner.emit_stats();
            }
        }
        let shutdown = inner.shutdown.load(Ordering::SeqCst);
        if shutdown && inner.outq.load(Ordering::SeqCst) == 0 {
            return;
        }
        if shutdown && Arc::strong_count(&inner) <= 1 {
            return;
        }
        let now = Instant::now();
        let s = &inner.settings;

        // Metadata for unassigned messages, after errors, and periodically.
        let periodic = s
            .md_refresh_interval
            .is_some_and(|i| last_md.is_none_or(|t| t.elapsed() >= i));
        let wanted = inner.metadata_wanted.load(Ordering::SeqCst);
        if (wanted || (periodic && last_md.is_some()))
            && last_md.is_none_or(|t| t.elapsed() >= s.md_fast_interval)
        {
            inner.metadata_wanted.store(false, Ordering::SeqCst);
            last_md = Some(Instant::now());
            refresh_metadata(&inner).await;
        }

        if let Some(t) = &inner.txn {
            // A transactional producer's id comes from init_transactions().
            pid = t.pid();
        } else if s.idempotence
            && pid.is_none()
            && pid_backoff.is_none_or(|t| t <= now)
            && !inner.lock_acc().is_empty()
        {
            match init_producer_id(&inner).await {
                Ok(p) => pid = Some(p),
                Err(e) => {
                    inner.error(e.code, e.message);
                    pid_backoff = Some(Instant::now() + s.backoff.max(Duration::from_millis(100)));
                }
            }
        }

        let gate = inner.txn.as_ref().map(|t| t.send_gate());
        let may_send = (pid.is_some() || !s.idempotence)
            && !matches!(gate, Some(super::txn::SendGate::Closed));
        let (groups, next_due, unregistered) = collect(&inner, may_send, gate.as_ref());
        if let Some(t) = inner.txn.as_ref().filter(|_| !unregistered.is_empty()) {
            if t.add_pending(unregistered) {
                tokio::spawn(super::txn::register_partitions(inner.clone()));
            }
        }
        for (leader, batches) in groups {
            let inner2 = inner.clone();
            let ident = pid;
            tokio::spawn(async move { send(inner2, leader, batches, ident).await });
        }

        let mut sleep_for = Duration::from_millis(if shutdown { 10 } else { 1000 });
        if let Some(d) = next_due {
            sleep_for = sleep_for.min(d.saturating_duration_since(Instant::now()));
        }
        if let Some(iv) = inner.stats_interval {
            sleep_for = sleep_for.min((last_stats + iv).saturating_duration_since(Instant::now()));
        }
        if inner.metadata_wanted.load(Ordering::SeqCst) {
            sleep_for = sleep_for.min(s.md_fast_interval.max(Duration::from_millis(10)));
        }
        let _ = tokio::time::timeout(sleep_for, inner.wake.notified()).await;
    }
}

async fn refresh_metadata(inner: &Arc<Inner>) {
    let topics: Vec<String> = {
        let acc = inner.lock_acc();
        let mut t: Vec<String> = acc.topics.names().map(str::to_string).collect();
        t.extend(acc.ua.iter().map(|m| m.topic.clone()));
        t.sort();
        t.dedup();
        t
    };
    if topics.is_empty() {
        return;
    }
    let cluster = &inner.client.cluster;
    if let Err(e) = cluster.fetch_metadata(Some(&topics), true).await {
        inner.error(e.code, e.message);
        inner.metadata_wanted.store(true, Ordering::SeqCst);
        return;
    }
    let s = &inner.settings;
    let mut failed: Vec<(String, ErrorCode, MsgMeta)> = Vec::new();
    let mut guard = inner.lock_acc();
    for t in &topics {
        if let Some(tm) = cluster.topic(t) {
            if !tm.partitions.is_empty() {
                guard.ensure_topic(t, tm.partitions.len(), s.partitioner);
            }
        }
    }
    let ua: Vec<_> = guard.ua.drain(..).collect();
    let now_ms = super::now_ms();
    let acc = &mut *guard;
    let mut retry_later = false;
    for m in ua {
        let tm = cluster.topic(&m.topic);
        match acc.topics.get_mut(&m.topic) {
            Some(tq) if m.partition >= tq.parts.len() as i32 => {
                failed.push((m.topic, ErrorCode::UNKNOWN_PARTITION, m.meta));
            }
            Some(tq) => {
                let headers: Vec<HeaderRef<'_>> = m
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_deref()))
                    .collect();
                let _ = Accumulator::append(
                    tq,
                    &mut acc.spare,
                    &mut acc.spare_msgs,
                    m.partition,
                    m.key.as_deref(),
                    m.payload.as_deref(),
                    &headers,
                    body_size(0, 0, m.key.as_deref(), m.payload.as_deref(), &headers),
                    m.meta,
                    now_ms,
                    &s.limits,
                );
            }
            None => {
                let code = tm
                    .map(|t| t.err)
                    .filter(|e| !e.is_ok())
                    .unwrap_or(ErrorCode::UNKNOWN_TOPIC);
                if m.enqueued.elapsed() >= s.propagation_max
                    || s.msg_timeout.is_some_and(|t| m.enqueued.elapsed() >= t)
                {
                    let code = if code == ErrorCode::UNKNOWN_TOPIC_OR_PART {
                        ErrorCode::UNKNOWN_TOPIC
                    } else {
                        code
                    };
                    failed.push((m.topic, code, m.meta));
                } else {
                    acc.ua.push_back(m);
                    retry_later = true;
                }
            }
        }
    }
    drop(guard);
    if retry_later {
        inner.metadata_wanted.store(true, Ordering::SeqCst);
    }
    for (t, code, meta) in failed {
        inner.deliver(&Arc::from(t.as_str()), -1, -1, code, vec![meta], 0);
    }
}

async fn init_producer_id(inner: &Arc<Inner>) -> Result<ProducerIdent, KafkaError> {
    let (conn, _) = inner.client.cluster.any_connection().await?;
    let mut req = InitProducerIdRequest::default();
    req.transactional_id = None;
    req.transaction_timeout_ms = 60_000;
    req.producer_id = ProducerId(-1);
    req.producer_epoch = -1;
    let resp = conn.send(&req, 4).await?;
    if resp.error_code != 0 {
        return Err(KafkaError::new(ErrorCode::from_kafka(resp.error_code)));
    }
    Ok(ProducerIdent {
        id: resp.producer_id.0,
        epoch: resp.producer_epoch,
    })
}

type Groups = HashMap<i32, Vec<Batch>>;
/// Partitions with data that a transactional producer must add to its transaction first.
type Unregistered = Vec<(Arc<str>, i32)>;

/// Closes due batches, expires timed-out ones, and takes one sendable batch per partition,
/// grouped by leader. Returns the groups, when to look again, and (transactional producer)
/// the partitions with data that must be added to the transaction before they may send.
fn collect(
    inner: &Arc<Inner>,
    may_send: bool,
    gate: Option<&super::txn::SendGate>,
) -> (Groups, Option<Instant>, Unregistered) {
    let mut unregistered = Vec::new();
    let s = &inner.settings;
    let now = Instant::now();
    let mut groups: Groups = HashMap::new();
    let mut expired: Vec<(Arc<str>, i32, Vec<MsgMeta>)> = Vec::new();
    let mut want_md = false;
    let mut acc = inner.lock_acc();
    let mut next = acc.close_due(s.linger, now);
    if let Some(to) = s.msg_timeout {
        while acc.ua.front().is_some_and(|m| m.enqueued + to <= now) {
            if let Some(m) = acc.ua.pop_front() {
                expired.push((Arc::from(m.topic.as_str()), -1, vec![m.meta]));
            }
        }
        if let Some(m) = acc.ua.front() {
            let d = m.enqueued + to;
            next = Some(next.map_or(d, |n| n.min(d)));
        }
    }
    let cluster = &inner.client.cluster;
    for tq in acc.topics.values_mut() {
        for (i, pq) in tq.parts.iter_mut().enumerate() {
            let p = i as i32;
            if let Some(to) = s.msg_timeout {
                while pq.ready.front().is_some_and(|b| b.created + to <= now) && !pq.in_flight {
                    if let Some(b) = pq.ready.pop_front() {
                        expired.push((tq.name.clone(), p, b.msgs));
                    }
                }
                if pq.open.as_ref().is_some_and(|o| o.created + to <= now) && pq.ready.is_empty() {
                    if let Some(o) = pq.open.take() {
                        expired.push((tq.name.clone(), p, o.msgs));
                    }
                }
                let oldest = pq
                    .ready
                    .front()
                    .map(|b| b.created)
                    .or(pq.open.as_ref().map(|o| o.created));
                if let Some(o) = oldest {
                    let d = o + to;
                    next = Some(next.map_or(d, |n| n.min(d)));
                }
            }
            if let Some(super::txn::SendGate::Open(registered)) = gate {
                let has_data = !pq.ready.is_empty() || pq.open.is_some();
                if has_data && !registered.contains(&(tq.name.clone(), p)) {
                    unregistered.push((tq.name.clone(), p));
                    continue;
                }
            }
            if pq.in_flight || pq.ready.is_empty() || !may_send {
                continue;
            }
            if let Some(b) = pq.backoff_until {
                if b > now {
                    next = Some(next.map_or(b, |n| n.min(b)));
                    continue;
                }
                pq.backoff_until = None;
            }
            let Some(leader) = cluster.leader(&tq.name, p) else {
                want_md = true;
                continue;
            };
            if let Some(mut b) = pq.ready.pop_front() {
                if b.base_seq < 0 && s.idempotence {
                    b.base_seq = pq.next_seq;
                    pq.next_seq = pq.next_seq.wrapping_add(b.msgs.len() as i32) & i32::MAX;
                }
                pq.in_flight = true;
                groups.entry(leader).or_default().push(b);
            }
        }
    }
    drop(acc);
    if want_md {
        inner.metadata_wanted.store(true, Ordering::SeqCst);
    }
    for (t, p, msgs) in expired {
        inner.deliver(&t, p, -1, ErrorCode::MSG_TIMED_OUT, msgs, 0);
    }
    (groups, next, unregistered)
}

fn wire(
    b: &mut Batch,
    inner: &Inner,
    pid: Option<ProducerIdent>,
) -> Result<bytes::Bytes, KafkaError> {
    if let Some(w) = &b.wire {
        return Ok(w.clone());
    }
    let codec = inner.settings.codec;
    let (id, epoch, seq) = match pid {
        Some(p) if inner.settings.idempotence => (p.id, p.epoch, b.base_seq),
        _ => (-1, -1, -1),
    };
    let header = BatchHeader {
        count: b.msgs.len() as i32,
        base_timestamp: b.base_ts,
        max_timestamp: b.max_ts,
        producer_id: id,
        producer_epoch: epoch,
        base_sequence: seq,
        codec,
        transactional: inner.txn.is_some(),
    };
    let w = if codec == Codec::None {
        // The records were encoded behind reserved header space: no copy.
        let mut buf = std::mem::take(&mut b.records);
        write_batch_header(&header, &mut buf);
        buf.freeze()
    } else {
        build_batch(&header, &compress(codec, &b.records[BATCH_HEADER_LEN..])?)
    };
    b.wire = Some(w.clone());
    Ok(w)
}

async fn send(inner: Arc<Inner>, leader: i32, mut batches: Vec<Batch>, pid: Option<ProducerIdent>) {
    let gen = inner.purge_gen.load(Ordering::SeqCst);
    let s = inner.settings.clone();
    let mut req = ProduceRequest::default();
    req.acks = s.acks;
    req.timeout_ms = s.request_timeout_ms;
    req.transactional_id = inner
        .txn
        .as_ref()
        .map(|t| TransactionalId(StrBytes::from_string(t.id.clone())));
    let mut ok_batches: Vec<Batch> = Vec::new();
    for mut b in batches.drain(..) {
        match wire(&mut b, &inner, pid) {
            Ok(w) => {
                let name = TopicName(StrBytes::from_string(b.topic.to_string()));
                let mut pd = PartitionProduceData::default();
                pd.index = b.partition;
                pd.records = Some(w);
                match req.topic_data.iter_mut().find(|t| t.name == name) {
                    Some(t) => t.partition_data.push(pd),
                    None => {
                        let mut td = TopicProduceData::default();
                        td.name = name;
                        td.partition_data.push(pd);
                        req.topic_data.push(td);
                    }
                }
                ok_batches.push(b);
            }
            Err(e) => finish(&inner, b, Err(e), gen),
        }
    }
    if ok_batches.is_empty() {
        return;
    }
    let conn = match inner.client.cluster.connection(leader).await {
        Ok(c) => c,
        Err(e) => {
            inner.error(e.code, e.message.clone());
            inner.metadata_wanted.store(true, Ordering::SeqCst);
            for b in ok_batches {
                finish(&inner, b, Err(e.clone()), gen);
            }
            return;
        }
    };
    let version = match conn.version::<ProduceRequest>(9) {
        Ok(v) => v,
        Err(e) => {
            for b in ok_batches {
                finish(&inner, b, Err(e.clone()), gen);
            }
            return;
        }
    };
    if s.acks == 0 {
        let r = conn.send_no_response(&req, version).await;
        drop(req);
        for b in ok_batches {
            finish(&inner, b, r.clone().map(|_| (-1, -1)), gen);
        }
        return;
    }
    let wait = inner
        .client
        .cluster
        .request_timeout()
        .max(Duration::from_millis(s.request_timeout_ms.max(0) as u64));
    inner.counters.tx.fetch_add(1, Ordering::Relaxed);
    let resp = conn.send_versioned(&req, version, wait).await;
    // The request holds the batches' wire buffers: release them so they can be recycled.
    drop(req);
    if resp.is_ok() {
        inner.counters.rx.fetch_add(1, Ordering::Relaxed);
    }
    match resp {
        Err(e) => {
            if e.code == ErrorCode::TRANSPORT {
                inner.error(e.code, e.message.clone());
            }
            inner.metadata_wanted.store(true, Ordering::SeqCst);
            for b in ok_batches {
                finish(&inner, b, Err(e.clone()), gen);
            }
        }
        Ok(resp) => {
            for b in ok_batches {
                let pr = resp
                    .responses
                    .iter()
                    .filter(|t| t.name.0.as_str() == &*b.topic)
                    .flat_map(|t| t.partition_responses.iter())
                    .find(|p| p.index == b.partition);
                let r = match pr {
                    None => Err(KafkaError::new(ErrorCode::UNKNOWN_PARTITION)),
                    Some(p) if p.error_code == 0 => Ok((p.base_offset, p.log_append_time_ms)),
                    // A retry of a batch the broker already has: delivered.
                    Some(p) if p.error_code == 46 => Ok((-1, -1)),
                    Some(p) => Err(KafkaError::with_message(
                        ErrorCode::from_kafka(p.error_code),
                        p.error_message
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_else(|| ErrorCode::from_kafka(p.error_code).description()),
                    )),
                };
                finish(&inner, b, r, gen);
            }
        }
    }
}

/// Reports a batch, or puts it back at the head of its partition for a retry.
fn finish(inner: &Arc<Inner>, mut b: Batch, r: Result<(i64, i64), KafkaError>, gen: usize) {
    let s = &inner.settings;
    let purged = inner.purge_gen.load(Ordering::SeqCst) != gen;
    let mut acc = inner.lock_acc();
    let pq = acc
        .topics
        .get_mut(&b.topic)
        .and_then(|t| t.parts.get_mut(b.partition as usize));
    let Some(pq) = pq else {
        drop(acc);
        inner.deliver(
            &b.topic,
            b.partition,
            -1,
            ErrorCode::UNKNOWN_PARTITION,
            b.msgs,
            0,
        );
        return;
    };
    // The partition stays in flight until this batch's reports are queued: the next batch
    // is sent only then, so its reports cannot overtake these.
    let outcome = match r {
        Ok((off, ts)) if !purged => Ok((off, ts)),
        Ok(_) => Err(ErrorCode::PURGE_INFLIGHT),
        Err(_) if purged => Err(ErrorCode::PURGE_INFLIGHT),
        Err(e) => {
            let expired = s.msg_timeout.is_some_and(|t| b.created.elapsed() >= t);
            let retriable = e.code.is_retriable()
                || e.code == ErrorCode::TRANSPORT
                || e.code == ErrorCode::UNKNOWN_BROKER;
            if retriable
                && b.attempts < s.retries
                && !expired
                && !inner.shutdown.load(Ordering::SeqCst)
            {
                b.attempts += 1;
                let exp = s.backoff.saturating_mul(1 << b.attempts.min(10));
                pq.backoff_until = Some(Instant::now() + exp.min(s.backoff_max));
                if e.code.needs_metadata_refresh()
                    || e.code == ErrorCode::TIMED_OUT
                    || e.code == ErrorCode::UNKNOWN_BROKER
                {
                    inner.metadata_wanted.store(true, Ordering::SeqCst);
                }
                pq.in_flight = false;
                pq.ready.push_front(b);
                drop(acc);
                inner.wake.notify_one();
                return;
            }
            Err(if expired {
                ErrorCode::MSG_TIMED_OUT
            } else {
                e.code
            })
        }
    };
    if outcome.is_ok() {
        pq.txmsgs += b.msgs.len() as u64;
        pq.txbytes += b.msgs.iter().map(|m| m.size as u64).sum::<u64>();
    }
    acc.recycle(&mut b);
    drop(acc);
    let emptied = match outcome {
        Ok((off, ts)) => {
            inner
                .counters
                .txmsgs
                .fetch_add(b.msgs.len() as u64, Ordering::Relaxed);
            inner.counters.txmsg_bytes.fetch_add(
                b.msgs.iter().map(|m| m.size as u64).sum(),
                Ordering::Relaxed,
            );
            inner.deliver(&b.topic, b.partition, off, ErrorCode::NO_ERROR, b.msgs, ts)
        }
        Err(code) => {
            super::txn::on_delivery_failure(inner, code, &b.topic, b.partition);
            inner.deliver(&b.topic, b.partition, -1, code, b.msgs, 0)
        }
    };
    let mut acc = inner.lock_acc();
    acc.recycle_msgs(emptied);
    if let Some(pq) = acc
        .topics
        .get_mut(&b.topic)
        .and_then(|t| t.parts.get_mut(b.partition as usize))
    {
        pq.in_flight = false;
    }
    drop(acc);
    inner.wake.notify_one();
}
