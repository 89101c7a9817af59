//! Property test: valid requests with random bytes flipped, truncated or extended never panic
//! the broker; each either gets a response or is refused.

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use common::{batch, name, request_frame};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use kafkars_broker::{BrokerConfig, Server, SharedState};
use proptest::prelude::*;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    state: SharedState,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = BrokerConfig {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            ..BrokerConfig::default()
        };
        let state = runtime.block_on(async {
            let server = Server::bind(config).await.unwrap();
            let state = server.state();
            state.topics.create("fz", 2).unwrap();
            // Shutting down makes long-polls return at once; the state still serves requests.
            state.shutdown.cancel();
            state
        });
        Fixture {
            runtime,
            state,
            _dir: dir,
        }
    })
}

/// Valid request frames (without the size prefix) for the non-group APIs.
fn seeds() -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut push = |f: Bytes| out.push(f.slice(4..));
    push(request_frame(
        1,
        9,
        &ProduceRequest::default()
            .with_acks(1)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(name("fz"))
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(1)
                    .with_records(Some(batch(&["p", "q"], Compression::None)))])]),
    ));
    push(request_frame(
        1,
        12,
        &FetchRequest::default()
            .with_max_wait_ms(100)
            .with_topics(vec![FetchTopic::default()
                .with_topic(name("fz"))
                .with_partitions(vec![
                    FetchPartition::default().with_partition_max_bytes(1000)
                ])]),
    ));
    push(request_frame(
        1,
        7,
        &ListOffsetsRequest::default().with_topics(vec![ListOffsetsTopic::default()
            .with_name(name("fz"))
            .with_partitions(vec![ListOffsetsPartition::default().with_timestamp(-1)])]),
    ));
    push(request_frame(
        1,
        12,
        &MetadataRequest::default().with_topics(None),
    ));
    push(request_frame(1, 3, &ApiVersionsRequest::default()));
    push(request_frame(
        1,
        7,
        &CreateTopicsRequest::default()
            .with_validate_only(true)
            .with_topics(vec![CreatableTopic::default()
                .with_name(name("fz2"))
                .with_num_partitions(2)]),
    ));
    push(request_frame(
        1,
        4,
        &DeleteTopicsRequest::default().with_topic_names(vec![name("nope")]),
    ));
    // Transactions: the coordinator's requests, a read_committed fetch, a legacy Produce.
    let tid = || TransactionalId(StrBytes::from_static_str("fz-tx"));
    push(request_frame(
        1,
        4,
        &InitProducerIdRequest::default()
            .with_transactional_id(Some(tid()))
            .with_transaction_timeout_ms(60_000),
    ));
    push(request_frame(
        1,
        3,
        &AddPartitionsToTxnRequest::default()
            .with_v3_and_below_transactional_id(tid())
            .with_v3_and_below_topics(vec![
                add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
                    .with_name(name("fz"))
                    .with_partitions(vec![0, 1]),
            ]),
    ));
    push(request_frame(
        1,
        3,
        &TxnOffsetCommitRequest::default()
            .with_transactional_id(tid())
            .with_group_id(GroupId(StrBytes::from_static_str("fz-g")))
            .with_topics(vec![
                txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                    .with_name(name("fz"))
                    .with_partitions(vec![
                        txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                            .with_committed_offset(1),
                    ]),
            ]),
    ));
    push(request_frame(
        1,
        3,
        &EndTxnRequest::default()
            .with_transactional_id(tid())
            .with_committed(true),
    ));
    push(request_frame(
        1,
        11,
        &FetchRequest::default()
            .with_isolation_level(1)
            .with_topics(vec![FetchTopic::default()
                .with_topic(name("fz"))
                .with_partitions(vec![
                    FetchPartition::default().with_partition_max_bytes(1000)
                ])]),
    ));
    let records = batch(&["old"], Compression::None);
    let mut legacy = vec![0u8, 0, 0, 2, 0, 0, 0, 1, 0, 1, b'x'];
    legacy.extend_from_slice(&1i16.to_be_bytes()); // acks
    legacy.extend_from_slice(&5000i32.to_be_bytes());
    legacy.extend_from_slice(&1i32.to_be_bytes());
    legacy.extend_from_slice(&2i16.to_be_bytes());
    legacy.extend_from_slice(b"fz");
    legacy.extend_from_slice(&1i32.to_be_bytes());
    legacy.extend_from_slice(&0i32.to_be_bytes());
    legacy.extend_from_slice(&(records.len() as i32).to_be_bytes());
    legacy.extend_from_slice(&records);
    out.push(Bytes::from(legacy));
    out
}

fn seed_frames() -> &'static [Bytes] {
    static S: OnceLock<Vec<Bytes>> = OnceLock::new();
    S.get_or_init(seeds)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn mutated_requests_never_panic(
        seed in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        tail in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let f = fixture();
        let seeds = seed_frames();
        let mut frame = seeds[seed.index(seeds.len())].to_vec();
        for (at, byte) in flips {
            let i = at.index(frame.len());
            // Keep the API key: mutations explore bodies, not the unknown-key path.
            if i >= 2 {
                frame[i] = byte;
            }
        }
        if truncate {
            frame.truncate(cut.index(frame.len()).max(2));
        }
        frame.extend_from_slice(&tail);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let state = f.state.clone();
        let outcome = f.runtime.block_on(async move {
            let task = tokio::spawn(async move {
                let _ = kafkars_broker::api::handle_frame(&state, peer, Bytes::from(frame)).await;
            });
            tokio::time::timeout(Duration::from_secs(10), task).await
        });
        let joined = outcome.expect("handled in time");
        prop_assert!(joined.is_ok(), "handler panicked");
    }
}
