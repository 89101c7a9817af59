//! Transactions of the client core against a real broker (`KAFKARS_TEST_BOOTSTRAP` for Apache
//! Kafka): commit and abort as read_committed and read_uncommitted readers see them, offsets
//! committed only with the transaction, fencing, and librdkafka's state errors.

#[path = "common.rs"]
mod common;

use common::{conf, create};
use kafkars::topic_partition::OFFSET_BEGINNING;
use kafkars::{Admin, ConsumerGroupMetadata, ErrorCode, KafkaConsumer, Producer, TopicPartition};
use std::time::{Duration, Instant};

fn txn_producer(addr: &str, id: &str) -> Producer {
    Producer::new(conf(addr, &[("transactional.id", id), ("linger.ms", "5")])).unwrap()
}

fn produce(p: &Producer, topic: &str, value: &str) {
    p.produce(topic, 0, Some(value.as_bytes()), None, &[], 0, 0, false)
        .unwrap();
}

/// Every payload of partition 0 up to its end (EOF after at least `want` messages).
fn read_all(addr: &str, topic: &str, isolation: &str, want: usize) -> Vec<String> {
    let c = kafkars::Consumer::new(conf(
        addr,
        &[
            ("isolation.level", isolation),
            ("enable.partition.eof", "true"),
        ],
    ))
    .unwrap();
    c.consume_start(topic, 0, OFFSET_BEGINNING).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut out = Vec::new();
    while Instant::now() < deadline {
        for m in c.consume_batch(topic, 0, Duration::from_millis(200), 100) {
            if m.err == ErrorCode::PARTITION_EOF && out.len() >= want {
                return out;
            }
            if m.err.is_ok() {
                out.push(String::from_utf8_lossy(m.payload.as_deref().unwrap_or_default()).into());
            }
        }
    }
    out
}

#[test]
fn api_calls_in_the_wrong_state_fail_like_librdkafka() {
    let dead = common::dead_addr();
    let plain = Producer::new(conf(&dead, &[])).unwrap();
    let e = plain
        .init_transactions(Duration::from_millis(100))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NOT_CONFIGURED);
    assert_eq!(
        e.message,
        "The Transactional API requires transactional.id to be configured"
    );

    let p = txn_producer(&dead, "tx-state");
    let e = p.begin_transaction().unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::STATE, "Operation not valid in state Init")
    );
    assert!(!e.fatal && !e.retriable && !e.txn_requires_abort);
    let e = p
        .produce("t", 0, Some(b"x"), None, &[], 0, 0, false)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::STATE);
    let e = p
        .commit_transaction(Duration::from_millis(100))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::STATE);
    let e = p.abort_transaction(Duration::from_millis(100)).unwrap_err();
    assert_eq!(e.code, ErrorCode::STATE);

    // No broker: the call returns within its timeout, retriable.
    let t0 = Instant::now();
    let e = p.init_transactions(Duration::from_millis(300)).unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert!(e.retriable, "{e:?}");
}

#[test]
fn committed_visible_aborted_only_to_read_uncommitted() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("txn-rt");
    create(&b.addr, &t, 1);
    let p = txn_producer(&b.addr, &common::topic("tx-rt"));
    p.init_transactions(Duration::from_secs(30)).unwrap();
    let e = p.init_transactions(Duration::from_secs(1)).unwrap_err();
    assert_eq!(e.code, ErrorCode::STATE);

    p.begin_transaction().unwrap();
    produce(&p, &t, "c1");
    produce(&p, &t, "c2");
    p.commit_transaction(Duration::from_secs(15)).unwrap();

    p.begin_transaction().unwrap();
    produce(&p, &t, "a1");
    p.flush(Duration::from_secs(15)).unwrap();
    p.abort_transaction(Duration::from_secs(15)).unwrap();

    // An empty transaction completes without the coordinator.
    p.begin_transaction().unwrap();
    p.commit_transaction(Duration::from_secs(5)).unwrap();

    p.begin_transaction().unwrap();
    produce(&p, &t, "c3");
    p.commit_transaction(Duration::from_secs(15)).unwrap();

    assert_eq!(
        read_all(&b.addr, &t, "read_committed", 3),
        ["c1", "c2", "c3"]
    );
    assert_eq!(
        read_all(&b.addr, &t, "read_uncommitted", 4),
        ["c1", "c2", "a1", "c3"]
    );
}

#[test]
fn offsets_are_committed_only_with_the_transaction() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("txn-offsets");
    create(&b.addr, &t, 1);
    let group = common::topic("txn-group");
    let p = txn_producer(&b.addr, &common::topic("tx-offsets"));
    p.init_transactions(Duration::from_secs(30)).unwrap();
    let cgmd = ConsumerGroupMetadata::new(group.clone());
    let at = |off: i64| vec![TopicPartition::new(t.clone(), 0, off)];

    p.begin_transaction().unwrap();
    produce(&p, &t, "x");
    p.send_offsets_to_transaction(&at(5), &cgmd, Duration::from_secs(15))
        .unwrap();
    p.abort_transaction(Duration::from_secs(15)).unwrap();

    p.begin_transaction().unwrap();
    p.send_offsets_to_transaction(&at(7), &cgmd, Duration::from_secs(15))
        .unwrap();
    p.commit_transaction(Duration::from_secs(15)).unwrap();

    let c = KafkaConsumer::new(conf(&b.addr, &[("group.id", &group)])).unwrap();
    let committed = c
        .committed(
            &[TopicPartition::new(t.clone(), 0, -1001)],
            Duration::from_secs(10),
        )
        .unwrap();
    assert_eq!(committed[0].offset, 7);
    assert_eq!(c.group_metadata().group_id, group);
}

#[test]
fn a_second_producer_fences_the_first() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("txn-fence");
    create(&b.addr, &t, 1);
    let id = common::topic("tx-fence");
    let a = txn_producer(&b.addr, &id);
    a.init_transactions(Duration::from_secs(30)).unwrap();
    a.begin_transaction().unwrap();
    produce(&a, &t, "from-a");
    a.flush(Duration::from_secs(15)).unwrap();

    let b2 = txn_producer(&b.addr, &id);
    b2.init_transactions(Duration::from_secs(30)).unwrap();

    let e = a.commit_transaction(Duration::from_secs(15)).unwrap_err();
    assert_eq!(e.code, ErrorCode::FENCED, "{e:?}");
    assert!(e.fatal && !e.retriable && !e.txn_requires_abort, "{e:?}");
    let e = a.begin_transaction().unwrap_err();
    assert!(e.fatal, "{e:?}");
    let e = a
        .produce(&t, 0, Some(b"late"), None, &[], 0, 0, false)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FATAL);

    b2.begin_transaction().unwrap();
    produce(&b2, &t, "from-b");
    b2.commit_transaction(Duration::from_secs(15)).unwrap();
    assert_eq!(read_all(&b.addr, &t, "read_committed", 1), ["from-b"]);
}

#[test]
fn a_failed_delivery_makes_the_transaction_abortable() {
    let Some(b) = common::broker() else { return };
    let t = common::topic("txn-abortable");
    Admin::new(&conf(&b.addr, &[]))
        .unwrap()
        .create_topic(
            &t,
            1,
            1,
            &[("max.message.bytes".to_string(), "2000".to_string())],
            Duration::from_secs(10),
        )
        .unwrap();
    let p = txn_producer(&b.addr, &common::topic("tx-abortable"));
    p.init_transactions(Duration::from_secs(30)).unwrap();
    p.begin_transaction().unwrap();
    produce(&p, &t, "ok");
    p.produce(&t, 0, Some(&[7u8; 5000]), None, &[], 0, 0, false)
        .unwrap();
    let e = p.commit_transaction(Duration::from_secs(15)).unwrap_err();
    assert!(e.txn_requires_abort && !e.fatal && !e.retriable, "{e:?}");
    let e2 = p.begin_transaction().unwrap_err();
    assert!(e2.txn_requires_abort, "{e2:?}");
    p.abort_transaction(Duration::from_secs(15)).unwrap();

    p.begin_transaction().unwrap();
    produce(&p, &t, "after");
    p.commit_transaction(Duration::from_secs(15)).unwrap();
    assert_eq!(read_all(&b.addr, &t, "read_committed", 1), ["after"]);
}
