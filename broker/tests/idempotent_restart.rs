//! Idempotent producers across a broker restart: the producer state is rebuilt from the log,
//! so a retry of a batch appended before the restart gets its first offset back.

mod common;

use bytes::Bytes;
use common::{create_topic, fetch_from_start, produce_one, producer_batch, Client, TestBroker};
use kafka_protocol::messages::*;
use kafka_protocol::records::Compression;

const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;

async fn create(c: &mut Client, topic: &str) {
    assert_eq!(create_topic(c, topic, 1).await.topics[0].error_code, 0);
}

async fn producer_id(c: &mut Client) -> (i64, i16) {
    let r = c
        .call(
            4,
            &InitProducerIdRequest::default().with_transactional_id(None),
        )
        .await;
    (r.producer_id.0, r.producer_epoch)
}

/// Produces one batch with acks=-1: (error code, base offset).
async fn produce(c: &mut Client, topic: &str, records: &Bytes) -> (i16, i64) {
    produce_one(c, None, topic, records).await
}

async fn high_watermark(c: &mut Client, topic: &str) -> i64 {
    let r = fetch_from_start(c, 12, topic, 0).await;
    r.responses[0].partitions[0].high_watermark
}

async fn restart(
    broker: TestBroker,
    tweak: impl FnOnce(&mut kafkars_broker::BrokerConfig),
) -> TestBroker {
    let dir = broker.stop_keep_dir().await;
    TestBroker::start_with(|cfg| {
        tweak(cfg);
        cfg.data_dir = dir.path().to_path_buf();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_restart_gets_its_first_offset_back() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create(&mut c, "idem-restart").await;
    let (id, epoch) = producer_id(&mut c).await;
    let first = producer_batch(&["a", "b"], Compression::None, id, epoch, 0);
    let second = producer_batch(&["c"], Compression::None, id, epoch, 2);
    assert_eq!(produce(&mut c, "idem-restart", &first).await, (0, 0));
    assert_eq!(produce(&mut c, "idem-restart", &second).await, (0, 2));
    drop(c);

    let broker = restart(broker, |_| {}).await;
    let mut c = broker.client().await;
    // Retries of both batches (their responses lost to the restart) are not appended again.
    assert_eq!(produce(&mut c, "idem-restart", &second).await, (0, 2));
    assert_eq!(produce(&mut c, "idem-restart", &first).await, (0, 0));
    assert_eq!(high_watermark(&mut c, "idem-restart").await, 3);
    // The sequence carries on where the log left it: a gap is refused, the next one appended.
    let gap = producer_batch(&["x"], Compression::None, id, epoch, 5);
    assert_eq!(
        produce(&mut c, "idem-restart", &gap).await.0,
        OUT_OF_ORDER_SEQUENCE_NUMBER
    );
    let third = producer_batch(&["d"], Compression::None, id, epoch, 3);
    assert_eq!(produce(&mut c, "idem-restart", &third).await, (0, 3));
    assert_eq!(high_watermark(&mut c, "idem-restart").await, 4);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_of_a_batch_in_the_previous_segment_is_recognised() {
    // Every batch rolls a new segment, so the retried batch is in the one before the active.
    let tiny_segments = |cfg: &mut kafkars_broker::BrokerConfig| cfg.log.segment_bytes = 100;
    let broker = TestBroker::start_with(tiny_segments).await;
    let mut c = broker.client().await;
    create(&mut c, "idem-roll").await;
    let (id, epoch) = producer_id(&mut c).await;
    let batches: Vec<Bytes> = (0..3)
        .map(|i| producer_batch(&["v"], Compression::None, id, epoch, i))
        .collect();
    for (i, b) in batches.iter().enumerate() {
        assert_eq!(produce(&mut c, "idem-roll", b).await, (0, i as i64));
    }
    drop(c);

    let broker = restart(broker, tiny_segments).await;
    let mut c = broker.client().await;
    assert_eq!(produce(&mut c, "idem-roll", &batches[1]).await, (0, 1));
    assert_eq!(produce(&mut c, "idem-roll", &batches[2]).await, (0, 2));
    assert_eq!(high_watermark(&mut c, "idem-roll").await, 3);
    broker.stop().await;
}
