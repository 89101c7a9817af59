//! Producer behaviour against a real broker (and against no broker at all).

#[path = "common.rs"]
mod common;

use common::conf;
use kafkars::producer::PURGE_F_QUEUE;
use kafkars::{Admin, ErrorCode, Event, Producer};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn drain_reports(p: &Producer, want: usize, timeout: Duration) -> Vec<kafkars::DeliveryReport> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < want && Instant::now() < deadline {
        for e in p.poll_events(1000, Duration::from_millis(100)) {
            if let Event::Delivery(d) = e {
                out.push(d);
            }
        }
    }
    out
}

#[test]
fn produce_keyed_with_headers_reports_in_order() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("prod");
    let admin = Admin::new(&conf(&b.addr, &[])).unwrap();
    admin
        .create_topic(&t, 3, 1, &[], Duration::from_secs(10))
        .unwrap();
    let p = Producer::new(conf(&b.addr, &[("linger.ms", "5")])).unwrap();
    p.enable_delivery_reports(true);
    let n = 3000;
    for i in 0..n {
        let key = format!("key-{}", i % 50);
        let val = format!("value-{i}");
        p.produce(
            &t,
            -1,
            Some(val.as_bytes()),
            Some(key.as_bytes()),
            &[("h", Some(b"v"))],
            0,
            i as u64,
            false,
        )
        .unwrap();
    }
    let reports = flush_reports(&p);
    assert_eq!(reports.len(), n);
    assert_eq!(p.out_queue_len(), 0);
    let mut last: HashMap<i32, i64> = HashMap::new();
    let mut last_opaque: HashMap<i32, u64> = HashMap::new();
    let mut key_part: HashMap<Vec<u8>, i32> = HashMap::new();
    let mut per_part: HashMap<i32, i64> = HashMap::new();
    for r in &reports {
        assert!(r.err.is_ok(), "{:?}", r.err);
        let prev = last.insert(r.partition, r.offset);
        if let Some(prev) = prev {
            assert_eq!(r.offset, prev + 1, "offsets in order per partition");
        }
        // Produce order is log order: a later message never gets a smaller offset, even
        // when the first messages waited for the topic's metadata.
        let prev_opaque = last_opaque.insert(r.partition, r.opaque);
        assert!(
            prev_opaque.is_none_or(|o| o < r.opaque),
            "message overtook an earlier one"
        );
        let k = r.key.clone().unwrap().to_vec();
        let want = kafkars::Partitioner::ConsistentRandom
            .key_partition(Some(&k), 3)
            .unwrap();
        assert_eq!(r.partition, want);
        key_part.insert(k, r.partition);
        *per_part.entry(r.partition).or_default() += 1;
        assert_eq!(
            r.payload.as_deref(),
            Some(format!("value-{}", r.opaque).as_bytes())
        );
    }
    for (part, count) in per_part {
        let (lo, hi) = p
            .client()
            .query_watermark_offsets(&t, part, Duration::from_secs(5))
            .unwrap();
        assert_eq!((lo, hi), (0, count));
    }
    let md = p
        .client()
        .metadata(false, Some(&t), Duration::from_secs(5))
        .unwrap();
    assert_eq!(md.topics[0].partitions.len(), 3);
}

fn flush_reports(p: &Producer) -> Vec<kafkars::DeliveryReport> {
    let mut out = Vec::new();
    p.flush_with(Duration::from_secs(20), |e| {
        if let Event::Delivery(d) = e {
            out.push(d);
        }
        Ok::<(), ()>(())
    })
    .unwrap()
    .unwrap();
    out
}

/// Flushes (everything delivered, nothing left queued) and returns partition 0's high
/// watermark.
fn flush_then_high_watermark(p: &Producer, topic: &str) -> i64 {
    p.flush(Duration::from_secs(20)).unwrap();
    assert_eq!(p.out_queue_len(), 0);
    let (_, hi) = p
        .client()
        .query_watermark_offsets(topic, 0, Duration::from_secs(5))
        .unwrap();
    hi
}

#[test]
fn every_codec_round_trips_watermarks() {
    let Some(b) = common::broker() else { return };
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let t = common::topic(codec);
        let p = Producer::new(conf(&b.addr, &[("compression.codec", codec)])).unwrap();
        for i in 0..500 {
            let v = format!("payload {i} {}", "x".repeat(i % 100));
            p.produce(&t, 0, Some(v.as_bytes()), None, &[], 0, 0, false)
                .unwrap();
        }
        assert_eq!(flush_then_high_watermark(&p, &t), 500, "{codec}");
    }
}

#[test]
fn idempotent_producer_delivers() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("idem");
    let p = Producer::new(conf(&b.addr, &[("enable.idempotence", "true")])).unwrap();
    p.enable_delivery_reports(false);
    for i in 0..200 {
        p.produce(
            &t,
            0,
            Some(format!("{i}").as_bytes()),
            None,
            &[],
            0,
            i,
            false,
        )
        .unwrap();
    }
    let r = flush_reports(&p);
    assert_eq!(r.len(), 200);
    assert!(r.iter().all(|d| d.err.is_ok()));
    assert_eq!(r.last().unwrap().offset, 199);
}

/// `block = true` (php's RD_KAFKA_MSG_F_BLOCK) through a ten-message queue: each produce()
/// waits for room instead of failing, and every message lands, in order.
#[test]
fn blocking_produce_waits_for_room_in_a_small_queue() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("block");
    let p = Producer::new(conf(
        &b.addr,
        &[("queue.buffering.max.messages", "10"), ("linger.ms", "1")],
    ))
    .unwrap();
    let n = 2000;
    for i in 0..n {
        let v = format!("m{i}");
        p.produce(&t, 0, Some(v.as_bytes()), None, &[], 0, 0, true)
            .unwrap();
        assert!(
            p.out_queue_len() <= 10,
            "out-queue {} > 10",
            p.out_queue_len()
        );
    }
    assert_eq!(flush_then_high_watermark(&p, &t), n);
}

#[test]
fn queue_full_without_broker() {
    let p = Producer::new(conf(
        &common::dead_addr(),
        &[("queue.buffering.max.messages", "10")],
    ))
    .unwrap();
    for _ in 0..10 {
        p.produce("t", 0, Some(b"x"), None, &[], 0, 0, false)
            .unwrap();
    }
    let e = p
        .produce("t", 0, Some(b"x"), None, &[], 0, 0, false)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::QUEUE_FULL);
    assert_eq!(e.to_string(), "Local: Queue full");
    assert_eq!(p.out_queue_len(), 10);
}

#[test]
fn flush_times_out_and_messages_time_out_without_broker() {
    let p = Producer::new(conf(&common::dead_addr(), &[("message.timeout.ms", "300")])).unwrap();
    p.enable_delivery_reports(false);
    p.produce("t", -1, Some(b"x"), Some(b"k"), &[], 0, 7, false)
        .unwrap();
    let e = p.flush(Duration::from_millis(50)).unwrap_err();
    assert_eq!(e.code, ErrorCode::TIMED_OUT);
    let r = drain_reports(&p, 1, Duration::from_secs(10));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].err, ErrorCode::MSG_TIMED_OUT);
    assert_eq!(r[0].opaque, 7);
    assert_eq!(p.out_queue_len(), 0);
}

#[test]
fn purge_queue_reports_purged() {
    let p = Producer::new(conf(&common::dead_addr(), &[])).unwrap();
    p.enable_delivery_reports(false);
    for i in 0..5 {
        p.produce("t", 0, Some(b"x"), None, &[], 0, i, false)
            .unwrap();
    }
    p.purge(PURGE_F_QUEUE).unwrap();
    let r = drain_reports(&p, 5, Duration::from_secs(5));
    assert_eq!(r.len(), 5);
    assert!(r.iter().all(|d| d.err == ErrorCode::PURGE_QUEUE));
    assert_eq!(p.out_queue_len(), 0);
}

#[test]
fn message_too_large_is_synchronous() {
    let p = Producer::new(conf(&common::dead_addr(), &[("message.max.bytes", "1000")])).unwrap();
    let e = p
        .produce("t", 0, Some(&[0u8; 2000]), None, &[], 0, 0, false)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::MSG_SIZE_TOO_LARGE);
}

#[test]
fn statistics_events_at_interval() {
    let p = Producer::new(conf(
        &common::dead_addr(),
        &[("statistics.interval.ms", "100"), ("client.id", "me")],
    ))
    .unwrap();
    p.produce("t", 0, Some(b"x"), None, &[], 0, 0, false)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut stats = Vec::new();
    while stats.len() < 2 && Instant::now() < deadline {
        for e in p.poll_events(100, Duration::from_millis(50)) {
            if let Event::Stats(j) = e {
                stats.push(j);
            }
        }
    }
    assert!(stats.len() >= 2);
    assert!(
        stats[0].starts_with("{\"name\":\"me#producer-"),
        "{}",
        stats[0]
    );
    assert!(stats[0].contains("\"type\":\"producer\""));
    assert!(stats[0].contains("\"msg_cnt\":1,"));
}

#[test]
fn forked_child_gets_a_clear_error() {
    let p = Producer::new(conf(&common::dead_addr(), &[])).unwrap();
    p.produce("t", 0, Some(b"x"), None, &[], 0, 0, false)
        .unwrap();
    // SAFETY: the child only calls into the producer (which must refuse without touching the
    // parent's runtime threads) and then `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let ok = match p.produce("t", 0, Some(b"x"), None, &[], 0, 0, false) {
            Err(e) => e.code == ErrorCode(-172) && e.message.contains("fork"),
            Ok(()) => false,
        };
        let flush_refused = p.flush(Duration::from_millis(10)).is_err();
        let events_empty = p.poll_events(10, Duration::ZERO).is_empty();
        // SAFETY: leave the child without running destructors or atexit handlers.
        unsafe {
            libc::_exit(if ok && flush_refused && events_empty {
                0
            } else {
                1
            })
        };
    }
    let mut status = 0;
    // SAFETY: waiting for the child we just forked.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child status {status}"
    );
    assert_eq!(p.out_queue_len(), 1);
}

/// The broker rebuilds idempotent producer state from the log tail on restart, so the batch
/// that was in flight at the kill is recognised as a retry and not appended twice.
#[test]
fn idempotent_producer_survives_broker_kill9_without_duplicates() {
    let Some(mut b) = common::broker() else {
        return;
    };
    let t = common::topic("idem-kill");
    let p = Producer::new(conf(
        &b.addr,
        &[
            ("enable.idempotence", "true"),
            ("linger.ms", "1"),
            ("batch.num.messages", "50"),
        ],
    ))
    .unwrap();
    let n = 3000u64;
    let mut reports = Vec::new();
    let collect = |p: &Producer, reports: &mut Vec<kafkars::DeliveryReport>| {
        for e in p.poll_events(10_000, Duration::ZERO) {
            if let Event::Delivery(d) = e {
                reports.push(d);
            }
        }
    };
    p.enable_delivery_reports(false);
    for i in 0..n {
        if i == n / 2 && !b.kill9_and_restart() {
            return;
        }
        let v = i.to_string();
        p.produce(&t, 0, Some(v.as_bytes()), None, &[], 0, i, true)
            .unwrap();
        collect(&p, &mut reports);
    }
    p.flush_with(Duration::from_secs(60), |e| {
        if let Event::Delivery(d) = e {
            reports.push(d);
        }
        Ok::<(), ()>(())
    })
    .unwrap()
    .unwrap();
    assert_eq!(reports.len() as u64, n);
    let failed: Vec<_> = reports
        .iter()
        .filter(|r| !r.err.is_ok())
        .map(|r| r.err)
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    let c = kafkars::Consumer::new(conf(&b.addr, &[])).unwrap();
    c.consume_start(&t, 0, kafkars::topic_partition::OFFSET_BEGINNING)
        .unwrap();
    // value → offsets it was read at (two offsets = a duplicate in the log; the same offset
    // twice = the consumer read it twice).
    let mut seen: std::collections::BTreeMap<u64, Vec<i64>> = std::collections::BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while (seen.len() as u64) < n && Instant::now() < deadline {
        for m in c.consume_batch(&t, 0, Duration::from_millis(100), 1000) {
            if m.err.is_ok() {
                let k: u64 = String::from_utf8_lossy(m.payload.as_deref().unwrap())
                    .parse()
                    .unwrap();
                seen.entry(k).or_default().push(m.offset);
            }
        }
    }
    // Read a little past the end to catch duplicates written after the last new value.
    let extra = c.consume_batch(&t, 0, Duration::from_millis(500), 1000);
    for m in extra.iter().filter(|m| m.err.is_ok()) {
        let k: u64 = String::from_utf8_lossy(m.payload.as_deref().unwrap())
            .parse()
            .unwrap();
        seen.entry(k).or_default().push(m.offset);
    }
    assert_eq!(seen.len() as u64, n, "every acknowledged message is there");
    let dups: Vec<_> = seen.iter().filter(|(_, o)| o.len() > 1).collect();
    assert!(
        dups.is_empty(),
        "duplicates: {:?}",
        &dups[..dups.len().min(5)]
    );
}

#[test]
fn huge_timeouts_do_not_panic() {
    let p = Producer::new(conf(&common::dead_addr(), &[])).unwrap();
    assert!(p.poll_events(10, Duration::ZERO).is_empty());
    p.flush(Duration::MAX).unwrap();
    let c = kafkars::Consumer::new(conf(&common::dead_addr(), &[])).unwrap();
    assert!(c.consume_batch("t", 0, Duration::ZERO, 10).is_empty());
    let e = p
        .client()
        .metadata(true, None, Duration::from_millis(200))
        .unwrap_err();
    assert!(
        e.code == ErrorCode::TIMED_OUT || e.code == ErrorCode::ALL_BROKERS_DOWN,
        "{e:?}"
    );
}

#[test]
fn security_config_errors_fail_creation() {
    // SASL's default mechanism is GSSAPI (Kerberos), which kafkars does not do.
    let e = Producer::new(conf("127.0.0.1:1", &[("security.protocol", "SASL_SSL")])).unwrap_err();
    assert_eq!(e.code, ErrorCode::NOT_IMPLEMENTED);
    assert!(e.message.contains("GSSAPI"), "{}", e.message);
    let e = Producer::new(conf(
        "127.0.0.1:1",
        &[
            ("security.protocol", "ssl"),
            ("ssl.ca.location", "/nonexistent/ca.pem"),
        ],
    ))
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::INVALID_ARG);
    assert!(e.message.contains("ssl.ca.location"), "{}", e.message);
}

/// The hot path reuses batch buffers and builds uncompressed batches in place: many small
/// batches through a bounded queue must still give one in-order report per message and
/// read back byte for byte (uncompressed and compressed).
#[test]
fn recycled_batch_buffers_keep_every_message_in_order() {
    let Some(b) = common::broker() else { return };
    for codec in ["none", "lz4"] {
        let t = common::topic(&format!("recycle-{codec}"));
        let p = Producer::new(conf(
            &b.addr,
            &[
                ("batch.num.messages", "100"),
                ("queue.buffering.max.messages", "1000"),
                ("compression.codec", codec),
                ("linger.ms", "1"),
            ],
        ))
        .unwrap();
        p.enable_delivery_reports(false);
        let n = 20_000;
        let mut reports = Vec::new();
        for i in 0..n {
            let v = format!("m{i:06}-{}", "y".repeat(i % 97));
            // The bounded queue fills up (reports count until polled): serve reports and
            // retry, as an application does on _QUEUE_FULL.
            loop {
                match p.produce(&t, 0, Some(v.as_bytes()), None, &[], 0, i as u64, false) {
                    Ok(()) => break,
                    Err(e) => {
                        assert_eq!(e.code, ErrorCode::QUEUE_FULL, "{codec}");
                        assert!(p.out_queue_len() >= 1000, "{codec}: queue bound");
                        for e in p.poll_events(10_000, Duration::from_millis(10)) {
                            if let Event::Delivery(d) = e {
                                reports.push(d);
                            }
                        }
                    }
                }
            }
        }
        reports.extend(flush_reports(&p));
        assert_eq!(reports.len(), n, "{codec}");
        for (i, d) in reports.iter().enumerate() {
            assert_eq!(d.err, ErrorCode::NO_ERROR, "{codec} #{i}");
            assert_eq!(d.opaque, i as u64, "{codec}: reports out of order");
            assert_eq!(d.offset, i as i64, "{codec}: offset of #{i}");
        }
        let c = kafkars::Consumer::new(conf(&b.addr, &[])).unwrap();
        c.consume_start(&t, 0, kafkars::topic_partition::OFFSET_BEGINNING)
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut got = 0;
        while got < n && Instant::now() < deadline {
            for m in c.consume_batch(&t, 0, Duration::from_millis(200), 5000) {
                if !m.err.is_ok() {
                    continue;
                }
                let want = format!("m{got:06}-{}", "y".repeat(got % 97));
                assert_eq!(m.offset, got as i64, "{codec}");
                assert_eq!(
                    m.payload.as_deref(),
                    Some(want.as_bytes()),
                    "{codec} #{got}"
                );
                got += 1;
            }
        }
        assert_eq!(got, n, "{codec}: messages read back");
    }
}
