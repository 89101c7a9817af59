//! Events a client hands out at its poll points, against a real broker: statistics JSON
//! with real counters, librdkafka-style log lines filtered by level, regex subscriptions
//! that pick up new topics, and `max.poll.interval.ms` enforcement.

#[path = "common.rs"]
mod common;

use common::{conf, consume_ok, create};
use kafkars::{Admin, ErrorCode, Event, KafkaConsumer, Producer};
use serde_json::Value;
use std::time::{Duration, Instant};

fn produce(addr: &str, topic: &str, n: usize) {
    let p = Producer::new(conf(addr, &[("linger.ms", "1")])).unwrap();
    for i in 0..n {
        let v = format!("v{i}");
        p.produce(topic, 0, Some(v.as_bytes()), None, &[], 0, 0, false)
            .unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
}

fn stats_of(evs: &[Event]) -> Vec<Value> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Stats(j) => Some(serde_json::from_str(j).expect("stats is valid JSON")),
            _ => None,
        })
        .collect()
}

#[test]
fn producer_statistics_have_real_counters() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("ev-stats-p");
    create(&b.addr, &t, 1);
    let p = Producer::new(conf(
        &b.addr,
        &[("statistics.interval.ms", "100"), ("linger.ms", "1")],
    ))
    .unwrap();
    for i in 0..50 {
        let v = format!("value-{i}");
        p.produce(&t, 0, Some(v.as_bytes()), None, &[], 0, 0, false)
            .unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen_rtt = false;
    let mut last = None;
    while Instant::now() < deadline {
        for s in stats_of(&p.poll_events(100, Duration::from_millis(200))) {
            if s["brokers"]
                .as_object()
                .unwrap()
                .values()
                .any(|b| b["rtt"]["cnt"].as_u64() > Some(0))
            {
                seen_rtt = true;
            }
            if s["txmsgs"].as_u64() == Some(50) {
                last = Some(s);
            }
        }
        if seen_rtt && last.is_some() {
            break;
        }
    }
    assert!(seen_rtt, "no broker rtt samples in statistics");
    let s = last.expect("statistics with txmsgs=50");
    assert_eq!(s["type"], "producer");
    assert!(s["name"].as_str().unwrap().starts_with("rdkafka#producer-"));
    assert!(s["tx"].as_u64().unwrap() >= 2, "{s}");
    assert!(s["tx_bytes"].as_u64().unwrap() > 500, "{s}");
    assert!(s["rx"].as_u64().unwrap() >= 2, "{s}");
    assert!(s["msg_max"].as_u64().unwrap() > 0);
    assert_eq!(s["msg_cnt"], 0, "all delivered: {s}");
    let (_, broker) = s["brokers"].as_object().unwrap().iter().next().unwrap();
    assert_eq!(broker["state"], "UP");
    assert_eq!(broker["nodeid"], 1);
    assert!(broker["connects"].as_u64().unwrap() >= 1);
    assert!(broker["toppars"][format!("{t}-0")].is_object(), "{broker}");
    let part = &s["topics"][&t]["partitions"]["0"];
    assert_eq!(part["txmsgs"], 50, "{part}");
    assert!(part["txbytes"].as_u64().unwrap() > 50 * 7);
    assert_eq!(part["leader"], 1);
}

#[test]
fn consumer_statistics_show_offsets_lag_and_group() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("ev-stats-c");
    create(&b.addr, &t, 1);
    produce(&b.addr, &t, 20);
    let c = KafkaConsumer::new(conf(
        &b.addr,
        &[
            ("group.id", &common::topic("ev-stats-g")),
            ("auto.offset.reset", "earliest"),
            ("statistics.interval.ms", "100"),
            ("enable.auto.commit", "false"),
        ],
    ))
    .unwrap();
    c.subscribe(std::slice::from_ref(&t)).unwrap();
    assert_eq!(consume_ok(&c, 15, Duration::from_secs(15)).len(), 15);
    c.commit(None, false).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut found = None;
    while found.is_none() && Instant::now() < deadline {
        let mut stats = Vec::new();
        let _ = c.consume_with(Duration::from_millis(100), |e| {
            stats.extend(stats_of(std::slice::from_ref(&e)));
            Ok::<(), ()>(())
        });
        found = stats
            .into_iter()
            .find(|s| s["topics"][&t]["partitions"]["0"]["committed_offset"].as_i64() >= Some(15));
    }
    let s = found.expect("consumer statistics after a commit");
    assert_eq!(s["type"], "consumer");
    assert!(s["rxmsgs"].as_u64().unwrap() >= 20, "{s}");
    let p = &s["topics"][&t]["partitions"]["0"];
    assert_eq!(p["hi_offset"], 20, "{p}");
    assert_eq!(p["lo_offset"], 0, "{p}");
    assert_eq!(p["fetch_state"], "active");
    let committed = p["committed_offset"].as_i64().unwrap();
    assert_eq!(p["consumer_lag"].as_i64().unwrap(), 20 - committed, "{p}");
    assert!(p["app_offset"].as_i64().unwrap() >= 15, "{p}");
    assert!(p["rxmsgs"].as_u64().unwrap() >= 20, "{p}");
    let g = &s["cgrp"];
    assert_eq!(g["state"], "up");
    assert_eq!(g["join_state"], "steady");
    assert_eq!(g["assignment_size"], 1);
    assert!(g["rebalance_cnt"].as_u64().unwrap() >= 1);
}

#[test]
fn connection_failure_logs_at_error_level_and_respects_log_level() {
    let dead = common::dead_addr();
    for (log_level, expect) in [("6", true), ("2", false)] {
        let p = Producer::new(conf(&dead, &[("log_level", log_level)])).unwrap();
        p.client().logger().set_log_events(true);
        p.produce("nowhere", -1, Some(b"x"), None, &[], 0, 0, false)
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(if expect { 10 } else { 2 });
        let mut logs = Vec::new();
        let mut errors = Vec::new();
        while Instant::now() < deadline && (logs.is_empty() || errors.len() < 2) {
            for e in p.poll_events(100, Duration::from_millis(100)) {
                match e {
                    Event::Log {
                        level,
                        facility,
                        message,
                    } => logs.push((level, facility, message)),
                    Event::Error { code, reason, .. } => errors.push((code, reason)),
                    _ => {}
                }
            }
        }
        if expect {
            let (level, fac, msg) = logs.first().expect("a FAIL log line");
            assert_eq!((*level, fac.as_str()), (3, "FAIL"), "{msg}");
            assert!(
                msg.contains(&format!("{dead}/bootstrap: Connect to ipv4#{dead} failed")),
                "{msg}"
            );
            assert!(
                msg.starts_with(&format!("[thrd:{dead}/bootstrap]: ")),
                "{msg}"
            );
            // One _ALL_BROKERS_DOWN per state change, after the transport error.
            assert_eq!(errors[0].0, ErrorCode::TRANSPORT, "{errors:?}");
            let down: Vec<_> = errors
                .iter()
                .filter(|(c, _)| *c == ErrorCode::ALL_BROKERS_DOWN)
                .collect();
            assert_eq!(down.len(), 1, "{errors:?}");
            assert_eq!(down[0].1, "1/1 brokers are down");
        } else {
            assert!(logs.iter().all(|(l, _, _)| *l <= 2), "{logs:?}");
        }
        let _ = p.purge(kafkars::producer::PURGE_F_QUEUE);
    }
}

#[test]
fn debug_contexts_and_set_level() {
    let Some(b) = common::broker() else { return };
    let p = Producer::new(conf(&b.addr, &[("debug", "broker,protocol")])).unwrap();
    let log = p.client().logger().clone();
    log.set_log_events(true);
    assert_eq!(log.get_level(), 7, "debug raises log_level to 7");
    p.client()
        .metadata(true, None, Duration::from_secs(5))
        .unwrap();
    let evs = p.poll_events(1000, Duration::from_millis(100));
    let facs: Vec<String> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Log {
                level: 7, facility, ..
            } => Some(facility.clone()),
            _ => None,
        })
        .collect();
    assert!(facs.iter().any(|f| f == "CONNECT"), "{facs:?}");
    assert!(facs.iter().any(|f| f == "SEND"), "{facs:?}");
    log.set_level(6);
    p.client()
        .metadata(true, None, Duration::from_secs(5))
        .unwrap();
    let evs = p.poll_events(1000, Duration::from_millis(100));
    assert!(
        !evs.iter().any(|e| matches!(e, Event::Log { .. })),
        "setLogLevel(6) silences debug lines"
    );
}

#[test]
fn regex_subscription_picks_up_new_topics() {
    let Some(b) = common::broker() else { return };
    let prefix = common::topic("evrx");
    let first = format!("{prefix}-a");
    create(&b.addr, &first, 1);
    create(&b.addr, &common::topic("other"), 1);
    produce(&b.addr, &first, 1);
    let c = KafkaConsumer::new(conf(
        &b.addr,
        &[
            ("group.id", &common::topic("evrx-g")),
            ("auto.offset.reset", "earliest"),
            ("topic.metadata.refresh.interval.ms", "500"),
        ],
    ))
    .unwrap();
    let pattern = format!("^{}-.*", regex_escape(&prefix));
    c.subscribe(std::slice::from_ref(&pattern)).unwrap();
    assert_eq!(c.subscription(), vec![pattern.clone()]);
    let got = consume_ok(&c, 1, Duration::from_secs(15));
    assert_eq!(got.len(), 1);
    assert_eq!(&*got[0].topic, first);
    let second = format!("{prefix}-b");
    create(&b.addr, &second, 1);
    produce(&b.addr, &second, 1);
    let got = consume_ok(&c, 1, Duration::from_secs(15));
    assert_eq!(got.len(), 1, "the new topic joined the assignment");
    assert_eq!(&*got[0].topic, second);
    let mut assigned: Vec<String> = c.assignment().into_iter().map(|tp| tp.topic).collect();
    assigned.sort();
    assert_eq!(assigned, vec![first, second]);
    assert!(
        c.subscribe(&["^(".to_string()]).is_err(),
        "bad regex refused"
    );
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}

#[test]
fn max_poll_interval_exceeded_leaves_group_and_rejoins() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("ev-maxpoll");
    let group = common::topic("ev-maxpoll-g");
    create(&b.addr, &t, 1);
    produce(&b.addr, &t, 2);
    let c = KafkaConsumer::new(conf(
        &b.addr,
        &[
            ("group.id", &group),
            ("auto.offset.reset", "earliest"),
            ("session.timeout.ms", "6000"),
            ("max.poll.interval.ms", "6000"),
            ("heartbeat.interval.ms", "500"),
        ],
    ))
    .unwrap();
    c.client().logger().set_log_events(true);
    c.subscribe(std::slice::from_ref(&t)).unwrap();
    assert_eq!(consume_ok(&c, 1, Duration::from_secs(15)).len(), 1);
    // Not polling: the member must leave on its own. Watch the group from outside.
    let admin = Admin::new(&conf(&b.addr, &[])).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let d = admin
            .describe_group(&group, Duration::from_secs(5))
            .unwrap();
        if d.members.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "member did not leave the group");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut logs = Vec::new();
    let m = c
        .consume_with(Duration::from_secs(1), |e| {
            if let Event::Log { facility, .. } = e {
                logs.push(facility);
            }
            Ok::<(), ()>(())
        })
        .unwrap()
        .expect("an error message");
    assert_eq!(m.err, ErrorCode::MAX_POLL_EXCEEDED);
    assert!(logs.iter().any(|f| f == "MAXPOLL"), "{logs:?}");
    // Polling again rejoins and consumption continues.
    let got = consume_ok(&c, 1, Duration::from_secs(15));
    assert_eq!(got.len(), 1, "rejoined after polling again");
}

#[test]
fn blocking_in_consume_counts_as_polling() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("ev-maxpoll-block");
    create(&b.addr, &t, 1);
    produce(&b.addr, &t, 1);
    let c = KafkaConsumer::new(conf(
        &b.addr,
        &[
            ("group.id", &common::topic("ev-maxpoll-block-g")),
            ("auto.offset.reset", "earliest"),
            ("session.timeout.ms", "6000"),
            ("max.poll.interval.ms", "6000"),
            ("heartbeat.interval.ms", "500"),
        ],
    ))
    .unwrap();
    c.subscribe(std::slice::from_ref(&t)).unwrap();
    assert_eq!(consume_ok(&c, 1, Duration::from_secs(15)).len(), 1);
    // One consume() waiting longer than max.poll.interval.ms on an idle topic: the
    // application is inside a poll the whole time, so the member stays.
    let m = c.consume(Duration::from_millis(7500));
    assert!(m.is_none(), "{m:?}");
    assert_eq!(c.assignment().len(), 1);
    let m = c.consume(Duration::from_millis(100));
    assert!(m.is_none(), "no _MAX_POLL_EXCEEDED: {m:?}");
}
