//! Statistics for `stats_cb` (`statistics.interval.ms`), in librdkafka's JSON shape
//! (STATISTICS.md): top-level counters, `brokers{}` with request counters and a rolling
//! round-trip-time window, `topics{}` with `partitions{}` (queues, offsets, lag), and
//! `cgrp` for group consumers.
//!
//! Counters live where the work happens: every [`crate::net::Connection`] updates its
//! broker's [`BrokerStats`] (requests, bytes, timeouts, rtt samples); the producer and
//! the fetcher count messages in [`Counters`]; the role that emits the document hands
//! in a [`Snapshot`] of its queues and partitions. Windows roll at every emit, as
//! librdkafka's do.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static INSTANCES: AtomicUsize = AtomicUsize::new(0);

/// Message counters of one role (producer: tx; consumer: rx).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub tx: AtomicU64,
    pub rx: AtomicU64,
    pub txmsgs: AtomicU64,
    pub txmsg_bytes: AtomicU64,
    pub rxmsgs: AtomicU64,
    pub rxmsg_bytes: AtomicU64,
}

/// Samples kept per window for percentiles; beyond this, every n-th is kept.
const WINDOW_SAMPLES: usize = 2048;

/// A rolling window of microsecond values (librdkafka's `rtt`).
#[derive(Debug, Default)]
struct Window {
    samples: Vec<u64>,
    cnt: u64,
    sum: u64,
    min: u64,
    max: u64,
}

impl Window {
    fn add(&mut self, v: u64) {
        if self.cnt == 0 || v < self.min {
            self.min = v;
        }
        self.max = self.max.max(v);
        self.cnt += 1;
        self.sum += v;
        if self.samples.len() < WINDOW_SAMPLES {
            self.samples.push(v);
        } else {
            // Keep a spread of the window without growing: overwrite a slot chosen
            // by the running count.
            let i = (self.cnt as usize).wrapping_mul(2_654_435_761) % WINDOW_SAMPLES;
            self.samples[i] = v;
        }
    }

    /// Renders and resets.
    fn roll(&mut self, out: &mut String) {
        let mut s = std::mem::take(&mut self.samples);
        s.sort_unstable();
        let pct = |p: f64| -> u64 {
            if s.is_empty() {
                0
            } else {
                let i = ((s.len() as f64 * p).ceil() as usize).clamp(1, s.len()) - 1;
                s[i]
            }
        };
        let avg = self.sum.checked_div(self.cnt).unwrap_or(0);
        let var = if s.is_empty() {
            0.0
        } else {
            s.iter()
                .map(|&v| (v as f64 - avg as f64).powi(2))
                .sum::<f64>()
                / s.len() as f64
        };
        let _ = write!(
            out,
            "{{\"min\":{},\"max\":{},\"avg\":{avg},\"sum\":{},\"stddev\":{},\"p50\":{},\"p75\":{},\"p90\":{},\"p95\":{},\"p99\":{},\"p99_99\":{},\"outofrange\":0,\"hdrsize\":0,\"cnt\":{}}}",
            self.min,
            self.max,
            self.sum,
            var.sqrt() as u64,
            pct(0.50),
            pct(0.75),
            pct(0.90),
            pct(0.95),
            pct(0.99),
            pct(0.9999),
            self.cnt
        );
        *self = Window::default();
        s.clear();
        self.samples = s;
    }
}

/// Connection state of a broker as librdkafka names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BrokerState {
    Init,
    Connect,
    Up,
    Down,
}

impl BrokerState {
    fn name(self) -> &'static str {
        match self {
            BrokerState::Init => "INIT",
            BrokerState::Connect => "CONNECT",
            BrokerState::Up => "UP",
            BrokerState::Down => "DOWN",
        }
    }
}

/// Counters of one broker connection (by address).
#[derive(Debug)]
pub struct BrokerStats {
    addr: String,
    learned: bool,
    state: Mutex<(BrokerState, Instant)>,
    pub(crate) tx: AtomicU64,
    pub(crate) txbytes: AtomicU64,
    pub(crate) txerrs: AtomicU64,
    pub(crate) rx: AtomicU64,
    pub(crate) rxbytes: AtomicU64,
    pub(crate) rxerrs: AtomicU64,
    pub(crate) req_timeouts: AtomicU64,
    pub(crate) connects: AtomicU64,
    pub(crate) disconnects: AtomicU64,
    pub(crate) waitresp: AtomicI64,
    rtt: Mutex<Window>,
    /// Last failure logged and when, to suppress identical repeats.
    pub(crate) last_fail: Mutex<Option<(String, Instant, u64)>>,
}

impl BrokerStats {
    fn new(addr: &str, learned: bool) -> BrokerStats {
        BrokerStats {
            addr: addr.to_string(),
            learned,
            state: Mutex::new((BrokerState::Init, Instant::now())),
            tx: AtomicU64::new(0),
            txbytes: AtomicU64::new(0),
            txerrs: AtomicU64::new(0),
            rx: AtomicU64::new(0),
            rxbytes: AtomicU64::new(0),
            rxerrs: AtomicU64::new(0),
            req_timeouts: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            disconnects: AtomicU64::new(0),
            waitresp: AtomicI64::new(0),
            rtt: Mutex::new(Window::default()),
            last_fail: Mutex::new(None),
        }
    }

    /// A request of `bytes` went out.
    pub(crate) fn sent(&self, bytes: usize) {
        self.tx.fetch_add(1, Ordering::Relaxed);
        self.txbytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.waitresp.fetch_add(1, Ordering::Relaxed);
    }

    /// Its response of `bytes` arrived after `rtt`.
    pub(crate) fn received(&self, bytes: usize, rtt: std::time::Duration) {
        self.rx.fetch_add(1, Ordering::Relaxed);
        self.rxbytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.waitresp.fetch_sub(1, Ordering::Relaxed);
        self.rtt
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(rtt.as_micros() as u64);
    }

    /// A request got no answer (timeout or broken connection).
    pub(crate) fn unanswered(&self, timed_out: bool) {
        self.waitresp.fetch_sub(1, Ordering::Relaxed);
        if timed_out {
            self.req_timeouts.fetch_add(1, Ordering::Relaxed);
        } else {
            self.rxerrs.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sets the state; returns the previous one and how long it lasted.
    pub(crate) fn set_state(&self, s: BrokerState) -> (BrokerState, std::time::Duration) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let prev = *g;
        if prev.0 != s {
            *g = (s, Instant::now());
        }
        (prev.0, prev.1.elapsed())
    }

    pub(crate) fn state(&self) -> BrokerState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

/// Offsets and queues of one partition as a role sees it (`-1`/`-1001` when unknown).
#[derive(Debug, Clone)]
pub(crate) struct PartitionStats {
    pub topic: String,
    pub partition: i32,
    pub leader: i32,
    pub msgq_cnt: u64,
    pub msgq_bytes: u64,
    pub xmit_msgq_cnt: u64,
    pub xmit_msgq_bytes: u64,
    pub fetchq_cnt: u64,
    pub fetchq_size: u64,
    pub fetch_state: &'static str,
    pub next_offset: i64,
    pub app_offset: i64,
    pub stored_offset: i64,
    pub committed_offset: i64,
    pub eof_offset: i64,
    pub lo_offset: i64,
    pub hi_offset: i64,
    pub ls_offset: i64,
    pub txmsgs: u64,
    pub txbytes: u64,
    pub rxmsgs: u64,
    pub rxbytes: u64,
    pub msgs_inflight: u64,
}

impl PartitionStats {
    pub(crate) fn new(topic: &str, partition: i32) -> PartitionStats {
        PartitionStats {
            topic: topic.to_string(),
            partition,
            leader: -1,
            msgq_cnt: 0,
            msgq_bytes: 0,
            xmit_msgq_cnt: 0,
            xmit_msgq_bytes: 0,
            fetchq_cnt: 0,
            fetchq_size: 0,
            fetch_state: "none",
            next_offset: -1001,
            app_offset: -1001,
            stored_offset: -1001,
            committed_offset: -1001,
            eof_offset: -1001,
            lo_offset: -1001,
            hi_offset: -1001,
            ls_offset: -1001,
            txmsgs: 0,
            txbytes: 0,
            rxmsgs: 0,
            rxbytes: 0,
            msgs_inflight: 0,
        }
    }
}

/// The consumer group part (`cgrp`).
#[derive(Debug, Clone)]
pub(crate) struct CgrpStats {
    pub state: &'static str,
    pub stateage_ms: u64,
    pub join_state: &'static str,
    pub rebalance_age_ms: u64,
    pub rebalance_cnt: u64,
    pub rebalance_reason: String,
    pub assignment_size: usize,
}

/// What the emitting role knows at emit time.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub replyq: usize,
    pub msg_cnt: usize,
    pub msg_size: usize,
    pub msg_max: usize,
    pub msg_size_max: usize,
    pub partitions: Vec<PartitionStats>,
    pub cgrp: Option<CgrpStats>,
}

/// A broker as the cluster view knows it: node id and address.
pub(crate) struct KnownBroker {
    pub id: i32,
    pub addr: String,
}

/// Per-instance statistics: identity, brokers, message counters.
#[derive(Debug)]
pub struct Instance {
    name: String,
    client_id: String,
    kind: &'static str,
    started: Instant,
    brokers: Mutex<BTreeMap<String, Arc<BrokerStats>>>,
    pub(crate) all_down: AtomicBool,
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

impl Instance {
    /// `kind` is `producer` or `consumer`; names are `<client.id>#<kind>-<n>` with one
    /// counter per process, as in librdkafka.
    pub fn new(client_id: &str, kind: &'static str) -> Instance {
        let n = INSTANCES.fetch_add(1, Ordering::Relaxed) + 1;
        Instance {
            name: format!("{client_id}#{kind}-{n}"),
            client_id: client_id.to_string(),
            kind,
            started: Instant::now(),
            brokers: Mutex::new(BTreeMap::new()),
            all_down: AtomicBool::new(false),
        }
    }

    /// `producer` or `consumer`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The handle name (`rdkafka#producer-1`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The counters of the broker at `addr`, created on first use; `learned` says it
    /// came from metadata rather than the bootstrap list.
    pub(crate) fn broker(&self, addr: &str, learned: bool) -> Arc<BrokerStats> {
        let mut b = self.brokers.lock().unwrap_or_else(|e| e.into_inner());
        b.entry(addr.to_string())
            .or_insert_with(|| Arc::new(BrokerStats::new(addr, learned)))
            .clone()
    }

    /// How many known brokers are down, of how many (after a state change).
    pub(crate) fn down_count(&self) -> (usize, usize) {
        let b = self.brokers.lock().unwrap_or_else(|e| e.into_inner());
        let down = b
            .values()
            .filter(|s| s.state() == BrokerState::Down)
            .count();
        (down, b.len())
    }

    /// The statistics JSON document.
    pub(crate) fn json(
        &self,
        known: &[KnownBroker],
        metadata_cache_cnt: usize,
        c: &Counters,
        snap: &Snapshot,
    ) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let brokers: Vec<Arc<BrokerStats>> = self
            .brokers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let (mut tx, mut txb, mut rx, mut rxb) = (0, 0, 0, 0);
        for b in &brokers {
            tx += l(&b.tx);
            txb += l(&b.txbytes);
            rx += l(&b.rx);
            rxb += l(&b.rxbytes);
        }
        let mut o = String::with_capacity(1024 + 512 * (brokers.len() + snap.partitions.len()));
        let _ = write!(
            o,
            concat!(
                "{{\"name\":\"{}\",\"client_id\":\"{}\",\"type\":\"{}\",\"ts\":{},\"time\":{},",
                "\"age\":{},\"replyq\":{},\"msg_cnt\":{},\"msg_size\":{},\"msg_max\":{},",
                "\"msg_size_max\":{},\"simple_cnt\":0,\"metadata_cache_cnt\":{},",
                "\"tx\":{},\"tx_bytes\":{},\"rx\":{},\"rx_bytes\":{},",
                "\"txmsgs\":{},\"txmsg_bytes\":{},\"rxmsgs\":{},\"rxmsg_bytes\":{},"
            ),
            esc(&self.name),
            esc(&self.client_id),
            self.kind,
            self.started.elapsed().as_micros(),
            now.as_secs(),
            self.started.elapsed().as_micros(),
            snap.replyq,
            snap.msg_cnt,
            snap.msg_size,
            snap.msg_max,
            snap.msg_size_max,
            metadata_cache_cnt,
            tx,
            txb,
            rx,
            rxb,
            l(&c.txmsgs),
            l(&c.txmsg_bytes),
            l(&c.rxmsgs),
            l(&c.rxmsg_bytes),
        );
        o.push_str("\"brokers\":{");
        for (i, b) in brokers.iter().enumerate() {
            let id = known.iter().find(|k| k.addr == b.addr).map_or(-1, |k| k.id);
            let name = if id >= 0 {
                format!("{}/{id}", b.addr)
            } else {
                format!("{}/bootstrap", b.addr)
            };
            let (state, since) = *b.state.lock().unwrap_or_else(|e| e.into_inner());
            if i > 0 {
                o.push(',');
            }
            let _ = write!(
                o,
                concat!(
                    "\"{n}\":{{\"name\":\"{n}\",\"nodeid\":{},\"nodename\":\"{}\",\"source\":\"{}\",",
                    "\"state\":\"{}\",\"stateage\":{},\"outbuf_cnt\":0,\"outbuf_msg_cnt\":0,",
                    "\"waitresp_cnt\":{},\"waitresp_msg_cnt\":0,\"tx\":{},\"txbytes\":{},",
                    "\"txerrs\":{},\"txretries\":0,\"req_timeouts\":{},\"rx\":{},\"rxbytes\":{},",
                    "\"rxerrs\":{},\"rxcorriderrs\":0,\"rxpartial\":0,\"connects\":{},",
                    "\"disconnects\":{},\"rtt\":"
                ),
                id,
                esc(&b.addr),
                if b.learned { "learned" } else { "configured" },
                state.name(),
                since.elapsed().as_micros(),
                b.waitresp.load(Ordering::Relaxed).max(0),
                l(&b.tx),
                l(&b.txbytes),
                l(&b.txerrs),
                l(&b.req_timeouts),
                l(&b.rx),
                l(&b.rxbytes),
                l(&b.rxerrs),
                l(&b.connects),
                l(&b.disconnects),
                n = esc(&name),
            );
            b.rtt.lock().unwrap_or_else(|e| e.into_inner()).roll(&mut o);
            o.push_str(",\"toppars\":{");
            let mut first = true;
            for p in snap.partitions.iter().filter(|p| p.leader == id && id >= 0) {
                if !first {
                    o.push(',');
                }
                first = false;
                let _ = write!(
                    o,
                    "\"{t}-{p}\":{{\"topic\":\"{t}\",\"partition\":{p}}}",
                    t = esc(&p.topic),
                    p = p.partition
                );
            }
            o.push_str("}}");
        }
        o.push_str("},\"topics\":{");
        let mut by_topic: BTreeMap<&str, Vec<&PartitionStats>> = BTreeMap::new();
        for p in &snap.partitions {
            by_topic.entry(&p.topic).or_default().push(p);
        }
        for (ti, (topic, parts)) in by_topic.iter().enumerate() {
            if ti > 0 {
                o.push(',');
            }
            let _ = write!(
                o,
                "\"{t}\":{{\"topic\":\"{t}\",\"partitions\":{{",
                t = esc(topic)
            );
            for (pi, p) in parts.iter().enumerate() {
                if pi > 0 {
                    o.push(',');
                }
                partition_json(&mut o, p);
            }
            o.push_str("}}");
        }
        o.push('}');
        if let Some(g) = &snap.cgrp {
            let _ = write!(
                o,
                concat!(
                    ",\"cgrp\":{{\"state\":\"{}\",\"stateage\":{},\"join_state\":\"{}\",",
                    "\"rebalance_age\":{},\"rebalance_cnt\":{},\"rebalance_reason\":\"{}\",",
                    "\"assignment_size\":{}}}"
                ),
                g.state,
                g.stateage_ms,
                g.join_state,
                g.rebalance_age_ms,
                g.rebalance_cnt,
                esc(&g.rebalance_reason),
                g.assignment_size
            );
        }
        o.push('}');
        o
    }
}

/// librdkafka's lag: end offset (LSO with read_committed, else high watermark) minus
/// the committed (or stored) offset, -1 when either is unknown.
fn lag(end: i64, off: i64) -> i64 {
    if end >= 0 && off >= 0 && off <= end {
        end - off
    } else {
        -1
    }
}

fn partition_json(o: &mut String, p: &PartitionStats) {
    let end = if p.ls_offset >= 0 {
        p.ls_offset
    } else {
        p.hi_offset
    };
    let _ = write!(
        o,
        concat!(
            "\"{id}\":{{\"partition\":{id},\"broker\":{l},\"leader\":{l},\"desired\":true,",
            "\"unknown\":false,\"msgq_cnt\":{},\"msgq_bytes\":{},\"xmit_msgq_cnt\":{},",
            "\"xmit_msgq_bytes\":{},\"fetchq_cnt\":{},\"fetchq_size\":{},\"fetch_state\":\"{}\",",
            "\"query_offset\":-1001,\"next_offset\":{},\"app_offset\":{},\"stored_offset\":{},",
            "\"committed_offset\":{},\"eof_offset\":{},\"lo_offset\":{},\"hi_offset\":{},",
            "\"ls_offset\":{},\"consumer_lag\":{},\"consumer_lag_stored\":{},\"txmsgs\":{},",
            "\"txbytes\":{},\"rxmsgs\":{},\"rxbytes\":{},\"msgs\":{},\"rx_ver_drops\":0,",
            "\"msgs_inflight\":{}}}"
        ),
        p.msgq_cnt,
        p.msgq_bytes,
        p.xmit_msgq_cnt,
        p.xmit_msgq_bytes,
        p.fetchq_cnt,
        p.fetchq_size,
        p.fetch_state,
        p.next_offset,
        p.app_offset,
        p.stored_offset,
        p.committed_offset,
        p.eof_offset,
        p.lo_offset,
        p.hi_offset,
        p.ls_offset,
        lag(end, p.committed_offset),
        lag(end, p.stored_offset),
        p.txmsgs,
        p.txbytes,
        p.rxmsgs,
        p.rxbytes,
        p.txmsgs.max(p.rxmsgs),
        p.msgs_inflight,
        id = p.partition,
        l = p.leader,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn window_percentiles_and_roll() {
        let mut w = Window::default();
        for v in 1..=100 {
            w.add(v);
        }
        let mut s = String::new();
        w.roll(&mut s);
        assert!(s.contains("\"min\":1,"), "{s}");
        assert!(s.contains("\"max\":100,"), "{s}");
        assert!(s.contains("\"p50\":50,"), "{s}");
        assert!(s.contains("\"p99\":99,"), "{s}");
        assert!(s.contains("\"cnt\":100}"), "{s}");
        let mut s = String::new();
        w.roll(&mut s);
        assert!(s.contains("\"cnt\":0}"), "{s}");
    }

    #[test]
    fn document_shape() {
        let inst = Instance::new("c\"id", "consumer");
        let b = inst.broker("127.0.0.1:9092", false);
        b.set_state(BrokerState::Up);
        b.sent(100);
        b.received(50, Duration::from_micros(700));
        let mut p = PartitionStats::new("t", 0);
        p.leader = 1;
        p.hi_offset = 10;
        p.committed_offset = 4;
        let snap = Snapshot {
            partitions: vec![p],
            ..Snapshot::default()
        };
        let known = [KnownBroker {
            id: 1,
            addr: "127.0.0.1:9092".into(),
        }];
        let j = inst.json(&known, 1, &Counters::default(), &snap);
        assert!(j.starts_with("{\"name\":\"c\\\"id#consumer-"), "{j}");
        assert!(j.contains("\"127.0.0.1:9092/1\":{\"name\":\"127.0.0.1:9092/1\",\"nodeid\":1"));
        assert!(j.contains("\"state\":\"UP\""));
        assert!(j.contains("\"tx\":1,\"tx_bytes\":100,\"rx\":1,\"rx_bytes\":50"));
        assert!(j.contains("\"rtt\":{\"min\":700,\"max\":700,\"avg\":700"));
        assert!(j.contains("\"toppars\":{\"t-0\":{\"topic\":\"t\",\"partition\":0}}"));
        assert!(j.contains("\"consumer_lag\":6,"));
        assert!(j.ends_with("}}}}"), "{j}");
    }
}
