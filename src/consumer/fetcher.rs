//! The background fetcher: a bounded prefetch per partition, filled off the caller's thread.
//!
//! Each fetched partition has a queue of decoded messages. The fetch task sends one Fetch
//! request per leader at a time for every partition that is started, not paused, has a
//! resolved offset and room in its queue (`queued.min.messages` per partition,
//! `queued.max.messages.kbytes` in total). Decoding and decompression happen here, so
//! `consume()` only pops. Logical start offsets (BEGINNING, END, tail) are resolved with
//! ListOffsets; OFFSET_OUT_OF_RANGE applies `auto.offset.reset`. A seek bumps the
//! partition's epoch so data fetched for the old position is dropped.

use super::message::Message;
use crate::client::{list_offsets, Client};
use crate::error::{ErrorCode, KafkaError};
use crate::event::EventQueue;
use crate::net::records::{decode_batches, scan_next_offset};
use crate::topic_partition::{OFFSET_BEGINNING, OFFSET_END, OFFSET_STORED, OFFSET_TAIL_BASE};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

type Tp = (Arc<str>, i32);

/// Records, the fetch offset, the offset after the last batch, the high watermark — or the
/// error.
type Status = Result<(bytes::Bytes, i64, Option<i64>, i64, i64), ErrorCode>;

#[derive(Debug)]
struct PartState {
    fetch_offset: i64,
    epoch: u64,
    paused: bool,
    queue: VecDeque<Message>,
    queued_bytes: usize,
    hwm: i64,
    eof_sent: bool,
    in_flight: bool,
    resolving: bool,
    backoff_until: Option<Instant>,
    /// Offset after the last message handed to the application (-1001 = none yet).
    position: i64,
    /// Stopped fetching after an unrecoverable error (`auto.offset.reset=error`).
    halted: bool,
    /// Statistics: messages and payload bytes fetched, log start offset, last EOF.
    rxmsgs: u64,
    rxbytes: u64,
    lo_offset: i64,
    eof_offset: i64,
}

#[derive(Debug, Default)]
struct Parts {
    map: HashMap<Tp, PartState>,
    order: Vec<Tp>,
    rr: usize,
    total_bytes: usize,
    epoch_counter: u64,
    leaders_in_flight: HashSet<i32>,
    /// Bumped by [`Fetcher::interrupt`]: waiting `pop`s return.
    interrupts: u64,
}

/// Fetch settings from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct FetchSettings {
    pub max_wait_ms: i32,
    pub min_bytes: i32,
    pub max_bytes: i32,
    pub partition_max_bytes: i32,
    pub queued_max_bytes: usize,
    pub queued_min_messages: usize,
    pub error_backoff: Duration,
    pub reset: i64,
    pub partition_eof: bool,
    pub isolation: i8,
}

impl FetchSettings {
    pub(crate) fn from_client(c: &Client) -> FetchSettings {
        let conf = &c.conf;
        let reset = match conf.get("auto.offset.reset").as_deref() {
            Some("smallest") => OFFSET_BEGINNING,
            Some("error") => crate::topic_partition::OFFSET_INVALID,
            _ => OFFSET_END,
        };
        FetchSettings {
            max_wait_ms: conf.get_i64("fetch.wait.max.ms") as i32,
            min_bytes: conf.get_i64("fetch.min.bytes") as i32,
            max_bytes: conf.get_i64("fetch.max.bytes") as i32,
            partition_max_bytes: conf.get_i64("fetch.message.max.bytes") as i32,
            queued_max_bytes: (conf.get_i64("queued.max.messages.kbytes").max(1) as usize) * 1024,
            queued_min_messages: conf.get_i64("queued.min.messages").max(1) as usize,
            error_backoff: Duration::from_millis(
                conf.get_i64("fetch.error.backoff.ms").max(0) as u64
            ),
            reset,
            partition_eof: conf.get_bool("enable.partition.eof"),
            isolation: c.isolation_level(),
        }
    }
}

/// The fetcher shared by the caller's thread and the fetch task.
pub(crate) struct Fetcher {
    pub counters: crate::stats::Counters,
    decode_order: tokio::sync::Mutex<()>,
    client: Client,
    events: Arc<EventQueue>,
    settings: FetchSettings,
    parts: Mutex<Parts>,
    cv: Condvar,
    wake: tokio::sync::Notify,
    shutdown: AtomicBool,
    md_wanted: AtomicBool,
}

impl Fetcher {
    /// Starts a fetcher and its task.
    pub(crate) fn start(client: Client, events: Arc<EventQueue>) -> Arc<Fetcher> {
        let settings = FetchSettings::from_client(&client);
        let f = Arc::new(Fetcher {
            counters: crate::stats::Counters::default(),
            decode_order: tokio::sync::Mutex::new(()),
            client,
            events,
            settings,
            parts: Mutex::new(Parts::default()),
            cv: Condvar::new(),
            wake: tokio::sync::Notify::new(),
            shutdown: AtomicBool::new(false),
            md_wanted: AtomicBool::new(false),
        });
        f.client.handle.spawn(run(f.clone()));
        f
    }

    fn lock(&self) -> MutexGuard<'_, Parts> {
        self.parts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops the task; queued messages are dropped.
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Starts (or restarts) fetching a partition at `offset` (absolute or logical) and
    /// returns the start's epoch. `OFFSET_STORED` waits for [`Fetcher::resolve_stored`].
    pub(crate) fn start_partition(&self, topic: &str, partition: i32, offset: i64) -> u64 {
        let mut p = self.lock();
        p.epoch_counter += 1;
        let epoch = p.epoch_counter;
        let key: Tp = (Arc::from(topic), partition);
        if let Some(old) = p.map.remove(&key) {
            p.total_bytes -= old.queued_bytes;
        } else {
            p.order.push(key.clone());
        }
        p.map.insert(
            key,
            PartState {
                fetch_offset: offset,
                epoch,
                paused: false,
                queue: VecDeque::new(),
                queued_bytes: 0,
                hwm: -1,
                eof_sent: false,
                in_flight: false,
                resolving: false,
                backoff_until: None,
                position: crate::topic_partition::OFFSET_INVALID,
                halted: false,
                rxmsgs: 0,
                rxbytes: 0,
                lo_offset: crate::topic_partition::OFFSET_INVALID,
                eof_offset: crate::topic_partition::OFFSET_INVALID,
            },
        );
        drop(p);
        self.wake.notify_one();
        epoch
    }

    /// Gives a partition started at `OFFSET_STORED` its start offset (the committed one, or
    /// the `auto.offset.reset` position), unless it was stopped, restarted or moved since
    /// the start with this `epoch`. Returns false when the partition is gone.
    pub(crate) fn resolve_stored(
        &self,
        topic: &str,
        partition: i32,
        epoch: u64,
        offset: i64,
    ) -> bool {
        let mut p = self.lock();
        let Some(st) = p.map.get_mut(&(Arc::from(topic), partition)) else {
            return false;
        };
        if st.epoch != epoch || st.fetch_offset != OFFSET_STORED {
            return false;
        }
        st.fetch_offset = offset;
        drop(p);
        self.wake.notify_one();
        true
    }

    /// Whether the partition still waits for its stored offset from the start with `epoch`.
    pub(crate) fn awaits_stored(&self, topic: &str, partition: i32, epoch: u64) -> bool {
        self.lock()
            .map
            .get(&(Arc::from(topic), partition))
            .is_some_and(|st| st.epoch == epoch && st.fetch_offset == OFFSET_STORED)
    }

    /// Stops fetching a partition and drops its queue.
    pub(crate) fn stop_partition(&self, topic: &str, partition: i32) {
        let mut p = self.lock();
        let key: Tp = (Arc::from(topic), partition);
        if let Some(old) = p.map.remove(&key) {
            p.total_bytes -= old.queued_bytes;
        }
        p.order.retain(|k| *k != key);
        drop(p);
        self.cv.notify_all();
        // Freed prefetch space may let other partitions fetch again.
        self.wake.notify_one();
    }

    /// Moves a started partition to `offset`, dropping prefetched data.
    ///
    /// # Errors
    /// `_UNKNOWN_PARTITION` when the partition is not being fetched.
    pub(crate) fn seek(&self, topic: &str, partition: i32, offset: i64) -> Result<(), KafkaError> {
        let mut p = self.lock();
        p.epoch_counter += 1;
        let epoch = p.epoch_counter;
        let key: Tp = (Arc::from(topic), partition);
        let Some(st) = p.map.get_mut(&key) else {
            return Err(KafkaError::new(ErrorCode::UNKNOWN_PARTITION));
        };
        let freed = st.queued_bytes;
        st.queue.clear();
        st.queued_bytes = 0;
        st.fetch_offset = offset;
        st.epoch = epoch;
        st.eof_sent = false;
        st.halted = false;
        st.backoff_until = None;
        p.total_bytes -= freed;
        drop(p);
        self.wake.notify_one();
        Ok(())
    }

    /// Whether `topic`/`partition` is started (librdkafka's "desired" partition).
    pub(crate) fn is_started(&self, topic: &str, partition: i32) -> bool {
        self.lock().map.contains_key(&(Arc::from(topic), partition))
    }

    /// Pauses or resumes fetching; paused partitions hand out nothing.
    pub(crate) fn set_paused(&self, topic: &str, partition: i32, paused: bool) -> ErrorCode {
        let mut p = self.lock();
        let key: Tp = (Arc::from(topic), partition);
        match p.map.get_mut(&key) {
            Some(st) => {
                st.paused = paused;
                drop(p);
                self.wake.notify_one();
                ErrorCode::NO_ERROR
            }
            None => ErrorCode::UNKNOWN_PARTITION,
        }
    }

    /// Messages and bytes waiting in the prefetch queues.
    pub(crate) fn queued(&self) -> (usize, usize) {
        let p = self.lock();
        (p.map.values().map(|s| s.queue.len()).sum(), p.total_bytes)
    }

    /// The client this fetcher fetches for.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Per-partition queues and offsets for statistics.
    pub(crate) fn partition_stats(&self) -> Vec<crate::stats::PartitionStats> {
        let p = self.lock();
        p.order
            .iter()
            .filter_map(|k| p.map.get(k).map(|st| (k, st)))
            .map(|((t, part), st)| {
                let mut s = crate::stats::PartitionStats::new(t, *part);
                s.leader = self.client.cluster.leader(t, *part).unwrap_or(-1);
                s.fetchq_cnt = st.queue.len() as u64;
                s.fetchq_size = st.queued_bytes as u64;
                s.fetch_state = if st.paused || st.halted {
                    "stopped"
                } else if st.fetch_offset < 0 {
                    "offset-query"
                } else {
                    "active"
                };
                s.next_offset = st.fetch_offset;
                s.app_offset = st.position;
                s.hi_offset = st.hwm.max(-1001);
                s.lo_offset = st.lo_offset;
                s.eof_offset = st.eof_offset;
                s.rxmsgs = st.rxmsgs;
                s.rxbytes = st.rxbytes;
                s
            })
            .collect()
    }

    /// The configured prefetch byte bound.
    pub(crate) fn queued_max_bytes(&self) -> usize {
        self.settings.queued_max_bytes
    }

    /// The application position (offset after the last consumed message), or
    /// `OFFSET_INVALID`.
    pub(crate) fn position(&self, topic: &str, partition: i32) -> i64 {
        let p = self.lock();
        p.map
            .get(&(Arc::from(topic), partition))
            .map_or(crate::topic_partition::OFFSET_INVALID, |s| s.position)
    }

    /// Takes the next message: from one partition, or round-robin over all. Waits up to
    /// `timeout`, or until [`Fetcher::interrupt`] is called.
    ///
    /// This is `consume()`'s hot path: when a message is queued it costs one uncontended
    /// lock, no clock read and no allocation, and the fetch task is woken only when this
    /// take lets it fetch again (the queue fell below its bound).
    pub(crate) fn pop(&self, only: Option<(&str, i32)>, timeout: Duration) -> Option<Message> {
        let mut p = self.lock();
        let interrupts = p.interrupts;
        let mut deadline = None;
        loop {
            if let Some((m, refill)) = take_one(&mut p, only, &self.settings) {
                drop(p);
                if refill {
                    self.wake.notify_one();
                }
                return Some(m);
            }
            if p.interrupts != interrupts || self.shutdown.load(Ordering::SeqCst) {
                return None;
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert_with(|| crate::runtime::deadline_after(timeout));
            if now >= deadline {
                return None;
            }
            p = self
                .cv
                .wait_timeout(p, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Wakes threads blocked in [`Fetcher::pop`] (e.g. a rebalance event arrived): they
    /// return without a message.
    pub(crate) fn interrupt(&self) {
        let mut p = self.lock();
        p.interrupts = p.interrupts.wrapping_add(1);
        drop(p);
        self.cv.notify_all();
    }
}

/// Takes one message (of `only`, or round-robin) and says whether the fetch task should be
/// woken: the take brought the partition's queue or the total below the prefetch bounds
/// that `run` checks.
fn take_one(
    p: &mut Parts,
    only: Option<(&str, i32)>,
    s: &FetchSettings,
) -> Option<(Message, bool)> {
    let n = p.order.len();
    for i in 0..n {
        let idx = match only {
            Some(_) => i,
            None => (p.rr + i) % n,
        };
        let key = &p.order[idx];
        if only.is_some_and(|(t, part)| part != key.1 || t != &*key.0) {
            continue;
        }
        let Some(st) = p.map.get_mut(key) else {
            continue;
        };
        if st.paused {
            continue;
        }
        if let Some(m) = st.queue.pop_front() {
            let sz = m.size();
            st.queued_bytes -= sz;
            if m.err.is_ok() {
                st.position = m.offset + 1;
            }
            let refill = st.queue.len() + 1 == s.queued_min_messages
                || (p.total_bytes >= s.queued_max_bytes && p.total_bytes - sz < s.queued_max_bytes);
            p.total_bytes -= sz;
            if only.is_none() {
                p.rr = (idx + 1) % n;
            }
            return Some((m, refill));
        }
    }
    None
}

async fn run(f: Arc<Fetcher>) {
    let mut last_md: Option<Instant> = None;
    loop {
        if f.shutdown.load(Ordering::SeqCst) || Arc::strong_count(&f) <= 1 {
            f.cv.notify_all();
            return;
        }
        if f.md_wanted.swap(false, Ordering::SeqCst)
            && last_md.is_none_or(|t| t.elapsed() >= Duration::from_millis(250))
        {
            last_md = Some(Instant::now());
            let topics: Vec<String> = {
                let p = f.lock();
                let mut t: Vec<String> = p.order.iter().map(|(t, _)| t.to_string()).collect();
                t.sort();
                t.dedup();
                t
            };
            if !topics.is_empty() {
                if let Err(_e) = f.client.cluster.fetch_metadata(Some(&topics), false).await {
                    f.md_wanted.store(true, Ordering::SeqCst);
                }
            }
        }
        resolve_offsets(&f).await;
        let now = Instant::now();
        let mut by_leader: HashMap<i32, Vec<(Tp, i64, u64)>> = HashMap::new();
        let mut next_wake = now + Duration::from_millis(500);
        {
            let mut p = f.lock();
            let total = p.total_bytes;
            let order = p.order.clone();
            let busy = p.leaders_in_flight.clone();
            for key in order {
                let Some(st) = p.map.get_mut(&key) else {
                    continue;
                };
                if st.paused || st.halted || st.in_flight || st.fetch_offset < 0 {
                    continue;
                }
                if st.queue.len() >= f.settings.queued_min_messages
                    || total >= f.settings.queued_max_bytes
                {
                    continue;
                }
                if let Some(b) = st.backoff_until {
                    if b > now {
                        next_wake = next_wake.min(b);
                        continue;
                    }
                    st.backoff_until = None;
                }
                let Some(leader) = f.client.cluster.leader(&key.0, key.1) else {
                    f.md_wanted.store(true, Ordering::SeqCst);
                    next_wake = next_wake.min(now + Duration::from_millis(250));
                    continue;
                };
                if busy.contains(&leader) {
                    continue;
                }
                st.in_flight = true;
                by_leader
                    .entry(leader)
                    .or_default()
                    .push((key.clone(), st.fetch_offset, st.epoch));
            }
            for l in by_leader.keys() {
                p.leaders_in_flight.insert(*l);
            }
        }
        for (leader, parts) in by_leader {
            tokio::spawn(fetch(f.clone(), leader, parts));
        }
        let _ = tokio::time::timeout(
            next_wake.saturating_duration_since(Instant::now()),
            f.wake.notified(),
        )
        .await;
    }
}

async fn resolve_offsets(f: &Arc<Fetcher>) {
    let todo: Vec<(Tp, i64, u64)> = {
        let mut p = f.lock();
        let mut v = Vec::new();
        for (k, st) in p.map.iter_mut() {
            // OFFSET_STORED is resolved by the consumer from the group's committed offsets.
            if st.fetch_offset < 0
                && st.fetch_offset != OFFSET_STORED
                && !st.resolving
                && !st.halted
            {
                st.resolving = true;
                v.push((k.clone(), st.fetch_offset, st.epoch));
            }
        }
        v
    };
    if todo.is_empty() {
        return;
    }
    let q: Vec<(String, i32, i64)> = todo
        .iter()
        .map(|((t, p), off, _)| {
            let ts = if *off == OFFSET_BEGINNING { -2 } else { -1 };
            (t.to_string(), *p, ts)
        })
        .collect();
    let res = list_offsets(&f.client.cluster, q, f.settings.isolation).await;
    let mut p = f.lock();
    for (i, (key, logical, epoch)) in todo.into_iter().enumerate() {
        let Some(st) = p.map.get_mut(&key) else {
            continue;
        };
        st.resolving = false;
        if st.epoch != epoch {
            continue;
        }
        let r = match &res {
            Ok(v) => v[i].clone(),
            Err(e) => Err(e.clone()),
        };
        match r {
            Ok(end_or_start) => {
                st.fetch_offset = if logical <= OFFSET_TAIL_BASE {
                    (end_or_start - (OFFSET_TAIL_BASE - logical)).max(0)
                } else {
                    end_or_start
                };
            }
            Err(e) => {
                st.backoff_until = Some(Instant::now() + f.settings.error_backoff);
                if e.code.needs_metadata_refresh() || e.code == ErrorCode::UNKNOWN_TOPIC {
                    f.md_wanted.store(true, Ordering::SeqCst);
                }
            }
        }
    }
}

async fn fetch(f: Arc<Fetcher>, leader: i32, parts: Vec<(Tp, i64, u64)>) {
    let s = &f.settings;
    let mut req = FetchRequest::default();
    req.replica_id = BrokerId(-1);
    req.max_wait_ms = s.max_wait_ms;
    req.min_bytes = s.min_bytes;
    req.max_bytes = s.max_bytes;
    req.isolation_level = s.isolation;
    req.session_id = 0;
    req.session_epoch = -1;
    for ((t, p), off, _) in &parts {
        let name = TopicName(StrBytes::from_string(t.to_string()));
        let mut fp = FetchPartition::default();
        fp.partition = *p;
        fp.current_leader_epoch = -1;
        fp.fetch_offset = *off;
        fp.last_fetched_epoch = -1;
        fp.log_start_offset = -1;
        fp.partition_max_bytes = s.partition_max_bytes;
        match req.topics.iter_mut().find(|x| x.topic == name) {
            Some(x) => x.partitions.push(fp),
            None => {
                let mut ft = FetchTopic::default();
                ft.topic = name;
                ft.partitions.push(fp);
                req.topics.push(ft);
            }
        }
    }
    let timeout =
        f.client.cluster.request_timeout() + Duration::from_millis(s.max_wait_ms.max(0) as u64);
    f.counters.tx.fetch_add(1, Ordering::Relaxed);
    let resp = async {
        let conn = f.client.cluster.connection(leader).await?;
        let v = conn.version::<FetchRequest>(11)?;
        conn.send_versioned(&req, v, timeout).await
    }
    .await;
    // Phase A: statuses and next offsets from batch headers only.
    let mut out: Vec<(Tp, u64, Status)> = Vec::new();
    match resp {
        Err(e) => {
            f.md_wanted.store(true, Ordering::SeqCst);
            if matches!(
                e.code,
                ErrorCode::TRANSPORT | ErrorCode::ALL_BROKERS_DOWN | ErrorCode::UNKNOWN_BROKER
            ) {
                f.events.push_error(e.code, e.message.clone());
                f.cv.notify_all();
            }
            for (k, _, ep) in &parts {
                out.push((k.clone(), *ep, Err(e.code)));
            }
        }
        Ok(resp) => {
            for (k, off, ep) in &parts {
                let pd = resp
                    .responses
                    .iter()
                    .filter(|r| r.topic.0.as_str() == &*k.0)
                    .flat_map(|r| r.partitions.iter())
                    .find(|x| x.partition_index == k.1);
                let r = match pd {
                    None => Err(ErrorCode::UNKNOWN_PARTITION),
                    Some(pd) if pd.error_code != 0 => Err(ErrorCode::from_kafka(pd.error_code)),
                    Some(pd) => {
                        let records = pd.records.clone().unwrap_or_default();
                        // The next offset counts aborted batches too, so they are passed.
                        let next = scan_next_offset(&records);
                        let (records, end) = if s.isolation == 1 {
                            let aborted: Vec<(i64, i64)> = pd
                                .aborted_transactions
                                .iter()
                                .flatten()
                                .map(|t| (t.producer_id.0, t.first_offset))
                                .collect();
                            // read_committed ends at the last stable offset (EOF, lag).
                            let lso = pd.last_stable_offset;
                            (
                                super::aborted::filter_aborted(records, &aborted),
                                if lso >= 0 { lso } else { pd.high_watermark },
                            )
                        } else {
                            (records, pd.high_watermark)
                        };
                        Ok((records, *off, next, end, pd.log_start_offset))
                    }
                };
                out.push((k.clone(), *ep, r));
            }
        }
    }
    // Responses are applied in arrival order: this guard is taken before the partitions
    // are released for their next fetch, so a later response waits for this one's decode.
    let _order = f.decode_order.lock().await;
    let mut decode: Vec<(Tp, u64, bytes::Bytes, i64, i64)> = Vec::new();
    let mut p = f.lock();
    p.leaders_in_flight.remove(&leader);
    let mut added = false;
    for (key, epoch, r) in out {
        let reset = s.reset;
        let Some(st) = p.map.get_mut(&key) else {
            continue;
        };
        st.in_flight = false;
        if st.epoch != epoch {
            continue;
        }
        let mut add_bytes = 0;
        match r {
            Ok((records, off, next, hwm, log_start)) => {
                st.hwm = hwm;
                if log_start >= 0 {
                    st.lo_offset = log_start;
                }
                if let Some(n) = next {
                    st.fetch_offset = st.fetch_offset.max(n);
                }
                decode.push((key.clone(), epoch, records, off, hwm));
            }
            Err(code) if code == ErrorCode::OFFSET_OUT_OF_RANGE => {
                if reset == crate::topic_partition::OFFSET_INVALID {
                    st.halted = true;
                    let m = Message::error(
                        key.0.clone(),
                        key.1,
                        st.fetch_offset,
                        ErrorCode::AUTO_OFFSET_RESET,
                        format!(
                            "Fetch position offset {} is out of range for partition and auto.offset.reset is set to error",
                            st.fetch_offset
                        ),
                    );
                    add_bytes += m.size();
                    st.queue.push_back(m);
                    added = true;
                } else {
                    st.fetch_offset = reset;
                }
            }
            Err(code) => {
                st.backoff_until = Some(Instant::now() + s.error_backoff);
                if code.needs_metadata_refresh() || code == ErrorCode::TIMED_OUT {
                    f.md_wanted.store(true, Ordering::SeqCst);
                }
                let repeated = st.queue.back().is_some_and(|m| m.err == code);
                if matches!(code.0, 3 | 29) && !repeated {
                    let m = Message::error(
                        key.0.clone(),
                        key.1,
                        st.fetch_offset,
                        code,
                        code.description(),
                    );
                    add_bytes += m.size();
                    st.queue.push_back(m);
                    added = true;
                }
            }
        }
        st.queued_bytes += add_bytes;
        p.total_bytes += add_bytes;
    }
    drop(p);
    // Phase B: the partitions may be fetched again while this data is decoded.
    f.wake.notify_one();
    let mut decoded = Vec::with_capacity(decode.len());
    for (key, epoch, records, off, hwm) in decode {
        let mut recs = Vec::new();
        let r = decode_batches(records, off, &mut recs).map(|_| {
            recs.into_iter()
                .map(|r| Message {
                    err: ErrorCode::NO_ERROR,
                    topic: key.0.clone(),
                    partition: key.1,
                    offset: r.offset,
                    timestamp: r.timestamp,
                    timestamp_type: if r.timestamp_type == 1 { 2 } else { 1 },
                    key: r.key,
                    payload: r.value,
                    headers: r.headers,
                })
                .collect::<Vec<_>>()
        });
        decoded.push((key, epoch, r, hwm));
    }
    let mut p = f.lock();
    for (key, epoch, r, hwm) in decoded {
        let Some(st) = p.map.get_mut(&key) else {
            continue;
        };
        if st.epoch != epoch {
            continue;
        }
        let mut add_bytes = 0;
        match r {
            Ok(msgs) => {
                if !msgs.is_empty() {
                    st.eof_sent = false;
                }
                f.counters
                    .rxmsgs
                    .fetch_add(msgs.len() as u64, Ordering::Relaxed);
                st.rxmsgs += msgs.len() as u64;
                for m in msgs {
                    let len = m.payload.as_ref().map_or(0, |p| p.len()) as u64;
                    f.counters.rxmsg_bytes.fetch_add(len, Ordering::Relaxed);
                    st.rxbytes += len;
                    add_bytes += m.size();
                    st.queue.push_back(m);
                    added = true;
                }
                if s.partition_eof && !st.eof_sent && st.fetch_offset >= hwm && hwm >= 0 {
                    st.eof_sent = true;
                    st.eof_offset = st.fetch_offset;
                    let m = Message::error(
                        key.0.clone(),
                        key.1,
                        st.fetch_offset,
                        ErrorCode::PARTITION_EOF,
                        format!(
                            "Fetch from broker {leader} reached end of partition at offset {} (HighwaterMark {hwm})",
                            st.fetch_offset
                        ),
                    );
                    add_bytes += m.size();
                    st.queue.push_back(m);
                    added = true;
                }
            }
            Err(e) => {
                st.backoff_until = Some(Instant::now() + s.error_backoff);
                let m = Message::error(key.0.clone(), key.1, st.fetch_offset, e.code, e.message);
                add_bytes += m.size();
                st.queue.push_back(m);
                added = true;
            }
        }
        st.queued_bytes += add_bytes;
        p.total_bytes += add_bytes;
    }
    drop(p);
    if added {
        f.cv.notify_all();
    }
    f.wake.notify_one();
}
