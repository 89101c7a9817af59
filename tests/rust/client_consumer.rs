//! Consumer behaviour against a real broker: round trips with every codec, logical offsets,
//! groups (commit and resume, two members splitting partitions, rebalance events).

#[path = "common.rs"]
mod common;

use common::{conf, consume_ok, create};
use kafkars::topic_partition::{offset_tail, OFFSET_BEGINNING, OFFSET_END};
use kafkars::{
    Admin, Consumer, ErrorCode, Event, KafkaConsumer, Message, Producer, TopicPartition,
};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

fn produce(addr: &str, topic: &str, partition: i32, n: usize, codec: &str, start: usize) {
    let p = Producer::new(conf(
        addr,
        &[("compression.codec", codec), ("linger.ms", "2")],
    ))
    .unwrap();
    for i in start..start + n {
        let v = format!("v{i}");
        let k = format!("k{i}");
        let (payload, key): (Option<&[u8]>, Option<&[u8]>) = if i % 10 == 9 {
            (None, None)
        } else {
            (Some(v.as_bytes()), Some(k.as_bytes()))
        };
        let hv = i.to_string();
        p.produce(
            topic,
            partition,
            payload,
            key,
            &[("i", Some(hv.as_bytes())), ("nil", None)],
            0,
            0,
            false,
        )
        .unwrap();
    }
    p.flush(Duration::from_secs(20)).unwrap();
}

#[test]
fn low_level_round_trip_every_codec() {
    let Some(b) = common::broker() else { return };
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let t = common::topic(&format!("ll-{codec}"));
        produce(&b.addr, &t, 0, 300, codec, 0);
        let c = Consumer::new(conf(&b.addr, &[])).unwrap();
        c.consume_start(&t, 0, OFFSET_BEGINNING).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut got = Vec::new();
        while got.len() < 300 && Instant::now() < deadline {
            got.extend(
                c.consume_batch(&t, 0, Duration::from_millis(200), 100)
                    .into_iter()
                    .filter(|m| m.err.is_ok()),
            );
        }
        assert_eq!(got.len(), 300, "{codec}");
        for (i, m) in got.iter().enumerate() {
            assert_eq!(m.offset, i as i64);
            if i % 10 == 9 {
                assert_eq!((m.payload.as_ref(), m.key.as_ref()), (None, None));
            } else {
                assert_eq!(
                    m.payload.as_deref(),
                    Some(format!("v{i}").as_bytes()),
                    "{codec}"
                );
                assert_eq!(m.key.as_deref(), Some(format!("k{i}").as_bytes()));
            }
            assert_eq!(m.headers[0].0, "i");
            assert_eq!(m.headers[0].1.as_deref(), Some(i.to_string().as_bytes()));
            assert_eq!(m.headers[1], ("nil".to_string(), None));
            assert!(m.timestamp > 0);
        }
        c.consume_stop(&t, 0).unwrap();
    }
}

#[test]
fn logical_offsets_tail_end_and_eof() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("tail");
    produce(&b.addr, &t, 0, 50, "none", 0);
    let c = Consumer::new(conf(&b.addr, &[("enable.partition.eof", "true")])).unwrap();
    c.consume_start(&t, 0, offset_tail(5)).unwrap();
    let mut offs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut eof = None;
    while eof.is_none() && Instant::now() < deadline {
        if let Some(m) = c.consume(&t, 0, Duration::from_millis(200)) {
            if m.err == ErrorCode::PARTITION_EOF {
                eof = Some(m.offset);
            } else {
                offs.push(m.offset);
            }
        }
    }
    assert_eq!(offs, vec![45, 46, 47, 48, 49]);
    assert_eq!(eof, Some(50));
    c.consume_stop(&t, 0).unwrap();
    // END: only messages produced after start.
    c.consume_start(&t, 0, OFFSET_END).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(m) = c.consume(&t, 0, Duration::from_millis(100)) {
            assert_eq!(m.err, ErrorCode::PARTITION_EOF);
            assert_eq!(m.offset, 50);
            break;
        }
    }
    produce(&b.addr, &t, 0, 1, "none", 50);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = None;
    while got.is_none() && Instant::now() < deadline {
        got = c
            .consume(&t, 0, Duration::from_millis(100))
            .filter(|m| m.err.is_ok());
    }
    assert_eq!(got.map(|m| m.offset), Some(50));
    let (lo, hi) = c
        .client()
        .query_watermark_offsets(&t, 0, Duration::from_secs(5))
        .unwrap();
    assert_eq!((lo, hi), (0, 51));
}

#[test]
fn group_commit_and_resume() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("grp");
    create(&b.addr, &t, 2);
    produce(&b.addr, &t, 0, 20, "none", 0);
    produce(&b.addr, &t, 1, 20, "none", 100);
    let g = common::topic("g");
    let gc = |extra: &[(&str, &str)]| {
        let mut v = vec![
            ("group.id", g.as_str()),
            ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "false"),
        ];
        v.extend_from_slice(extra);
        conf(&b.addr, &v)
    };
    let c = KafkaConsumer::new(gc(&[])).unwrap();
    c.subscribe(std::slice::from_ref(&t)).unwrap();
    let got = consume_ok(&c, 40, Duration::from_secs(30));
    assert_eq!(got.len(), 40);
    assert_eq!(c.assignment().len(), 2);
    c.commit(None, false).unwrap();
    let committed = c
        .committed(
            &[TopicPartition::new(&t, 0, 0), TopicPartition::new(&t, 1, 0)],
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(
        committed.iter().map(|tp| tp.offset).collect::<Vec<_>>(),
        vec![20, 20]
    );
    let pos = c.position(&[TopicPartition::new(&t, 0, 0)]);
    assert_eq!(pos[0].offset, 20);
    c.close();
    drop(c);
    produce(&b.addr, &t, 0, 3, "none", 1000);
    let c2 = KafkaConsumer::new(gc(&[])).unwrap();
    c2.subscribe(std::slice::from_ref(&t)).unwrap();
    let got = consume_ok(&c2, 3, Duration::from_secs(30));
    let offs: Vec<i64> = got.iter().map(|m| m.offset).collect();
    assert_eq!(offs, vec![20, 21, 22]);
    assert!(c2
        .consume(Duration::from_millis(300))
        .is_none_or(|m| !m.err.is_ok()));
    c2.close();
}

#[test]
fn missing_group_id_is_an_error() {
    let e = KafkaConsumer::new(conf("127.0.0.1:1", &[])).unwrap_err();
    assert_eq!(e.to_string(), "\"group.id\" must be configured");
}

fn rebalance_member(addr: &str, group: &str, strategy: &str) -> KafkaConsumer {
    let c = KafkaConsumer::new(conf(
        addr,
        &[
            ("group.id", group),
            ("auto.offset.reset", "earliest"),
            ("partition.assignment.strategy", strategy),
            ("session.timeout.ms", "6000"),
            ("heartbeat.interval.ms", "200"),
        ],
    ))
    .unwrap();
    c.set_rebalance_callback(true);
    c
}

/// Serves rebalance events like a php rebalance callback would.
fn pump(
    c: &KafkaConsumer,
    cooperative: bool,
    log: &mut Vec<(ErrorCode, usize)>,
) -> Option<Message> {
    // The application acts inside the callback, as a PHP rebalance callback does (a
    // rebalance left unanswered gets librdkafka's default action when the callback returns).
    let m = c
        .consume_with(Duration::from_millis(50), |e| {
            if let Event::Rebalance { kind, partitions } = e {
                log.push((kind, partitions.len()));
                match (kind == ErrorCode::ASSIGN_PARTITIONS, cooperative) {
                    (true, false) => c.assign(Some(&partitions)).unwrap(),
                    (false, false) => c.assign(None).unwrap(),
                    (true, true) => c.incremental_assign(&partitions).unwrap(),
                    (false, true) => c.incremental_unassign(&partitions).unwrap(),
                }
            }
            Ok::<(), ()>(())
        })
        .unwrap();
    m.filter(|m| m.err.is_ok())
}

fn two_members_split(strategy: &str, cooperative: bool) {
    let Some(b) = common::broker() else { return };
    let t = common::topic("split");
    create(&b.addr, &t, 4);
    for p in 0..4 {
        produce(&b.addr, &t, p, 10, "none", 0);
    }
    let g = common::topic("gs");
    let a = rebalance_member(&b.addr, &g, strategy);
    a.subscribe(std::slice::from_ref(&t)).unwrap();
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.assignment().len() != 4 && Instant::now() < deadline {
        pump(&a, cooperative, &mut la);
    }
    assert_eq!(a.assignment().len(), 4, "{strategy}: first member gets all");
    let bm = rebalance_member(&b.addr, &g, strategy);
    bm.subscribe(std::slice::from_ref(&t)).unwrap();
    let mut seen: HashMap<(i32, i64), usize> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        for (c, l) in [(&a, &mut la), (&bm, &mut lb)] {
            if let Some(m) = pump(c, cooperative, l) {
                *seen.entry((m.partition, m.offset)).or_default() += 1;
            }
        }
        if a.assignment().len() == 2 && bm.assignment().len() == 2 {
            break;
        }
    }
    let pa: BTreeSet<i32> = a.assignment().iter().map(|tp| tp.partition).collect();
    let pb: BTreeSet<i32> = bm.assignment().iter().map(|tp| tp.partition).collect();
    assert_eq!(pa.len(), 2, "{strategy}: {la:?} {lb:?}");
    assert_eq!(pb.len(), 2, "{strategy}: {la:?} {lb:?}");
    assert!(pa.is_disjoint(&pb));
    assert!(la.iter().any(|(k, _)| *k == ErrorCode::REVOKE_PARTITIONS));
    bm.close();
    a.close();
}

#[test]
fn two_members_split_range() {
    two_members_split("range", false);
}

#[test]
fn two_members_split_cooperative_sticky() {
    two_members_split("cooperative-sticky", true);
}

#[test]
fn admin_describes_group_with_lag() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("lag");
    create(&b.addr, &t, 2);
    produce(&b.addr, &t, 0, 10, "none", 0);
    produce(&b.addr, &t, 1, 4, "none", 0);
    let g = common::topic("glag");
    let c = KafkaConsumer::new(conf(
        &b.addr,
        &[("group.id", &g), ("enable.auto.commit", "false")],
    ))
    .unwrap();
    c.commit(Some(&[TopicPartition::new(&t, 0, 7)]), false)
        .unwrap();
    c.close();
    let admin = Admin::new(&conf(&b.addr, &[])).unwrap();
    let groups = admin.list_groups(Duration::from_secs(10)).unwrap();
    assert!(groups.iter().any(|x| x.group_id == g), "{groups:?}");
    let d = admin.describe_group(&g, Duration::from_secs(10)).unwrap();
    assert!(d.members.is_empty());
    let p0 = d.offsets.iter().find(|o| o.partition == 0).unwrap();
    assert_eq!((p0.committed, p0.high, p0.lag), (7, 10, 3));
    let p1 = d.offsets.iter().find(|o| o.partition == 1).unwrap();
    assert_eq!((p1.high, p1.lag), (4, -1));
    let e = admin
        .create_topic(&t, 2, 1, &[], Duration::from_secs(10))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode(36));
    admin
        .create_partitions(&t, 3, Duration::from_secs(10))
        .unwrap();
    assert_eq!(
        admin
            .describe_topic(&t, Duration::from_secs(10))
            .unwrap()
            .topics[0]
            .partitions
            .len(),
        3
    );
    admin.delete_topic(&t, Duration::from_secs(10)).unwrap();
}

const LIBRDKAFKA_MEMBER: &str = r#"
import json, sys, time
from confluent_kafka import Consumer
bootstrap, group, topic, strategy = sys.argv[1:5]
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
              "partition.assignment.strategy": strategy, "session.timeout.ms": 6000,
              "heartbeat.interval.ms": 200, "auto.offset.reset": "earliest"})
c.subscribe([topic])
last = None
deadline = time.time() + 60
while time.time() < deadline:
    c.poll(0.1)
    a = sorted(tp.partition for tp in c.assignment())
    if a != last:
        last = a
        print(json.dumps(a), flush=True)
c.close()
"#;

fn mixed_group(strategy: &str, cooperative: bool) {
    let Some(b) = common::broker() else { return };
    let probe = std::process::Command::new("python3")
        .args(["-c", "import confluent_kafka"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: python3 with confluent_kafka not available");
        return;
    }
    let t = common::topic("mixed");
    create(&b.addr, &t, 4);
    let g = common::topic("gm");
    let ours = rebalance_member(&b.addr, &g, strategy);
    ours.subscribe(std::slice::from_ref(&t)).unwrap();
    let mut log = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ours.assignment().len() != 4 && Instant::now() < deadline {
        pump(&ours, cooperative, &mut log);
    }
    assert_eq!(ours.assignment().len(), 4);
    let mut child = std::process::Command::new("python3")
        .args(["-c", LIBRDKAFKA_MEMBER, &b.addr, &g, &t, strategy])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let theirs = std::sync::Arc::new(std::sync::Mutex::new(Vec::<i32>::new()));
    let th = theirs.clone();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let v: Vec<i32> = line
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect();
            *th.lock().unwrap() = v;
        }
    });
    let deadline = Instant::now() + Duration::from_secs(45);
    while Instant::now() < deadline {
        pump(&ours, cooperative, &mut log);
        if ours.assignment().len() == 2 && theirs.lock().unwrap().len() == 2 {
            break;
        }
    }
    let mine: BTreeSet<i32> = ours.assignment().iter().map(|tp| tp.partition).collect();
    let other: BTreeSet<i32> = theirs.lock().unwrap().iter().copied().collect();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        mine.len(),
        2,
        "{strategy}: ours {mine:?} theirs {other:?} {log:?}"
    );
    assert_eq!(other.len(), 2, "{strategy}: ours {mine:?} theirs {other:?}");
    assert!(mine.is_disjoint(&other));
    ours.close();
}

#[test]
fn mixed_group_with_librdkafka_range() {
    mixed_group("range", false);
}

#[test]
fn mixed_group_with_librdkafka_cooperative_sticky() {
    mixed_group("cooperative-sticky", true);
}

#[test]
fn consumer_reports_broker_down_as_error_event() {
    let c = KafkaConsumer::new(conf(&common::dead_addr(), &[("group.id", "g-down")])).unwrap();
    c.subscribe(&["t".to_string()]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut errors = Vec::new();
    while errors.is_empty() && Instant::now() < deadline {
        let m = c
            .consume_with(Duration::from_millis(100), |e| {
                if let Event::Error { code, .. } = e {
                    errors.push(code);
                }
                Ok::<(), ()>(())
            })
            .unwrap();
        assert!(m.is_none());
    }
    assert!(
        errors
            .iter()
            .any(|c| *c == ErrorCode::ALL_BROKERS_DOWN || *c == ErrorCode::TRANSPORT),
        "{errors:?}"
    );
    c.close();
}

#[test]
fn concurrent_clients_never_mix_partitions() {
    let Some(b) = common::broker() else { return };
    for _round in 0..3 {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let addr = b.addr.clone();
                std::thread::spawn(move || {
                    let t = common::topic("mix");
                    let part = i % 2;
                    if part == 1 {
                        create(&addr, &t, 2);
                    }
                    let p = Producer::new(conf(&addr, &[("linger.ms", "2")])).unwrap();
                    for k in 0..300 {
                        let v = format!("{t}:{k}");
                        p.produce(&t, part, Some(v.as_bytes()), None, &[], 0, 0, true)
                            .unwrap();
                    }
                    p.flush(Duration::from_secs(30)).unwrap();
                    let c = Consumer::new(conf(&addr, &[])).unwrap();
                    c.consume_start(&t, part, OFFSET_BEGINNING).unwrap();
                    let deadline = Instant::now() + Duration::from_secs(30);
                    let mut got = 0;
                    let mut bad = Vec::new();
                    while got < 300 && Instant::now() < deadline {
                        for m in c.consume_batch(&t, part, Duration::from_millis(100), 500) {
                            if !m.err.is_ok() {
                                continue;
                            }
                            let want = format!("{t}:{}", m.offset);
                            if m.payload.as_deref() != Some(want.as_bytes()) {
                                bad.push((
                                    m.offset,
                                    String::from_utf8_lossy(m.payload.as_deref().unwrap_or(b""))
                                        .into_owned(),
                                ));
                            }
                            got += 1;
                        }
                    }
                    (t, got, bad)
                })
            })
            .collect();
        for h in handles {
            let (t, got, bad) = h.join().unwrap();
            assert!(
                bad.is_empty(),
                "{t}: foreign data {:?}",
                &bad[..bad.len().min(3)]
            );
            assert_eq!(got, 300, "{t}");
        }
    }
}

#[test]
fn low_level_offset_store_is_auto_committed() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("llstore");
    produce(&b.addr, &t, 0, 10, "none", 0);
    let g = common::topic("gll");
    let c = Consumer::new(conf(
        &b.addr,
        &[("group.id", &g), ("auto.commit.interval.ms", "100")],
    ))
    .unwrap();
    c.consume_start(&t, 0, OFFSET_BEGINNING).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = None;
    while last.is_none_or(|o| o < 4) && Instant::now() < deadline {
        if let Some(m) = c
            .consume(&t, 0, Duration::from_millis(100))
            .filter(|m| m.err.is_ok())
        {
            last = Some(m.offset);
        }
    }
    c.offset_store(&t, 0, 4).unwrap();
    let q = KafkaConsumer::new(conf(&b.addr, &[("group.id", &g)])).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut committed = -1;
    while committed != 5 && Instant::now() < deadline {
        committed = q
            .committed(&[TopicPartition::new(&t, 0, 0)], Duration::from_secs(5))
            .unwrap()[0]
            .offset;
    }
    assert_eq!(committed, 5);
    // STORED resumes from the committed offset.
    c.consume_stop(&t, 0).unwrap();
    drop(c);
    let c2 = Consumer::new(conf(&b.addr, &[("group.id", &g)])).unwrap();
    c2.consume_start(&t, 0, kafkars::topic_partition::OFFSET_STORED)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first = None;
    while first.is_none() && Instant::now() < deadline {
        first = c2
            .consume(&t, 0, Duration::from_millis(100))
            .filter(|m| m.err.is_ok())
            .map(|m| m.offset);
    }
    assert_eq!(first, Some(5));
    q.close();
}

#[test]
fn subscribing_to_a_missing_topic_reports_it_once() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("missing");
    let g = common::topic("gmiss");
    let c = KafkaConsumer::new(conf(&b.addr, &[("group.id", &g)])).unwrap();
    c.subscribe(std::slice::from_ref(&t)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut errs = Vec::new();
    while errs.is_empty() && Instant::now() < deadline {
        if let Some(m) = c.consume(Duration::from_millis(100)) {
            errs.push(m);
        }
    }
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].err, ErrorCode::UNKNOWN_TOPIC_OR_PART);
    assert_eq!(&*errs[0].topic, t.as_str());
    let text = String::from_utf8_lossy(errs[0].payload.as_deref().unwrap()).into_owned();
    assert!(
        text.starts_with("Subscribed topic not available: "),
        "{text}"
    );
    c.close();
}
