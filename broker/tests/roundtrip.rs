//! Round trips with kafka-protocol's own request types over a raw socket.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{batch, create_topic, name, producer_batch, Client, TestBroker};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, RecordBatchDecoder};
use uuid::Uuid;

fn produce_req(topic: &str, partition: i32, records: Bytes, acks: i16) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records))])])
}

fn fetch_req(topic: &str, id: Uuid, partition: i32, offset: i64, max_wait_ms: i32) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(name(topic))
            .with_topic_id(id)
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1 << 20)])])
}

fn fetch_req_for(
    version: i16,
    topic: &str,
    id: Uuid,
    partition: i32,
    offset: i64,
    wait: i32,
) -> FetchRequest {
    let mut req = fetch_req(topic, id, partition, offset, wait);
    for t in &mut req.topics {
        if version >= 13 {
            t.topic = TopicName::default();
        } else {
            t.topic_id = Uuid::nil();
        }
    }
    req
}

fn values(records: &Option<Bytes>) -> Vec<(i64, String)> {
    let mut buf = records.clone().unwrap_or_default();
    RecordBatchDecoder::decode_all(&mut buf)
        .unwrap()
        .into_iter()
        .flat_map(|set| set.records)
        .map(|r| {
            (
                r.offset,
                String::from_utf8(r.value.unwrap().to_vec()).unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_then_fetch_across_versions() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    let created = create_topic(&mut c, "rt", 2).await;
    assert_eq!(created.topics[0].error_code, 0);
    let id = created.topics[0].topic_id;
    assert!(!id.is_nil());

    let r = c
        .call(
            9,
            &produce_req("rt", 0, batch(&["a", "b", "c"], Compression::None), 1),
        )
        .await;
    let p = &r.responses[0].partition_responses[0];
    assert_eq!((p.error_code, p.base_offset, p.log_start_offset), (0, 0, 0));
    let r = c
        .call(
            7,
            &produce_req("rt", 0, batch(&["d", "e"], Compression::Gzip), -1),
        )
        .await;
    assert_eq!(r.responses[0].partition_responses[0].base_offset, 3);

    let want: Vec<(i64, String)> = ["a", "b", "c", "d", "e"]
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64, v.to_string()))
        .collect();
    for version in [4i16, 7, 11, 12, 13, 16] {
        let resp = c
            .call(version, &fetch_req_for(version, "rt", id, 0, 0, 0))
            .await;
        let part = &resp.responses[0].partitions[0];
        assert_eq!(part.error_code, 0, "v{version}");
        assert_eq!(part.high_watermark, 5, "v{version}");
        assert_eq!(values(&part.records), want, "v{version}");
        if version >= 13 {
            assert_eq!(resp.responses[0].topic_id, id);
        }
    }
    // An offset inside a batch returns that whole batch.
    let resp = c.call(12, &fetch_req_for(12, "rt", id, 0, 4, 0)).await;
    let got = values(&resp.responses[0].partitions[0].records);
    assert_eq!(
        got[0].0, 3,
        "{got:?} {:?}",
        resp.responses[0].partitions[0].records
    );
    // Past the end: OFFSET_OUT_OF_RANGE; at the end: empty, non-null.
    let resp = c.call(12, &fetch_req_for(12, "rt", id, 0, 100, 0)).await;
    assert_eq!(resp.responses[0].partitions[0].error_code, 1);
    let resp = c.call(11, &fetch_req_for(11, "rt", id, 0, 5, 0)).await;
    assert_eq!(
        resp.responses[0].partitions[0].records.as_deref(),
        Some(&b""[..])
    );
    // Unknown partition / topic.
    let r = c
        .call(
            9,
            &produce_req("rt", 7, batch(&["x"], Compression::None), 1),
        )
        .await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, 3);
    let resp = c.call(12, &fetch_req_for(12, "nope", id, 0, 0, 0)).await;
    assert_eq!(resp.responses[0].partitions[0].error_code, 3);
    let resp = c
        .call(13, &fetch_req_for(13, "", Uuid::from_u128(77), 0, 0, 0))
        .await;
    assert_eq!(resp.responses[0].partitions[0].error_code, 100);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_errors() {
    let broker = TestBroker::start_with(|c| c.log.max_message_bytes = 2000).await;
    let mut c = broker.client().await;
    create_topic(&mut c, "pe", 1).await;
    let r = c
        .call(
            9,
            &produce_req("pe", 0, batch(&["a"], Compression::None), 2),
        )
        .await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code, 21,
        "INVALID_REQUIRED_ACKS"
    );
    let mut bad = batch(&["a"], Compression::None).to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    let r = c.call(9, &produce_req("pe", 0, Bytes::from(bad), 1)).await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code, 2,
        "CORRUPT_MESSAGE"
    );
    let big = "x".repeat(5000);
    let r = c
        .call(
            9,
            &produce_req("pe", 0, batch(&[&big], Compression::None), 1),
        )
        .await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code, 10,
        "MESSAGE_TOO_LARGE"
    );
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_waits_and_wakes_on_produce() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create_topic(&mut c, "lp", 1).await;
    // Nothing to read: the fetch waits about max_wait_ms.
    let start = Instant::now();
    let resp = c.call(12, &fetch_req("lp", Uuid::nil(), 0, 0, 300)).await;
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert_eq!(
        resp.responses[0].partitions[0].records.as_deref(),
        Some(&b""[..])
    );
    // A produce on another connection wakes a long poll at once.
    let mut waiter = broker.client().await;
    let mut fetch = tokio::spawn(async move {
        let start = Instant::now();
        let resp = waiter
            .call(12, &fetch_req("lp", Uuid::nil(), 0, 0, 20_000))
            .await;
        (start.elapsed(), resp)
    });
    // It is really waiting (nothing to read yet)…
    assert!(tokio::time::timeout(Duration::from_millis(200), &mut fetch)
        .await
        .is_err());
    c.call(
        9,
        &produce_req("lp", 0, batch(&["wake"], Compression::None), 1),
    )
    .await;
    let (elapsed, resp) = tokio::time::timeout(Duration::from_secs(10), fetch)
        .await
        .unwrap()
        .unwrap();
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(
        values(&resp.responses[0].partitions[0].records),
        vec![(0, "wake".to_string())]
    );
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_zero_gets_no_response_and_pipelined_answers_stay_in_order() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create_topic(&mut c, "ord", 1).await;
    let (_, f1) = c.frame(
        9,
        &produce_req("ord", 0, batch(&["silent"], Compression::None), 0),
    );
    let (c2, f2) = c.frame(1, &MetadataRequest::default().with_topics(None));
    let (c3, f3) = c.frame(
        9,
        &produce_req("ord", 0, batch(&["loud"], Compression::None), 1),
    );
    let (c4, f4) = c.frame(3, &ApiVersionsRequest::default());
    let mut all = Vec::new();
    for f in [f1, f2, f3, f4] {
        all.extend_from_slice(&f);
    }
    c.send_raw(&all).await;
    let (got2, meta) = Client::decode::<MetadataRequest>(1, c.read_frame().await.unwrap());
    assert_eq!(got2, c2);
    assert_eq!(meta.topics.len(), 1);
    let (got3, prod) = Client::decode::<ProduceRequest>(9, c.read_frame().await.unwrap());
    assert_eq!(got3, c3);
    assert_eq!(
        prod.responses[0].partition_responses[0].base_offset, 1,
        "acks=0 batch was stored"
    );
    let (got4, _) = Client::decode::<ApiVersionsRequest>(3, c.read_frame().await.unwrap());
    assert_eq!(got4, c4);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_administration() {
    let broker = TestBroker::start_with(|c| c.num_partitions = 3).await;
    let mut c = broker.client().await;
    assert_eq!(create_topic(&mut c, "adm", 2).await.topics[0].error_code, 0);
    assert_eq!(
        create_topic(&mut c, "adm", 2).await.topics[0].error_code,
        36
    );
    assert_eq!(
        create_topic(&mut c, "bad name", 1).await.topics[0].error_code,
        17
    );
    assert_eq!(
        create_topic(&mut c, "zero", 0).await.topics[0].error_code,
        37
    );
    let rf3 = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(name("rf"))
        .with_num_partitions(1)
        .with_replication_factor(3)]);
    assert_eq!(c.call(7, &rf3).await.topics[0].error_code, 38);
    let dflt = CreateTopicsRequest::default()
        .with_validate_only(true)
        .with_topics(vec![CreatableTopic::default()
            .with_name(name("dflt"))
            .with_num_partitions(-1)
            .with_replication_factor(-1)]);
    let r = c.call(7, &dflt).await;
    assert_eq!((r.topics[0].error_code, r.topics[0].num_partitions), (0, 3));

    let all = c
        .call(12, &MetadataRequest::default().with_topics(None))
        .await;
    let names: Vec<_> = all
        .topics
        .iter()
        .map(|t| t.name.as_ref().unwrap().0.to_string())
        .collect();
    assert_eq!(names, vec!["adm"], "validate-only created nothing");
    assert_eq!(all.topics[0].partitions.len(), 2);

    let grow = CreatePartitionsRequest::default().with_topics(vec![
        kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic::default()
            .with_name(name("adm"))
            .with_count(4),
    ]);
    assert_eq!(c.call(3, &grow).await.results[0].error_code, 0);
    assert_eq!(c.call(3, &grow).await.results[0].error_code, 37);

    // Auto-creation by Metadata, honouring the request flag.
    let ask = |allow| {
        MetadataRequest::default()
            .with_allow_auto_topic_creation(allow)
            .with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(name("auto")))
            ]))
    };
    assert_eq!(c.call(12, &ask(false)).await.topics[0].error_code, 3);
    let made = c.call(12, &ask(true)).await;
    assert_eq!(
        (made.topics[0].error_code, made.topics[0].partitions.len()),
        (0, 3)
    );

    let del = DeleteTopicsRequest::default().with_topic_names(vec![name("adm"), name("missing")]);
    let r = c.call(5, &del).await;
    assert_eq!(r.responses[0].error_code, 0);
    assert_eq!(r.responses[1].error_code, 3);
    let del = DeleteTopicsRequest::default().with_topics(vec![
        kafka_protocol::messages::delete_topics_request::DeleteTopicState::default()
            .with_topic_id(made.topics[0].topic_id),
    ]);
    assert_eq!(c.call(6, &del).await.responses[0].error_code, 0);
    let all = c
        .call(12, &MetadataRequest::default().with_topics(None))
        .await;
    assert!(all.topics.is_empty());
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_offsets_and_restart_keep_offsets() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create_topic(&mut c, "lo", 1).await;
    c.call(
        9,
        &produce_req("lo", 0, batch(&["a", "b"], Compression::None), 1),
    )
    .await;
    c.call(
        9,
        &produce_req("lo", 0, batch(&["c"], Compression::None), 1),
    )
    .await;
    let ask = |ts: i64| {
        ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(name("lo"))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_timestamp(ts)])])
    };
    for version in [1i16, 4, 7] {
        let latest = c.call(version, &ask(-1)).await;
        assert_eq!(latest.topics[0].partitions[0].offset, 3, "v{version}");
        let earliest = c.call(version, &ask(-2)).await;
        assert_eq!(earliest.topics[0].partitions[0].offset, 0, "v{version}");
    }
    let by_time = c.call(7, &ask(1_700_000_000_000)).await;
    assert_eq!(by_time.topics[0].partitions[0].offset, 0);
    let dir = broker.stop_keep_dir().await;

    // Same data directory, new broker: same offsets, same topic id.
    let broker2 = TestBroker::start_with(|cfg| cfg.data_dir = dir.path().to_path_buf()).await;
    let mut c = broker2.client().await;
    let latest = c.call(7, &ask(-1)).await;
    assert_eq!(latest.topics[0].partitions[0].offset, 3);
    broker2.stop().await;
}

/// Every advertised API at every version the crate can encode gets an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_advertised_version_answers() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create_topic(&mut c, "sweep", 1).await;
    c.call(
        9,
        &produce_req("sweep", 0, batch(&["a"], Compression::None), 1),
    )
    .await;
    for &(key, min, max) in kafkars_broker::api::SUPPORTED {
        for v in min.max(key.valid_versions().min)..=max {
            match key {
                ApiKey::Produce => drop(
                    c.call(
                        v,
                        &produce_req("sweep", 0, batch(&["s"], Compression::None), 1),
                    )
                    .await,
                ),
                ApiKey::Fetch => drop(
                    c.call(v, &fetch_req_for(v, "sweep", Uuid::nil(), 0, 0, 0))
                        .await,
                ),
                ApiKey::ListOffsets => drop(
                    c.call(
                        v,
                        &ListOffsetsRequest::default().with_topics(vec![
                            ListOffsetsTopic::default()
                                .with_name(name("sweep"))
                                .with_partitions(vec![
                                    ListOffsetsPartition::default().with_timestamp(-1)
                                ]),
                        ]),
                    )
                    .await,
                ),
                ApiKey::Metadata => {
                    let r = c
                        .call(v, &MetadataRequest::default().with_topics(None))
                        .await;
                    assert_eq!(r.topics.len(), 1, "metadata v{v}");
                }
                ApiKey::ApiVersions => drop(c.call(v, &ApiVersionsRequest::default()).await),
                ApiKey::CreateTopics => drop(create_topic(&mut c, &format!("sweep{v}"), 1).await),
                ApiKey::DeleteTopics => drop(
                    c.call(
                        v,
                        &DeleteTopicsRequest::default().with_topic_names(vec![name("sweep-none")]),
                    )
                    .await,
                ),
                ApiKey::InitProducerId => {
                    let r = c
                        .call(
                            v,
                            &InitProducerIdRequest::default().with_transactional_id(None),
                        )
                        .await;
                    assert!(r.producer_id.0 >= 0);
                }
                ApiKey::DescribeConfigs => {
                    let req = DescribeConfigsRequest::default().with_resources(vec![
                        kafka_protocol::messages::describe_configs_request::DescribeConfigsResource::default()
                            .with_resource_type(2)
                            .with_resource_name(StrBytes::from_static_str("sweep")),
                    ]);
                    let r = c.call(v, &req).await;
                    assert!(!r.results[0].configs.is_empty());
                }
                ApiKey::CreatePartitions => {
                    drop(c.call(v, &CreatePartitionsRequest::default()).await)
                }
                ApiKey::DescribeCluster => {
                    drop(c.call(v, &DescribeClusterRequest::default()).await)
                }
                ApiKey::AlterConfigs => drop(c.call(v, &AlterConfigsRequest::default()).await),
                ApiKey::IncrementalAlterConfigs => {
                    drop(c.call(v, &IncrementalAlterConfigsRequest::default()).await)
                }
                _ => {} // group APIs: covered by the group coordinator's tests
            }
        }
    }
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_configs_are_validated_described_and_kept() {
    use kafka_protocol::messages::create_topics_request::CreatableTopicConfig;
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    let with_config = |topic: &str, k: &'static str, v: &'static str| {
        CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
            .with_name(name(topic))
            .with_num_partitions(1)
            .with_replication_factor(1)
            .with_configs(vec![CreatableTopicConfig::default()
                .with_name(StrBytes::from_static_str(k))
                .with_value(Some(StrBytes::from_static_str(v)))])])
    };
    let bad = c
        .call(7, &with_config("bad", "cleanup.policy", "compact"))
        .await;
    assert_eq!(bad.topics[0].error_code, 40, "INVALID_CONFIG");
    let bad = c.call(7, &with_config("bad", "no.such.setting", "1")).await;
    assert_eq!(bad.topics[0].error_code, 40, "INVALID_CONFIG");
    let ok = c
        .call(7, &with_config("cfg", "retention.ms", "60000"))
        .await;
    assert_eq!(ok.topics[0].error_code, 0);
    let listed = ok.topics[0].configs.as_ref().unwrap();
    assert!(listed
        .iter()
        .any(|e| e.name.as_str() == "retention.ms" && e.config_source == 1));

    let describe =
        DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_static_str("cfg"))
            .with_configuration_keys(None)]);
    let check = |r: &DescribeConfigsResponse| {
        let entries = &r.results[0].configs;
        let retention = entries
            .iter()
            .find(|e| e.name.as_str() == "retention.ms")
            .unwrap();
        assert_eq!(retention.value.as_deref(), Some("60000"));
        assert_eq!(retention.config_source, 1);
        let policy = entries
            .iter()
            .find(|e| e.name.as_str() == "cleanup.policy")
            .unwrap();
        assert_eq!(policy.config_source, 5);
    };
    check(&c.call(4, &describe).await);
    let dir = broker.stop_keep_dir().await;
    let broker = TestBroker::start_with(|cfg| cfg.data_dir = dir.path().to_path_buf()).await;
    let mut c = broker.client().await;
    check(&c.call(4, &describe).await);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_a_waiting_fetch_and_stops() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create_topic(&mut c, "sd", 1).await;
    let mut fetch = tokio::spawn(async move {
        let resp = c
            .call(12, &fetch_req("sd", Uuid::nil(), 0, 0, 30_000))
            .await;
        (c, resp)
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut fetch)
            .await
            .is_err(),
        "fetch is waiting"
    );
    let start = Instant::now();
    broker.shutdown.cancel();
    let (mut c, resp) = tokio::time::timeout(Duration::from_secs(5), fetch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.responses[0].partitions[0].error_code, 0);
    assert!(c.closed_by_broker().await);
    tokio::time::timeout(Duration::from_secs(5), broker.task)
        .await
        .unwrap()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_wait_their_turn() {
    let broker = TestBroker::start_with(|c| c.max_connections = 2).await;
    let mut a = broker.client().await;
    let mut b = broker.client().await;
    a.call(3, &ApiVersionsRequest::default()).await;
    b.call(3, &ApiVersionsRequest::default()).await;
    let mut third = broker.client().await; // the kernel accepts; the broker does not serve it yet
    let (_, frame) = third.frame(3, &ApiVersionsRequest::default());
    third.send_raw(&frame).await;
    let mut pending = tokio::spawn(async move { third.read_frame().await });
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut pending)
            .await
            .is_err()
    );
    drop(a);
    let answered = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap();
    assert!(answered.is_some());
    drop(b);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_alter_configs_changes_a_live_topic() {
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    use kafka_protocol::messages::incremental_alter_configs_request::{
        AlterConfigsResource, AlterableConfig,
    };
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create_topic(&mut c, "alt", 2).await;
    c.call(
        9,
        &produce_req("alt", 1, batch(&["before"], Compression::None), 1),
    )
    .await;
    let alter = |op: i8, k: &'static str, v: Option<&'static str>| {
        IncrementalAlterConfigsRequest::default().with_resources(vec![
            AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(StrBytes::from_static_str("alt"))
                .with_configs(vec![AlterableConfig::default()
                    .with_name(StrBytes::from_static_str(k))
                    .with_config_operation(op)
                    .with_value(v.map(StrBytes::from_static_str))]),
        ])
    };
    let retention = |r: DescribeConfigsResponse| {
        let e = r.results[0]
            .configs
            .iter()
            .find(|e| e.name.as_str() == "retention.ms")
            .unwrap()
            .clone();
        (e.value.unwrap().to_string(), e.config_source)
    };
    let describe =
        DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_static_str("alt"))
            .with_configuration_keys(None)]);

    let r = c.call(1, &alter(0, "retention.ms", Some("123456"))).await;
    assert_eq!(r.responses[0].error_code, 0);
    assert_eq!(
        retention(c.call(4, &describe).await),
        ("123456".to_string(), 1)
    );
    let r = c
        .call(1, &alter(0, "cleanup.policy", Some("compact")))
        .await;
    assert_eq!(r.responses[0].error_code, 40);
    // The logs were reopened: old data readable, new appends continue the offsets.
    let p = c
        .call(
            9,
            &produce_req("alt", 1, batch(&["after"], Compression::None), 1),
        )
        .await;
    assert_eq!(p.responses[0].partition_responses[0].base_offset, 1);
    let f = c.call(12, &fetch_req("alt", Uuid::nil(), 1, 0, 0)).await;
    assert_eq!(values(&f.responses[0].partitions[0].records).len(), 2);

    let dir = broker.stop_keep_dir().await;
    let broker = TestBroker::start_with(|cfg| cfg.data_dir = dir.path().to_path_buf()).await;
    let mut c = broker.client().await;
    assert_eq!(
        retention(c.call(4, &describe).await),
        ("123456".to_string(), 1)
    );
    let r = c.call(1, &alter(1, "retention.ms", None)).await;
    assert_eq!(r.responses[0].error_code, 0);
    assert_eq!(retention(c.call(4, &describe).await).1, 5);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_idempotent_batch_is_not_appended_twice() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    create_topic(&mut c, "idem", 1).await;
    let pid = c
        .call(
            4,
            &InitProducerIdRequest::default().with_transactional_id(None),
        )
        .await;
    let (id, epoch) = (pid.producer_id.0, pid.producer_epoch);
    let first = producer_batch(&["a", "b"], Compression::None, id, epoch, 0);
    let second = producer_batch(&["c"], Compression::None, id, epoch, 2);
    let base = |r: ProduceResponse| r.responses[0].partition_responses[0].base_offset;
    assert_eq!(
        base(c.call(9, &produce_req("idem", 0, first.clone(), -1)).await),
        0
    );
    assert_eq!(
        base(c.call(9, &produce_req("idem", 0, second.clone(), -1)).await),
        2
    );
    // Retries of both (e.g. after a lost response) get their first offsets back.
    assert_eq!(base(c.call(9, &produce_req("idem", 0, first, -1)).await), 0);
    assert_eq!(
        base(c.call(9, &produce_req("idem", 0, second, -1)).await),
        2
    );
    let f = c.call(12, &fetch_req("idem", Uuid::nil(), 0, 0, 0)).await;
    assert_eq!(f.responses[0].partitions[0].high_watermark, 3);
    assert_eq!(values(&f.responses[0].partitions[0].records).len(), 3);
    // Non-idempotent batches are never matched.
    let plain = batch(&["x"], Compression::None);
    assert_eq!(
        base(c.call(9, &produce_req("idem", 0, plain.clone(), 1)).await),
        3
    );
    assert_eq!(base(c.call(9, &produce_req("idem", 0, plain, 1)).await), 4);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_acks_zero_produce_closes_the_connection() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    let (_, frame) = c.frame(
        9,
        &produce_req("no-such-topic", 0, batch(&["x"], Compression::None), 0),
    );
    c.send_raw(&frame).await;
    assert!(c.closed_by_broker().await);
    broker.stop().await;
}
