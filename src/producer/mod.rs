//! The producer (php's `RdKafka\Producer`).
//!
//! Path of a message: [`Producer::produce`] (caller's thread) encodes it into its
//! partition's open batch in the `accumulator`; the `sender` task on the background
//! runtime closes batches on `linger.ms`/`batch.size`/`batch.num.messages`, compresses them,
//! sends one Produce request per leader (one batch in flight per partition, so retries keep
//! order and idempotent sequence numbers stay gap-free), and turns each answer into delivery
//! reports. Reports wait in the event queue until the caller polls.

mod accumulator;
mod sender;
mod txn;

pub use txn::{ConsumerGroupMetadata, FlushResult};

use crate::client::Client;
use crate::config::{Config, TopicConfig};
use crate::error::{ErrorCode, KafkaError, Result};
use crate::event::{DeliveryReport, Event, EventQueue};
use crate::net::records::{body_size, record_len, Codec, HeaderRef};
use crate::partitioner::Partitioner;
use accumulator::{Accumulator, Appended, Limits, MsgCopy, MsgMeta, UaMessage};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `RD_KAFKA_PURGE_F_QUEUE`.
pub const PURGE_F_QUEUE: i32 = 1;
/// `RD_KAFKA_PURGE_F_INFLIGHT`.
pub const PURGE_F_INFLIGHT: i32 = 2;
/// `RD_KAFKA_PURGE_F_NON_BLOCKING`.
pub const PURGE_F_NON_BLOCKING: i32 = 4;

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub linger: Duration,
    pub limits: Limits,
    pub acks: i16,
    pub codec: Codec,
    pub retries: u32,
    pub backoff: Duration,
    pub backoff_max: Duration,
    pub msg_timeout: Option<Duration>,
    pub request_timeout_ms: i32,
    pub max_msgs: usize,
    pub max_bytes: usize,
    pub idempotence: bool,
    pub message_max_bytes: usize,
    pub partitioner: Partitioner,
    pub dr_only_error: bool,
    pub md_fast_interval: Duration,
    pub md_refresh_interval: Option<Duration>,
    pub propagation_max: Duration,
}

impl Settings {
    fn from_config(c: &Config) -> Settings {
        let t = c.topic_config();
        // A transactional producer is idempotent (librdkafka forces it).
        let idempotence = c.get_bool("enable.idempotence")
            || c.get_str("transactional.id").is_some_and(|t| !t.is_empty());
        let linger_ms = c.get_f64("queue.buffering.max.ms");
        let ms = |n: i64| Duration::from_millis(n.max(0) as u64);
        let codec = match t.get("compression.codec").as_deref() {
            Some("inherit") | None => {
                Codec::from_name(&c.get("compression.codec").unwrap_or_default())
            }
            Some(x) => Codec::from_name(x),
        };
        let mut mto = t.get_i64("message.timeout.ms");
        if idempotence && c.get_str("transactional.id").is_some_and(|t| !t.is_empty()) {
            // librdkafka: a transactional producer's messages time out with the transaction.
            let txn_timeout = c.get_i64("transaction.timeout.ms");
            if mto <= 0 || mto > txn_timeout {
                mto = txn_timeout;
            }
        }
        let refresh = c.get_i64("topic.metadata.refresh.interval.ms");
        Settings {
            linger: Duration::from_secs_f64(linger_ms / 1000.0),
            limits: Limits {
                batch_size: c.get_i64("batch.size").max(1) as usize,
                batch_num: c.get_i64("batch.num.messages").max(1) as usize,
                sticky_linger: ms(c.get_i64("sticky.partitioning.linger.ms")),
            },
            acks: if idempotence {
                -1
            } else {
                t.get_i64("request.required.acks") as i16
            },
            codec,
            retries: c.get_i64("message.send.max.retries").max(0) as u32,
            backoff: ms(c.get_i64("retry.backoff.ms")),
            backoff_max: ms(c.get_i64("retry.backoff.max.ms")),
            msg_timeout: (mto > 0).then(|| ms(mto)),
            request_timeout_ms: t.get_i64("request.timeout.ms") as i32,
            max_msgs: match c.get_i64("queue.buffering.max.messages") {
                0 => usize::MAX,
                n => n as usize,
            },
            max_bytes: (c.get_i64("queue.buffering.max.kbytes") as usize).saturating_mul(1024),
            idempotence,
            message_max_bytes: c.get_i64("message.max.bytes") as usize,
            partitioner: t
                .get("partitioner")
                .and_then(|p| Partitioner::from_name(&p))
                .unwrap_or_default(),
            dr_only_error: c.get_bool("delivery.report.only.error"),
            md_fast_interval: ms(c.get_i64("topic.metadata.refresh.fast.interval.ms")),
            md_refresh_interval: (refresh > 0).then(|| ms(refresh)),
            propagation_max: ms(c.get_i64("topic.metadata.propagation.max.ms")),
        }
    }
}

/// State shared by the caller's thread and the sender task.
pub(crate) struct Inner {
    pub settings: Settings,
    pub client: Client,
    pub acc: Mutex<Accumulator>,
    /// Signalled when queue space frees up (blocking produce).
    pub space: Condvar,
    pub wake: tokio::sync::Notify,
    pub events: Arc<EventQueue>,
    /// Messages produced and not yet handed back (in queue, in flight, or report not polled).
    pub outq: AtomicUsize,
    pub outq_bytes: AtomicUsize,
    pub dr_enabled: AtomicBool,
    pub dr_copy: AtomicBool,
    pub shutdown: AtomicBool,
    pub purge_gen: AtomicUsize,
    pub fatal: Mutex<Option<KafkaError>>,
    /// Set (once, never cleared) after `fatal` is filled in: `produce()` reads this flag
    /// instead of taking the `fatal` lock for every message.
    pub has_fatal: AtomicBool,
    pub metadata_wanted: AtomicBool,
    pub counters: crate::stats::Counters,
    pub stats_interval: Option<Duration>,
    /// Transaction state, with `transactional.id`.
    pub txn: Option<txn::Txn>,
}

impl Inner {
    /// Emits delivery reports for `msgs` (or only moves counters when nobody listens), and
    /// gives back the emptied list (for reuse).
    pub fn deliver(
        &self,
        topic: &Arc<str>,
        partition: i32,
        base_offset: i64,
        err: ErrorCode,
        mut msgs: Vec<MsgMeta>,
        log_append_ts: i64,
    ) -> Vec<MsgMeta> {
        let n = msgs.len();
        if n == 0 {
            return msgs;
        }
        if !err.is_ok() {
            txn::count_dr_failures(self, n, err);
        }
        let report = self.dr_enabled.load(Ordering::Relaxed)
            && !(self.settings.dr_only_error && err.is_ok());
        if report {
            let evs = msgs.drain(..).enumerate().map(|(i, m)| {
                let (key, payload, headers) = match m.copy {
                    Some(c) => (c.key, c.payload, c.headers),
                    None => (None, None, Vec::new()),
                };
                Event::Delivery(DeliveryReport {
                    topic: topic.clone(),
                    partition,
                    offset: if base_offset >= 0 && err.is_ok() {
                        base_offset + i as i64
                    } else {
                        -1
                    },
                    err,
                    opaque: m.opaque,
                    timestamp: if log_append_ts > 0 {
                        log_append_ts
                    } else {
                        m.timestamp
                    },
                    key,
                    payload,
                    len: m.len,
                    headers,
                    acct: m.size,
                })
            });
            self.events.push_many(evs);
        } else {
            let bytes: usize = msgs.iter().map(|m| m.size).sum();
            msgs.clear();
            self.release(n, bytes);
            self.events.wake();
        }
        msgs
    }

    /// Locks the accumulator and moves the messages `produce()` counted under the lock into
    /// `outq`/`outq_bytes`. Everything but `produce()` locks through here, so a message is in
    /// `outq` before anybody can send, purge or report it, and readers of `outq` that lock
    /// first see every produced message.
    pub fn lock_acc(&self) -> MutexGuard<'_, Accumulator> {
        let mut acc = self.acc.lock().unwrap_or_else(|e| e.into_inner());
        self.fold(&mut acc);
        acc
    }

    fn fold(&self, acc: &mut Accumulator) {
        let (n, bytes) = std::mem::take(&mut acc.unfolded);
        if n > 0 {
            self.outq.fetch_add(n, Ordering::SeqCst);
            self.outq_bytes.fetch_add(bytes, Ordering::SeqCst);
        }
    }

    fn release(&self, n: usize, bytes: usize) {
        self.outq.fetch_sub(n, Ordering::SeqCst);
        self.outq_bytes.fetch_sub(bytes, Ordering::SeqCst);
        let _g = self.lock_acc();
        self.space.notify_all();
    }

    /// Queues a statistics event: queue gauges, per-partition queues and counters,
    /// brokers (see `crate::stats`).
    pub fn emit_stats(&self) {
        let s = &self.settings;
        let cluster = &self.client.cluster;
        let mut partitions = Vec::new();
        {
            let acc = self.lock_acc();
            for tq in acc.topics.values() {
                for (i, pq) in tq.parts.iter().enumerate() {
                    let mut p = crate::stats::PartitionStats::new(&tq.name, i as i32);
                    p.leader = cluster.leader(&tq.name, i as i32).unwrap_or(-1);
                    if let Some(o) = &pq.open {
                        p.msgq_cnt = o.msgs.len() as u64;
                        p.msgq_bytes = o.msgs.iter().map(|m| m.size as u64).sum();
                    }
                    for b in &pq.ready {
                        p.xmit_msgq_cnt += b.msgs.len() as u64;
                        p.xmit_msgq_bytes += b.msgs.iter().map(|m| m.size as u64).sum::<u64>();
                    }
                    p.txmsgs = pq.txmsgs;
                    p.txbytes = pq.txbytes;
                    partitions.push(p);
                }
            }
        }
        let snap = crate::stats::Snapshot {
            replyq: self.events.len(),
            msg_cnt: self.outq.load(Ordering::Relaxed),
            msg_size: self.outq_bytes.load(Ordering::Relaxed),
            msg_max: s.max_msgs.min(i32::MAX as usize),
            msg_size_max: s.max_bytes,
            partitions,
            cgrp: None,
        };
        let json = cluster.instance.json(
            &cluster.known_brokers(),
            cluster.metadata_cache_cnt(),
            &self.counters,
            &snap,
        );
        self.events.push(Event::Stats(json));
    }

    pub fn error(&self, code: ErrorCode, reason: String) {
        self.events.push_error(code, reason);
    }
}

/// A producer instance.
pub struct Producer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

/// The wall clock in milliseconds. `clock_gettime` directly: `SystemTime::now()` plus
/// `duration_since` cost half as much again per produced message.
fn now_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_REALTIME always exists.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) } != 0 {
        return SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
    }
    // time_t and c_long are i64 here, narrower on 32-bit targets.
    #[allow(clippy::useless_conversion)]
    let ms = i64::from(ts.tv_sec) * 1000 + i64::from(ts.tv_nsec) / 1_000_000;
    ms
}

impl Producer {
    /// Creates a producer. Nothing connects until the first message or query.
    ///
    /// # Errors
    /// `_INVALID_ARG` for inconsistent settings (e.g. idempotence with `acks` other than all),
    /// or when the runtime cannot start.
    pub fn new(conf: Config) -> Result<Producer> {
        let settings = Settings::from_config(&conf);
        if settings.idempotence && conf.topic_config().get_i64("request.required.acks") != -1 {
            let explicit = conf
                .topic_config()
                .dump()
                .get("request.required.acks")
                .is_some_and(|v| v != "-1");
            if explicit {
                return Err(KafkaError::with_message(
                    ErrorCode::INVALID_ARG,
                    "`acks` must be set to `all` when `enable.idempotence` is true",
                ));
            }
        }
        txn::validate(&conf)?;
        let client = Client::new(&conf)?;
        let events = Arc::new(EventQueue::new(10_000));
        client.cluster.log.attach(&events);
        let inner = Arc::new(Inner {
            settings,
            client,
            acc: Mutex::new(Accumulator::default()),
            space: Condvar::new(),
            wake: tokio::sync::Notify::new(),
            events,
            outq: AtomicUsize::new(0),
            outq_bytes: AtomicUsize::new(0),
            dr_enabled: AtomicBool::new(false),
            dr_copy: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            purge_gen: AtomicUsize::new(0),
            fatal: Mutex::new(None),
            has_fatal: AtomicBool::new(false),
            metadata_wanted: AtomicBool::new(false),
            counters: crate::stats::Counters::default(),
            stats_interval: match conf.get_i64("statistics.interval.ms") {
                n if n > 0 => Some(Duration::from_millis(n as u64)),
                _ => None,
            },
            txn: conf
                .get_str("transactional.id")
                .filter(|t| !t.is_empty())
                .map(|id| {
                    txn::Txn::new(
                        id,
                        conf.get_i64("transaction.timeout.ms")
                            .clamp(1, i64::from(i32::MAX)) as i32,
                        Duration::from_millis(conf.get_i64("retry.backoff.ms").max(0) as u64),
                    )
                }),
        });
        inner.client.handle.spawn(sender::run(inner.clone()));
        Ok(Producer { inner })
    }

    /// The role-independent queries (metadata, watermarks, offsets for times).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Delivery reports are queued as events (a `dr_msg_cb` is registered); with
    /// `copy_payloads` they carry key, payload and headers copies.
    pub fn enable_delivery_reports(&self, copy_payloads: bool) {
        self.inner.dr_enabled.store(true, Ordering::SeqCst);
        self.inner.dr_copy.store(copy_payloads, Ordering::SeqCst);
    }

    /// Uses a topic configuration for `topic` (php's `newTopic($name, $topicConf)`); only
    /// its partitioner is per topic, other settings come from the producer's configuration.
    pub fn set_topic_config(&self, topic: &str, conf: &TopicConfig) {
        if let Some(p) = conf
            .get("partitioner")
            .and_then(|p| Partitioner::from_name(&p))
        {
            self.set_topic_partitioner(topic, p);
        }
    }

    /// Sets the partitioner of one topic (`TopicConf::setPartitioner`).
    pub fn set_topic_partitioner(&self, topic: &str, p: Partitioner) {
        let mut acc = self.inner.lock_acc();
        acc.partitioners.insert(topic.to_string(), p);
        if let Some(tq) = acc.topics.get_mut(topic) {
            tq.partitioner = p;
        }
    }

    /// Enqueues one message (`producev`). `partition` -1 lets the partitioner choose;
    /// `timestamp_ms` 0 means now; `block` waits for queue space instead of failing.
    ///
    /// # Errors
    /// `_QUEUE_FULL`, `MSG_SIZE_TOO_LARGE`, `_UNKNOWN_PARTITION`, `_INVALID_ARG`, a fatal
    /// error, or `_STATE` in a forked child.
    #[allow(clippy::too_many_arguments)]
    pub fn produce(
        &self,
        topic: &str,
        partition: i32,
        payload: Option<&[u8]>,
        key: Option<&[u8]>,
        headers: &[HeaderRef<'_>],
        timestamp_ms: i64,
        opaque: u64,
        block: bool,
    ) -> Result<()> {
        let inner = &*self.inner;
        inner.client.guard.check()?;
        if partition < -1 {
            return Err(KafkaError::with_message(
                ErrorCode::INVALID_ARG,
                format!("Invalid partition {partition}"),
            ));
        }
        if inner.has_fatal.load(Ordering::Acquire) {
            if let Some(e) = inner
                .fatal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                return Err(e);
            }
        }
        if let Some(t) = &inner.txn {
            t.check_produce()?;
        }
        // One clock read per message: the default timestamp and the sticky partitioner's.
        let now = now_ms();
        let ts = if timestamp_ms > 0 { timestamp_ms } else { now };
        let zero_body = body_size(0, 0, key, payload, headers);
        let size = record_len(zero_body);
        if size + 61 > inner.settings.message_max_bytes {
            return Err(KafkaError::new(ErrorCode::MSG_SIZE_TOO_LARGE));
        }
        let s = &inner.settings;
        // `produce()` counts its messages in `unfolded` under the lock instead of two atomic
        // additions per message; see `Inner::lock_acc`.
        let mut guard = inner.acc.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let n = inner.outq.load(Ordering::SeqCst) + guard.unfolded.0;
            let b = inner.outq_bytes.load(Ordering::SeqCst) + guard.unfolded.1;
            if n < s.max_msgs && (b + size <= s.max_bytes || n == 0) {
                break;
            }
            if !block {
                return Err(KafkaError::new(ErrorCode::QUEUE_FULL));
            }
            // Fold what this thread counted, so the sender can send and release it.
            inner.fold(&mut guard);
            guard = inner
                .space
                .wait_timeout(guard, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let copy = inner.dr_copy.load(Ordering::Relaxed).then(|| {
            Box::new(MsgCopy {
                key: key.map(Bytes::copy_from_slice),
                payload: payload.map(Bytes::copy_from_slice),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.map(Bytes::copy_from_slice)))
                    .collect(),
            })
        });
        let meta = MsgMeta {
            opaque,
            timestamp: ts,
            size,
            len: payload.map_or(0, <[u8]>::len),
            copy,
        };
        // A topic's queues are created only by the sender, under this lock, together with
        // moving its unassigned messages in: creating them here could let a later message
        // overtake earlier ones still waiting for metadata.
        let acc = &mut *guard;
        let wake = match acc.topics.get_mut(topic) {
            Some(tq) => {
                let spare = &mut acc.spare;
                match Accumulator::append(
                    tq,
                    spare,
                    &mut acc.spare_msgs,
                    partition,
                    key,
                    payload,
                    headers,
                    zero_body,
                    meta,
                    now,
                    &s.limits,
                ) {
                    Appended::Ok(w) => w,
                    Appended::UnknownPartition => {
                        return Err(KafkaError::new(ErrorCode::UNKNOWN_PARTITION))
                    }
                }
            }
            None => {
                acc.ua.push_back(UaMessage {
                    topic: topic.to_string(),
                    partition,
                    key: key.map(Bytes::copy_from_slice),
                    payload: payload.map(Bytes::copy_from_slice),
                    headers: headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.map(Bytes::copy_from_slice)))
                        .collect(),
                    meta,
                    enqueued: Instant::now(),
                });
                inner.metadata_wanted.store(true, Ordering::SeqCst);
                true
            }
        };
        guard.unfolded.0 += 1;
        guard.unfolded.1 += size;
        drop(guard);
        if wake {
            inner.wake.notify_one();
        }
        Ok(())
    }

    /// Takes up to `max` events, waiting up to `timeout` for the first. Delivery reports
    /// taken here leave the out-queue.
    pub fn poll_events(&self, max: usize, timeout: Duration) -> Vec<Event> {
        self.take_events(max, timeout, false)
    }

    /// [`Producer::poll_events`] that also returns (possibly empty) as soon as the out-queue
    /// is empty: a flush waits here instead of re-checking the out-queue on a timer.
    pub fn poll_events_until_drained(&self, max: usize, timeout: Duration) -> Vec<Event> {
        self.take_events(max, timeout, true)
    }

    fn take_events(&self, max: usize, timeout: Duration, until_drained: bool) -> Vec<Event> {
        if !self.inner.client.guard.is_owner() {
            return Vec::new();
        }
        let outq = &self.inner.outq;
        // Deliveries without reports release the out-queue and then wake the event queue,
        // so `outq` reaching zero is seen under the queue's lock.
        let evs = self.inner.events.pop_until(max, timeout, || {
            until_drained && outq.load(Ordering::SeqCst) == 0
        });
        let (mut n, mut bytes) = (0, 0);
        for e in &evs {
            if let Event::Delivery(d) = e {
                n += 1;
                bytes += d.acct;
            }
        }
        if n > 0 {
            self.inner.release(n, bytes);
        }
        evs
    }

    /// Messages not yet fully handed back: queued, in flight, or with an unpolled report.
    pub fn out_queue_len(&self) -> usize {
        drop(self.inner.lock_acc());
        self.inner.outq.load(Ordering::SeqCst)
    }

    /// Sends everything now and serves events until the out-queue is empty or `timeout`
    /// passes; `serve` sees every event (php runs callbacks there). An `Err` from `serve`
    /// stops the flush and is returned as the outer error.
    ///
    /// # Errors
    /// Inner `Err(_TIMED_OUT)` if messages remain after `timeout`.
    pub fn flush_with<E>(
        &self,
        timeout: Duration,
        mut serve: impl FnMut(Event) -> std::result::Result<(), E>,
    ) -> std::result::Result<Result<()>, E> {
        if let Err(e) = self.inner.client.guard.check() {
            return Ok(Err(e));
        }
        let deadline = crate::runtime::deadline_after(timeout);
        let _flushing = self.flushing();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            for ev in self.poll_events_until_drained(10_000, left) {
                serve(ev)?;
            }
            if self.out_queue_len() == 0 {
                return Ok(Ok(()));
            }
            if Instant::now() >= deadline {
                return Ok(Err(KafkaError::new(ErrorCode::TIMED_OUT)));
            }
        }
    }

    /// Sends queued messages without waiting for `linger.ms` for as long as the guard
    /// lives (what `flush()` does; a binding that serves events itself holds it).
    pub fn flushing(&self) -> Flushing<'_> {
        self.set_flushing(true);
        Flushing(self)
    }

    /// [`Producer::flush_with`] that drops the events.
    ///
    /// # Errors
    /// `_TIMED_OUT` if messages remain after `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        self.flush_with(timeout, |_| Ok::<(), ()>(()))
            .unwrap_or(Ok(()))
    }

    fn set_flushing(&self, on: bool) {
        let mut acc = self.inner.lock_acc();
        if on {
            acc.flushing += 1;
        } else {
            acc.flushing = acc.flushing.saturating_sub(1);
        }
        drop(acc);
        self.inner.wake.notify_one();
    }

    /// Purges queued (`PURGE_F_QUEUE`) and/or in-flight (`PURGE_F_INFLIGHT`) messages; their
    /// reports carry `_PURGE_QUEUE` / `_PURGE_INFLIGHT`.
    ///
    /// # Errors
    /// `_INVALID_ARG` for unknown flags.
    pub fn purge(&self, flags: i32) -> Result<()> {
        self.inner.client.guard.check()?;
        if flags & !(PURGE_F_QUEUE | PURGE_F_INFLIGHT | PURGE_F_NON_BLOCKING) != 0 {
            return Err(KafkaError::new(ErrorCode::INVALID_ARG));
        }
        if flags & PURGE_F_INFLIGHT != 0 {
            self.inner.purge_gen.fetch_add(1, Ordering::SeqCst);
        }
        if flags & PURGE_F_QUEUE != 0 {
            sender::purge_queue(&self.inner);
        }
        self.inner.wake.notify_one();
        Ok(())
    }
}

/// While alive, the producer sends without lingering; see [`Producer::flushing`].
#[must_use = "flushing stops when the guard is dropped"]
pub struct Flushing<'a>(&'a Producer);

impl Drop for Flushing<'_> {
    fn drop(&mut self) {
        self.0.set_flushing(false);
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        if !self.inner.client.guard.is_owner() {
            return;
        }
        self.inner.shutdown.store(true, Ordering::SeqCst);
        sender::purge_queue(&self.inner);
        self.inner.purge_gen.fetch_add(1, Ordering::SeqCst);
        self.inner.wake.notify_one();
    }
}
