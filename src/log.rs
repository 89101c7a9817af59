//! librdkafka-style logging: syslog levels (0 emergency … 7 debug), a facility
//! (`FAIL`, `REQTMOUT`, `MAXPOLL`, `CGRPOP` …) and a text that starts with the
//! `[thrd:NAME]: ` tag librdkafka puts there.
//!
//! What is emitted is filtered by `log_level` (default 6, changeable at run time by
//! [`Logger::set_level`], php's `RdKafka::setLogLevel()`) and, for debug lines, by the
//! `debug` contexts (`broker`, `cgrp`, `protocol` … or `all`); setting `debug` raises
//! the level to 7 as librdkafka does. Lines go to the instance's event queue when the
//! application serves logs (a `log_cb` with `log.queue`, as php-rdkafka sets it up),
//! else to stderr in librdkafka's format when printing is on, else nowhere.
//!
//! Callers check [`Logger::enabled`] / [`Logger::debug_enabled`] (two atomic loads)
//! before formatting, so disabled logging costs no allocation.

use crate::event::{Event, EventQueue};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

/// Syslog levels as librdkafka uses them.
pub mod level {
    /// Error conditions (`FAIL`, `ERROR`).
    pub const ERR: i32 = 3;
    /// Warnings (`REQTMOUT`, `MAXPOLL`).
    pub const WARNING: i32 = 4;
    /// Normal but significant.
    pub const NOTICE: i32 = 5;
    /// Informational.
    pub const INFO: i32 = 6;
    /// Debug (only with a matching `debug` context).
    pub const DEBUG: i32 = 7;
}

/// `debug` contexts, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ctx {
    /// `generic`.
    Generic,
    /// `broker`: connections.
    Broker,
    /// `topic`.
    Topic,
    /// `metadata`.
    Metadata,
    /// `protocol`: requests and responses.
    Protocol,
    /// `msg`: produced messages.
    Msg,
    /// `cgrp`: group membership.
    Cgrp,
    /// `fetch`.
    Fetch,
    /// `consumer`.
    Consumer,
    /// `assignor`.
    Assignor,
}

const CONTEXTS: &[(&str, u32)] = &[
    ("generic", 1),
    ("broker", 1 << 1),
    ("topic", 1 << 2),
    ("metadata", 1 << 3),
    ("feature", 1 << 4),
    ("queue", 1 << 5),
    ("msg", 1 << 6),
    ("protocol", 1 << 7),
    ("cgrp", 1 << 8),
    ("security", 1 << 9),
    ("fetch", 1 << 10),
    ("interceptor", 1 << 11),
    ("plugin", 1 << 12),
    ("consumer", 1 << 13),
    ("admin", 1 << 14),
    ("eos", 1 << 15),
    ("mock", 1 << 16),
    ("assignor", 1 << 17),
    ("conf", 1 << 18),
    ("telemetry", 1 << 19),
    ("all", u32::MAX),
];

impl Ctx {
    fn bit(self) -> u32 {
        let name = match self {
            Ctx::Generic => "generic",
            Ctx::Broker => "broker",
            Ctx::Topic => "topic",
            Ctx::Metadata => "metadata",
            Ctx::Protocol => "protocol",
            Ctx::Msg => "msg",
            Ctx::Cgrp => "cgrp",
            Ctx::Fetch => "fetch",
            Ctx::Consumer => "consumer",
            Ctx::Assignor => "assignor",
        };
        CONTEXTS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, b)| *b)
    }
}

/// Parses a `debug` value (`"cgrp,fetch"`, `"all"`) into context bits.
pub fn parse_debug(value: &str) -> u32 {
    value
        .split(',')
        .map(str::trim)
        .filter_map(|n| CONTEXTS.iter().find(|(c, _)| *c == n).map(|(_, b)| *b))
        .fold(0, |a, b| a | b)
}

/// The logger of one client instance.
#[derive(Debug)]
pub struct Logger {
    name: String,
    level: AtomicI32,
    debug: u32,
    queue: Mutex<Option<Weak<EventQueue>>>,
    to_queue: AtomicBool,
    print: AtomicBool,
    error_events: AtomicBool,
}

impl Logger {
    /// A logger for the instance `name` (`rdkafka#producer-1`) with the `log_level` and
    /// `debug` settings.
    pub fn new(name: &str, log_level: i64, debug: &str) -> Logger {
        let debug = parse_debug(debug);
        let level = if debug != 0 {
            level::DEBUG
        } else {
            log_level.clamp(0, 7) as i32
        };
        Logger {
            name: name.to_string(),
            level: AtomicI32::new(level),
            debug,
            queue: Mutex::new(None),
            to_queue: AtomicBool::new(false),
            print: AtomicBool::new(false),
            error_events: AtomicBool::new(true),
        }
    }

    /// The instance name that prefixes printed lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Changes the effective level (`rd_kafka_set_log_level`).
    pub fn set_level(&self, level: i32) {
        self.level.store(level.clamp(0, 7), Ordering::Relaxed);
    }

    /// The effective level.
    pub fn get_level(&self) -> i32 {
        self.level.load(Ordering::Relaxed)
    }

    /// Sends lines to `queue` as [`Event::Log`] (the application serves them).
    pub(crate) fn attach(&self, queue: &std::sync::Arc<EventQueue>) {
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(std::sync::Arc::downgrade(queue));
    }

    /// The event queue of the instance, while it exists.
    pub(crate) fn queue(&self) -> Option<std::sync::Arc<EventQueue>> {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(Weak::upgrade)
    }

    /// Whether lines are handed to the application (`log_cb` registered) rather than
    /// printed or dropped.
    pub fn set_log_events(&self, on: bool) {
        self.to_queue.store(on, Ordering::SeqCst);
    }

    /// Whether lines nobody serves are printed to stderr (librdkafka's default logger).
    pub fn set_print(&self, on: bool) {
        self.print.store(on, Ordering::SeqCst);
    }

    /// Whether the application takes error events (an `error_cb`; on by default). Without,
    /// errors librdkafka raises with `rd_kafka_op_err()` (`_ALL_BROKERS_DOWN`) become
    /// `ERROR` log lines instead, as librdkafka does when error events are not enabled.
    pub fn set_error_events(&self, on: bool) {
        self.error_events.store(on, Ordering::SeqCst);
    }

    /// See [`Logger::set_error_events`].
    pub fn error_events(&self) -> bool {
        self.error_events.load(Ordering::Relaxed)
    }

    fn has_sink(&self) -> bool {
        self.to_queue.load(Ordering::Relaxed) || self.print.load(Ordering::Relaxed)
    }

    /// Whether a line at `level` would go anywhere.
    pub fn enabled(&self, level: i32) -> bool {
        level <= self.level.load(Ordering::Relaxed) && self.has_sink()
    }

    /// Whether a debug line of context `ctx` would go anywhere.
    pub fn debug_enabled(&self, ctx: Ctx) -> bool {
        self.debug & ctx.bit() != 0 && self.enabled(level::DEBUG)
    }

    /// Emits a line from "thread" `thread` (a broker name, `main`, `app`).
    pub fn log(&self, level: i32, facility: &str, thread: &str, text: fmt::Arguments<'_>) {
        if !self.enabled(level) {
            return;
        }
        let message = format!("[thrd:{thread}]: {text}");
        if self.to_queue.load(Ordering::Relaxed) {
            if let Some(q) = self.queue() {
                q.push(Event::Log {
                    level,
                    facility: facility.to_string(),
                    message,
                });
                return;
            }
        }
        if self.print.load(Ordering::Relaxed) {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            // One write per line (as librdkafka's fprintf), so lines from several threads
            // and the application's own output never interleave mid-line.
            let line = format!(
                "%{level}|{}.{:03}|{facility}|{}| {message}\n",
                now.as_secs(),
                now.subsec_millis(),
                self.name
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
        }
    }

    /// Emits a debug line when context `ctx` is enabled.
    pub fn debug(&self, ctx: Ctx, facility: &str, thread: &str, text: fmt::Arguments<'_>) {
        if self.debug_enabled(ctx) {
            self.log(level::DEBUG, facility, thread, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn lines(q: &EventQueue) -> Vec<(i32, String, String)> {
        q.pop(100, Duration::ZERO)
            .into_iter()
            .filter_map(|e| match e {
                Event::Log {
                    level,
                    facility,
                    message,
                } => Some((level, facility, message)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn level_and_debug_filter() {
        let q = Arc::new(EventQueue::new(100));
        let l = Logger::new("rdkafka#producer-1", 6, "");
        l.attach(&q);
        l.log(3, "FAIL", "b", format_args!("not delivered: no sink"));
        assert!(lines(&q).is_empty());
        l.set_log_events(true);
        l.log(3, "FAIL", "127.0.0.1:1/bootstrap", format_args!("down"));
        l.log(7, "X", "main", format_args!("too verbose"));
        l.debug(
            Ctx::Cgrp,
            "CGRPOP",
            "main",
            format_args!("no debug context"),
        );
        let got = lines(&q);
        assert_eq!(
            got,
            vec![(
                3,
                "FAIL".to_string(),
                "[thrd:127.0.0.1:1/bootstrap]: down".to_string()
            )]
        );
        l.set_level(2);
        l.log(3, "FAIL", "b", format_args!("below level"));
        assert!(lines(&q).is_empty());
    }

    #[test]
    fn debug_contexts_raise_level() {
        let q = Arc::new(EventQueue::new(100));
        let l = Logger::new("n", 6, "cgrp,fetch");
        l.attach(&q);
        l.set_log_events(true);
        assert_eq!(l.get_level(), 7);
        l.debug(Ctx::Cgrp, "CGRPOP", "main", format_args!("yes"));
        l.debug(Ctx::Broker, "CONNECT", "b", format_args!("no"));
        assert_eq!(lines(&q).len(), 1);
        assert_eq!(parse_debug("all"), u32::MAX);
        assert_eq!(parse_debug("bogus"), 0);
    }
}
