//! A broker started in-process on 127.0.0.1:0, and a raw-socket Kafka client for tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    CreateTopicsRequest, CreateTopicsResponse, FetchRequest, FetchResponse, ProduceRequest,
    RequestHeader, ResponseHeader, TopicName, TransactionalId,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use kafkars_broker::{BrokerConfig, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Every test step is bounded by this.
pub const STEP: Duration = Duration::from_secs(10);

pub struct TestBroker {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
    pub dir: tempfile::TempDir,
}

impl TestBroker {
    pub async fn start() -> TestBroker {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut BrokerConfig)) -> TestBroker {
        let dir = tempfile::tempdir().unwrap();
        let mut config = BrokerConfig {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            socket_request_max_bytes: 1024 * 1024,
            ..BrokerConfig::default()
        };
        tweak(&mut config);
        let server = Server::bind(config).await.unwrap();
        let addr = server.local_addr();
        let shutdown = server.shutdown_token();
        let task = tokio::spawn(server.run());
        TestBroker {
            addr,
            shutdown,
            task,
            dir,
        }
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    pub async fn stop(self) {
        self.stop_keep_dir().await;
    }

    /// Stops the broker and hands back its data directory (for restart tests).
    pub async fn stop_keep_dir(self) -> tempfile::TempDir {
        self.shutdown.cancel();
        tokio::time::timeout(STEP, self.task)
            .await
            .unwrap()
            .unwrap();
        self.dir
    }
}

pub struct Client {
    pub stream: TcpStream,
    next_correlation: i32,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = tokio::time::timeout(STEP, TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
        Client {
            stream,
            next_correlation: 1,
        }
    }

    /// Encodes a request frame (size prefix included) with the next correlation id.
    pub fn frame<R: Request>(&mut self, version: i16, req: &R) -> (i32, Bytes) {
        let correlation = self.next_correlation;
        self.next_correlation += 1;
        (correlation, request_frame(correlation, version, req))
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads one response frame; `None` if the broker closed the connection.
    pub async fn read_frame(&mut self) -> Option<Bytes> {
        let mut size = [0u8; 4];
        match tokio::time::timeout(STEP, self.stream.read_exact(&mut size))
            .await
            .expect("response in time")
        {
            Ok(_) => {}
            Err(_) => return None,
        }
        let size = i32::from_be_bytes(size) as usize;
        let mut body = vec![0u8; size];
        tokio::time::timeout(STEP, self.stream.read_exact(&mut body))
            .await
            .unwrap()
            .ok()?;
        Some(Bytes::from(body))
    }

    /// Decodes a response frame of request type `R`.
    pub fn decode<R: Request>(version: i16, mut frame: Bytes) -> (i32, R::Response) {
        let header =
            ResponseHeader::decode(&mut frame, R::Response::header_version(version)).unwrap();
        let body = R::Response::decode(&mut frame, version).unwrap();
        assert!(!frame.has_remaining(), "trailing bytes in response");
        (header.correlation_id, body)
    }

    /// Sends a request and reads its response.
    pub async fn call<R: Request>(&mut self, version: i16, req: &R) -> R::Response {
        let (correlation, frame) = self.frame(version, req);
        self.send_raw(&frame).await;
        let resp = self.read_frame().await.expect("broker answered");
        let (got, body) = Self::decode::<R>(version, resp);
        assert_eq!(got, correlation);
        body
    }

    /// True once the broker has closed this connection (EOF or reset), within [`STEP`].
    pub async fn closed_by_broker(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(STEP, self.stream.read(&mut buf)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
            }
        }
    }
}

/// A request frame (size prefix included).
pub fn request_frame<R: Request>(correlation: i32, version: i16, req: &R) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str("raw-test")))
        .encode(&mut buf, R::header_version(version))
        .unwrap();
    req.encode(&mut buf, version).unwrap();
    let size = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    buf.freeze()
}

/// One v2 batch of the given values.
pub fn batch(values: &[&str], compression: Compression) -> Bytes {
    producer_batch(values, compression, -1, -1, 0)
}

/// One v2 batch from an (idempotent) producer: id, epoch, base sequence.
pub fn producer_batch(
    values: &[&str],
    compression: Compression,
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
) -> Bytes {
    encode_batch(
        values,
        compression,
        producer_id,
        epoch,
        base_sequence,
        false,
    )
}

/// One uncompressed transactional v2 batch: producer id, epoch, base sequence.
pub fn txn_batch(values: &[&str], producer_id: i64, epoch: i16, base_sequence: i32) -> Bytes {
    encode_batch(
        values,
        Compression::None,
        producer_id,
        epoch,
        base_sequence,
        true,
    )
}

fn encode_batch(
    values: &[&str],
    compression: Compression,
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
    transactional: bool,
) -> Bytes {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id,
            producer_epoch: epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: base_sequence + i as i32, // offset - sequence constant: one batch
            timestamp: 1_700_000_000_000 + i as i64,
            key: None,
            value: Some(Bytes::copy_from_slice(v.as_bytes())),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression,
        },
    )
    .unwrap();
    buf.freeze()
}

/// A topic name for a request.
pub fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.into()))
}

/// Creates `topic` with `partitions` partitions and returns the broker's answer.
pub async fn create_topic(c: &mut Client, topic: &str, partitions: i32) -> CreateTopicsResponse {
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(5000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(name(topic))
            .with_num_partitions(partitions)
            .with_replication_factor(1)]);
    c.call(7, &req).await
}

/// Produces one batch to partition 0 with acks=-1, in the transaction `transactional_id` if
/// given: (error code, base offset).
pub async fn produce_one(
    c: &mut Client,
    transactional_id: Option<&str>,
    topic: &str,
    records: &Bytes,
) -> (i16, i64) {
    let req = ProduceRequest::default()
        .with_transactional_id(
            transactional_id.map(|id| TransactionalId(StrBytes::from_string(id.into()))),
        )
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(records.clone()))])]);
    let r = c.call(9, &req).await;
    let p = &r.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

/// Fetches partition 0 of `topic` from offset 0 at `version` without waiting (up to 1 MiB),
/// with `isolation` (0 read_uncommitted, 1 read_committed).
pub async fn fetch_from_start(
    c: &mut Client,
    version: i16,
    topic: &str,
    isolation: i8,
) -> FetchResponse {
    let req = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_isolation_level(isolation)
        .with_topics(vec![FetchTopic::default()
            .with_topic(name(topic))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1 << 20)])]);
    c.call(version, &req).await
}
