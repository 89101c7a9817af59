//! Transactions at the protocol level: fencing, the produce-time check, the last stable offset,
//! read_committed fetches with their aborted transactions, and all of it after a restart.
//! Also Produce v0–v2, decoded by hand.

mod common;

use bytes::{BufMut, Bytes, BytesMut};
use common::{create_topic, fetch_from_start, name, produce_one, txn_batch, Client, TestBroker};
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

const INVALID_PRODUCER_EPOCH: i16 = 47;
const INVALID_TXN_STATE: i16 = 48;
const PRODUCER_FENCED: i16 = 90;
const UNSUPPORTED_FOR_MESSAGE_FORMAT: i16 = 43;

fn txn_id(s: &str) -> TransactionalId {
    TransactionalId(StrBytes::from_string(s.into()))
}

async fn create(c: &mut Client, topic: &str) {
    assert_eq!(create_topic(c, topic, 1).await.topics[0].error_code, 0);
}

async fn init(c: &mut Client, id: &str) -> (i16, i64, i16) {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(Some(txn_id(id)))
        .with_transaction_timeout_ms(60_000)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    let r = c.call(4, &req).await;
    (r.error_code, r.producer_id.0, r.producer_epoch)
}

async fn add_partition(c: &mut Client, id: &str, pid: i64, epoch: i16, topic: &str) -> i16 {
    let req = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(txn_id(id))
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
            .with_name(name(topic))
            .with_partitions(vec![0])]);
    let r = c.call(3, &req).await;
    r.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code
}

async fn end(c: &mut Client, id: &str, pid: i64, epoch: i16, commit: bool) -> i16 {
    let req = EndTxnRequest::default()
        .with_transactional_id(txn_id(id))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit);
    c.call(3, &req).await.error_code
}

async fn produce(c: &mut Client, id: &str, topic: &str, records: &Bytes) -> (i16, i64) {
    produce_one(c, Some(id), topic, records).await
}

/// Fetch from offset 0: (high watermark, last stable offset, record bytes, aborted list).
async fn fetch(c: &mut Client, topic: &str, isolation: i8) -> (i64, i64, usize, Vec<(i64, i64)>) {
    let r = fetch_from_start(c, 11, topic, isolation).await;
    let p = &r.responses[0].partitions[0];
    let aborted = p
        .aborted_transactions
        .iter()
        .flatten()
        .map(|a| (a.producer_id.0, a.first_offset))
        .collect();
    let len = p.records.as_ref().map_or(0, Bytes::len);
    (p.high_watermark, p.last_stable_offset, len, aborted)
}

async fn latest(c: &mut Client, topic: &str, isolation: i8) -> i64 {
    list_offset(c, topic, isolation, -1).await
}

/// ListOffsets for `timestamp` (-1 latest, or a time): the offset, or -1000 - error code.
async fn list_offset(c: &mut Client, topic: &str, isolation: i8, timestamp: i64) -> i64 {
    let req = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(isolation)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(name(topic))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(timestamp)])]);
    let r = c.call(5, &req).await;
    let p = &r.topics[0].partitions[0];
    // An error shows as -1000 - code, so a failed call cannot pass for an offset.
    if p.error_code == 0 {
        p.offset
    } else {
        -1000 - i64::from(p.error_code)
    }
}

/// A broker on `home` (which outlives every broker of the test).
async fn start_on(home: &tempfile::TempDir) -> TestBroker {
    TestBroker::start_with(|cfg| cfg.data_dir = home.path().to_path_buf()).await
}

async fn restart(broker: TestBroker, home: &tempfile::TempDir) -> TestBroker {
    broker.stop().await;
    start_on(home).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fencing_produce_checks_stable_offset_and_aborts_survive_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let broker = start_on(&home).await;
    let mut c = broker.client().await;
    create(&mut c, "txn-t").await;
    let (err, pid, e0) = init(&mut c, "tx-1").await;
    assert_eq!((err, e0), (0, 0));
    // A second InitProducerId bumps the epoch: the first producer is fenced.
    let (_, pid2, epoch) = init(&mut c, "tx-1").await;
    assert_eq!((pid2, epoch), (pid, 1));
    assert_eq!(
        add_partition(&mut c, "tx-1", pid, 0, "txn-t").await,
        PRODUCER_FENCED
    );

    // Producing to a partition not in the transaction is refused.
    let b1 = txn_batch(&["a", "b"], pid, epoch, 0);
    assert_eq!(
        produce(&mut c, "tx-1", "txn-t", &b1).await.0,
        INVALID_TXN_STATE
    );
    assert_eq!(add_partition(&mut c, "tx-1", pid, epoch, "txn-t").await, 0);
    assert_eq!(produce(&mut c, "tx-1", "txn-t", &b1).await, (0, 0));
    let stale = txn_batch(&["z"], pid, 0, 0);
    assert_eq!(
        produce(&mut c, "tx-1", "txn-t", &stale).await.0,
        INVALID_PRODUCER_EPOCH
    );

    // Open: read_committed sees nothing, the LSO is the transaction's first offset.
    assert_eq!(fetch(&mut c, "txn-t", 1).await, (2, 0, 0, vec![]));
    assert_eq!(fetch(&mut c, "txn-t", 0).await.0, 2);
    assert_eq!(latest(&mut c, "txn-t", 1).await, 0);
    assert_eq!(latest(&mut c, "txn-t", 0).await, 2);
    // By timestamp: read_committed finds nothing past the LSO.
    assert_eq!(list_offset(&mut c, "txn-t", 0, 0).await, 0);
    assert_eq!(list_offset(&mut c, "txn-t", 1, 0).await, -1);

    // Abort: the marker is offset 2, the batch is listed as aborted for read_committed.
    assert_eq!(end(&mut c, "tx-1", pid, epoch, false).await, 0);
    assert_eq!(end(&mut c, "tx-1", pid, epoch, false).await, 0, "a retry");
    assert_eq!(
        end(&mut c, "tx-1", pid, epoch, true).await,
        INVALID_TXN_STATE
    );
    let (hw, lso, len, aborted) = fetch(&mut c, "txn-t", 1).await;
    assert_eq!((hw, lso, aborted), (3, 3, vec![(pid, 0)]));
    assert!(len > 0);

    // A committed transaction after it: not listed.
    assert_eq!(add_partition(&mut c, "tx-1", pid, epoch, "txn-t").await, 0);
    let b2 = txn_batch(&["c"], pid, epoch, 2);
    assert_eq!(produce(&mut c, "tx-1", "txn-t", &b2).await, (0, 3));
    assert_eq!(end(&mut c, "tx-1", pid, epoch, true).await, 0);
    assert_eq!(latest(&mut c, "txn-t", 1).await, 5);
    drop(c);

    // After a restart the aborted list, the LSO and the producer's epoch are the same.
    let broker = restart(broker, &home).await;
    let mut c = broker.client().await;
    let (hw, lso, _, aborted) = fetch(&mut c, "txn-t", 1).await;
    assert_eq!((hw, lso, aborted), (5, 5, vec![(pid, 0)]));
    assert_eq!(
        add_partition(&mut c, "tx-1", pid, 0, "txn-t").await,
        PRODUCER_FENCED
    );
    assert_eq!(add_partition(&mut c, "tx-1", pid, epoch, "txn-t").await, 0);
    let b3 = txn_batch(&["d"], pid, epoch, 3);
    assert_eq!(produce(&mut c, "tx-1", "txn-t", &b3).await, (0, 5));
    drop(c);

    // A restart with that transaction open keeps it open (LSO held) until it ends.
    let broker = restart(broker, &home).await;
    let mut c = broker.client().await;
    assert_eq!(latest(&mut c, "txn-t", 1).await, 5);
    assert_eq!(end(&mut c, "tx-1", pid, epoch, true).await, 0);
    assert_eq!(latest(&mut c, "txn-t", 1).await, 7);
    broker.stop().await;
}

fn legacy_produce(correlation: i32, version: i16, topic: &str, records: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i32(0);
    b.put_i16(0); // Produce
    b.put_i16(version);
    b.put_i32(correlation);
    b.put_i16(3);
    b.put_slice(b"raw");
    b.put_i16(-1); // acks
    b.put_i32(5000);
    b.put_i32(1);
    b.put_i16(topic.len() as i16);
    b.put_slice(topic.as_bytes());
    b.put_i32(1);
    b.put_i32(0);
    b.put_i32(records.len() as i32);
    b.put_slice(records);
    let size = (b.len() - 4) as i32;
    b[..4].copy_from_slice(&size.to_be_bytes());
    b.freeze()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_v0_to_v2_are_answered() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create(&mut c, "legacy").await;
    let v2_batch = common::batch(&["x", "y"], Compression::None);
    for (version, expected_offset) in [(2i16, 0i64), (1, 2), (0, 4)] {
        c.send_raw(&legacy_produce(7, version, "legacy", &v2_batch))
            .await;
        let resp = c
            .read_frame()
            .await
            .expect("an answer, not a closed connection");
        let body = &resp[..];
        assert_eq!(&body[..4], &7i32.to_be_bytes(), "correlation id");
        // topics 1, name, partitions 1, partition 0, error 0, base offset.
        let at = 4 + 4 + 2 + "legacy".len() + 4;
        assert_eq!(&body[at..at + 4], &0i32.to_be_bytes());
        assert_eq!(&body[at + 4..at + 6], &0i16.to_be_bytes(), "v{version}");
        assert_eq!(&body[at + 6..at + 14], &expected_offset.to_be_bytes());
        let tail = match version {
            0 => 0,
            1 => 4,
            _ => 12,
        };
        assert_eq!(body.len(), at + 14 + tail, "v{version} layout");
    }
    // A magic 0 message set: refused for its format, the connection stays usable.
    let mut msg = vec![0u8; 8];
    msg.extend_from_slice(&14i32.to_be_bytes());
    msg.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // crc, magic 0, attributes
    msg.extend_from_slice(&(-1i32).to_be_bytes());
    msg.extend_from_slice(&0i32.to_be_bytes());
    c.send_raw(&legacy_produce(8, 0, "legacy", &msg)).await;
    let resp = c.read_frame().await.unwrap();
    let at = 4 + 4 + 2 + "legacy".len() + 4 + 4;
    assert_eq!(
        &resp[at..at + 2],
        &UNSUPPORTED_FOR_MESSAGE_FORMAT.to_be_bytes()
    );
    assert_eq!(latest(&mut c, "legacy", 0).await, 6);
    broker.stop().await;
}
