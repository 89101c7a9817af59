//! Events for the application: produced by the background runtime, handed out only when the
//! caller polls (`poll`, `flush`, `consume`, `close`), in the order they happened.

use crate::error::ErrorCode;
use crate::topic_partition::TopicPartition;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The outcome of one produced message.
#[derive(Debug, Clone)]
pub struct DeliveryReport {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition (`-1` if it never got one).
    pub partition: i32,
    /// Offset assigned by the broker, `-1` when unknown (error, acks=0).
    pub offset: i64,
    /// `NO_ERROR` or the reason it failed.
    pub err: ErrorCode,
    /// The opaque given to `produce()`.
    pub opaque: u64,
    /// Message timestamp (ms).
    pub timestamp: i64,
    /// Key copy, only when the producer was asked to keep payloads for reports.
    pub key: Option<Bytes>,
    /// Payload copy, likewise.
    pub payload: Option<Bytes>,
    /// Payload length.
    pub len: usize,
    /// Headers copy, likewise.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Bytes this message counted against the queue limit.
    pub(crate) acct: usize,
}

/// Something the application sees from a poll point.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A delivery report (`dr_msg_cb`).
    Delivery(DeliveryReport),
    /// An error (`error_cb`): `reason` is librdkafka-style text.
    Error {
        /// Code.
        code: ErrorCode,
        /// Detail.
        reason: String,
        /// The client instance is unusable.
        fatal: bool,
    },
    /// A log line (`log_cb`), syslog levels.
    Log {
        /// 0..7.
        level: i32,
        /// Facility (`FAIL`, `REQTMOUT` …).
        facility: String,
        /// Text.
        message: String,
    },
    /// Statistics JSON (`stats_cb`).
    Stats(String),
    /// Group rebalance (`rebalance_cb`): `kind` is `_ASSIGN_PARTITIONS` or `_REVOKE_PARTITIONS`.
    Rebalance {
        /// Assign or revoke.
        kind: ErrorCode,
        /// The partitions.
        partitions: Vec<TopicPartition>,
    },
    /// The OAUTHBEARER token is needed or due for refresh (`oauthbearer_token_refresh_cb`):
    /// the application answers with `set_token` or `set_token_failure`.
    OauthbearerTokenRefresh {
        /// `sasl.oauthbearer.config`.
        config: String,
    },
    /// Offsets committed (`offset_commit_cb`).
    OffsetCommit {
        /// Overall result.
        err: ErrorCode,
        /// Partitions with offsets and per-partition errors.
        partitions: Vec<TopicPartition>,
    },
}

/// Bounded queue of events with a blocking wait.
#[derive(Debug)]
pub(crate) struct EventQueue {
    q: Mutex<VecDeque<Event>>,
    cv: Condvar,
    /// Limit for non-delivery events (logs, errors, stats); older ones are dropped.
    cap: usize,
    /// The last error pushed, to suppress identical repeats (a broker that stays down).
    last_error: Mutex<Option<(ErrorCode, String, Instant)>>,
    /// Count of [`EventQueue::wake`] calls; changed only under `q`'s lock.
    wakes: AtomicU64,
}

impl EventQueue {
    pub(crate) fn new(cap: usize) -> Self {
        EventQueue {
            q: Mutex::new(VecDeque::new()),
            cv: Condvar::new(),
            cap,
            last_error: Mutex::new(None),
            wakes: AtomicU64::new(0),
        }
    }

    pub(crate) fn push(&self, ev: Event) {
        let mut q = self.q.lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(ev, Event::Delivery(_)) && q.len() >= self.cap {
            if let Some(i) = q
                .iter()
                .position(|e| matches!(e, Event::Log { .. } | Event::Stats(_)))
            {
                q.remove(i);
            } else {
                return;
            }
        }
        q.push_back(ev);
        drop(q);
        self.cv.notify_all();
    }

    /// Pushes an error event unless the same error was pushed less than 10 s ago.
    /// `_ALL_BROKERS_DOWN` is left out here: the cluster emits it once per state change
    /// (as librdkafka does), not each time a request finds no broker.
    pub(crate) fn push_error(&self, code: ErrorCode, reason: String) {
        if code == ErrorCode::ALL_BROKERS_DOWN {
            return;
        }
        {
            let mut last = self.last_error.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((c, r, t)) = &*last {
                if *c == code && *r == reason && t.elapsed() < Duration::from_secs(10) {
                    return;
                }
            }
            *last = Some((code, reason.clone(), Instant::now()));
        }
        self.push(Event::Error {
            code,
            reason,
            fatal: code.is_fatal(),
        });
    }

    pub(crate) fn push_many(&self, evs: impl IntoIterator<Item = Event>) {
        let mut q = self.q.lock().unwrap_or_else(|e| e.into_inner());
        q.extend(evs);
        drop(q);
        self.cv.notify_all();
    }

    /// Events waiting to be served (`replyq` in statistics).
    pub(crate) fn len(&self) -> usize {
        self.q.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Takes up to `max` events, waiting up to `timeout` for the first one. Returns early
    /// (possibly empty) when [`EventQueue::wake`] is called during the wait.
    pub(crate) fn pop(&self, max: usize, timeout: Duration) -> Vec<Event> {
        self.pop_until(max, timeout, || false)
    }

    /// [`EventQueue::pop`] that also returns (possibly empty) as soon as `done()` holds.
    /// `done` is checked under the queue's lock before every wait, and [`EventQueue::wake`]
    /// takes that lock, so a state change followed by `wake()` is never missed.
    pub(crate) fn pop_until(
        &self,
        max: usize,
        timeout: Duration,
        done: impl Fn() -> bool,
    ) -> Vec<Event> {
        let mut q = self.q.lock().unwrap_or_else(|e| e.into_inner());
        let woken_at_start = self.wakes.load(Ordering::Relaxed);
        // The clock is read only when there is something to wait for: `consume()` polls
        // this queue with a zero timeout for every message.
        let mut deadline = None;
        loop {
            if !q.is_empty() || max == 0 {
                let n = q.len().min(max);
                return q.drain(..n).collect();
            }
            if timeout.is_zero() || done() || self.wakes.load(Ordering::Relaxed) != woken_at_start {
                return Vec::new();
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert_with(|| crate::runtime::deadline_after(timeout));
            if now >= deadline {
                return Vec::new();
            }
            q = self
                .cv
                .wait_timeout(q, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Wakes waiters without an event (state changed elsewhere).
    pub(crate) fn wake(&self) {
        // Under the lock: a waiter is either before its check (and sees the new count) or
        // already waiting (and gets the notification).
        let q = self.q.lock().unwrap_or_else(|e| e.into_inner());
        self.wakes.fetch_add(1, Ordering::Relaxed);
        drop(q);
        self.cv.notify_all();
    }
}
