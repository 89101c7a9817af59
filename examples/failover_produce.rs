//! Idempotent `acks=all` producing at a steady rate, one line per delivery report, so a test
//! can kill a partition leader mid-run and check what was acknowledged:
//! `failover_produce BOOTSTRAP TOPIC COUNT RATE` produces COUNT messages (key `k<i>`, value
//! `v<i>` with `i` zero-padded to 6 digits) spread over the topic's partitions by key, at
//! most RATE per second, then flushes. Extra properties come from `FAILOVER_CONF=k=v,k=v`.
//!
//! Output, flushed per line: `ack PARTITION OFFSET VALUE` or `err PARTITION CODE VALUE` per
//! report, then `done ACKED ERRORS`. Exit status 1 if the final flush timed out.
//! Used by `tests/test_client_failover.py`.

use kafkars::{Config, ErrorCode, Event, Producer};
use std::io::Write;
use std::time::{Duration, Instant};

const FLUSH_TIMEOUT: Duration = Duration::from_secs(120);

/// Writes one line per delivery report; returns (acked, errors) seen in `events`.
fn report(out: &mut impl Write, events: Vec<Event>) -> (usize, usize) {
    let (mut acked, mut errors) = (0, 0);
    for ev in events {
        let Event::Delivery(d) = ev else { continue };
        let value = d
            .payload
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        if d.err == ErrorCode::NO_ERROR {
            acked += 1;
            let _ = writeln!(out, "ack {} {} {value}", d.partition, d.offset);
        } else {
            errors += 1;
            let _ = writeln!(out, "err {} {} {value}", d.partition, d.err.name());
        }
    }
    let _ = out.flush();
    (acked, errors)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: failover_produce BOOTSTRAP TOPIC COUNT RATE");
        std::process::exit(2);
    }
    let (bootstrap, topic) = (&args[1], &args[2]);
    let (Ok(count), Ok(rate)) = (args[3].parse::<usize>(), args[4].parse::<f64>()) else {
        eprintln!("COUNT and RATE must be numbers");
        std::process::exit(2);
    };
    let mut conf = Config::new();
    let mut set = |k: &str, v: &str| {
        if let Err(e) = conf.set(k, v) {
            eprintln!("{k}={v}: {e}");
            std::process::exit(2);
        }
    };
    set("bootstrap.servers", bootstrap);
    set("acks", "all");
    set("enable.idempotence", "true");
    set("linger.ms", "5");
    let extra = std::env::var("FAILOVER_CONF").unwrap_or_default();
    for kv in extra.split(',').filter(|s| !s.is_empty()) {
        let Some((k, v)) = kv.split_once('=') else {
            eprintln!("FAILOVER_CONF is k=v,k=v");
            std::process::exit(2);
        };
        set(k, v);
    }
    let p = match Producer::new(conf) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("producer: {e}");
            std::process::exit(2);
        }
    };
    p.enable_delivery_reports(true);
    let mut out = std::io::stdout().lock();
    let (mut acked, mut errors) = (0, 0);
    let mut tally = |(a, e): (usize, usize)| {
        acked += a;
        errors += e;
    };
    let t0 = Instant::now();
    for i in 0..count {
        // Pacing, not waiting for state: the next message is due at i / RATE seconds, and the
        // time until then is spent serving delivery reports.
        let due = t0 + Duration::from_secs_f64(i as f64 / rate);
        while let Some(left) = due.checked_duration_since(Instant::now()) {
            tally(report(&mut out, p.poll_events(10_000, left)));
        }
        let (key, value) = (format!("k{i:06}"), format!("v{i:06}"));
        loop {
            match p.produce(
                topic,
                -1,
                Some(value.as_bytes()),
                Some(key.as_bytes()),
                &[],
                0,
                0,
                false,
            ) {
                Ok(()) => break,
                Err(e) if e.code == ErrorCode::QUEUE_FULL => {
                    tally(report(
                        &mut out,
                        p.poll_events(10_000, Duration::from_millis(10)),
                    ));
                }
                Err(e) => {
                    eprintln!("produce {value}: {e}");
                    std::process::exit(1);
                }
            }
        }
        tally(report(&mut out, p.poll_events(10_000, Duration::ZERO)));
    }
    let flushed = p
        .flush_with(FLUSH_TIMEOUT, |ev| {
            tally(report(&mut out, vec![ev]));
            Ok::<(), ()>(())
        })
        .unwrap_or(Ok(()));
    let _ = writeln!(out, "done {acked} {errors}");
    let _ = out.flush();
    if let Err(e) = flushed {
        eprintln!("flush: {e}");
        std::process::exit(1);
    }
}
