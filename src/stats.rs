//! Statistics JSON for `stats_cb` (`statistics.interval.ms`), in librdkafka's top-level
//! shape: `name`, `client_id`, `type`, `ts`, `time`, `age`, queue and message counters.
//! Broker/topic breakdowns are not emitted.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static INSTANCES: AtomicUsize = AtomicUsize::new(0);

/// Counters one client instance keeps for its statistics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub tx: AtomicU64,
    pub tx_bytes: AtomicU64,
    pub rx: AtomicU64,
    pub txmsgs: AtomicU64,
    pub txmsg_bytes: AtomicU64,
    pub rxmsgs: AtomicU64,
    pub rxmsg_bytes: AtomicU64,
}

/// Identity of an instance in its statistics.
#[derive(Debug)]
pub(crate) struct StatsIdentity {
    name: String,
    client_id: String,
    kind: &'static str,
    started: Instant,
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

impl StatsIdentity {
    /// `kind` is `producer` or `consumer`; names are `rdkafka#<kind>-<n>` as in librdkafka.
    pub fn new(client_id: &str, kind: &'static str) -> StatsIdentity {
        let n = INSTANCES.fetch_add(1, Ordering::Relaxed) + 1;
        StatsIdentity {
            name: format!("{client_id}#{kind}-{n}"),
            client_id: client_id.to_string(),
            kind,
            started: Instant::now(),
        }
    }

    /// The JSON document with `msg_cnt`/`msg_size` (messages and bytes queued) and the
    /// counters.
    pub fn json(
        &self,
        c: &Counters,
        msg_cnt: usize,
        msg_size: usize,
        msg_max: usize,
        msg_size_max: usize,
    ) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            concat!(
                "{{\"name\":\"{}\",\"client_id\":\"{}\",\"type\":\"{}\",\"ts\":{},\"time\":{},",
                "\"age\":{},\"replyq\":0,\"msg_cnt\":{},\"msg_size\":{},\"msg_max\":{},",
                "\"msg_size_max\":{},\"simple_cnt\":0,\"metadata_cache_cnt\":0,\"brokers\":{{}},",
                "\"topics\":{{}},\"tx\":{},\"tx_bytes\":{},\"rx\":{},\"rx_bytes\":0,",
                "\"txmsgs\":{},\"txmsg_bytes\":{},\"rxmsgs\":{},\"rxmsg_bytes\":{}}}"
            ),
            esc(&self.name),
            esc(&self.client_id),
            self.kind,
            now.as_micros(),
            now.as_secs(),
            self.started.elapsed().as_micros(),
            msg_cnt,
            msg_size,
            msg_max,
            msg_size_max,
            l(&c.tx),
            l(&c.tx_bytes),
            l(&c.rx),
            l(&c.txmsgs),
            l(&c.txmsg_bytes),
            l(&c.rxmsgs),
            l(&c.rxmsg_bytes),
        )
    }
}
