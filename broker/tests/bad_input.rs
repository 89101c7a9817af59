//! Hostile and broken input over a raw socket: the connection is closed, the broker keeps
//! serving the next client, nothing panics.

mod common;

use bytes::{BufMut, BytesMut};
use common::{Client, TestBroker};
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse, MetadataRequest};

async fn still_serves(broker: &TestBroker) {
    let mut c = broker.client().await;
    let resp = c.call(3, &ApiVersionsRequest::default()).await;
    assert_eq!(resp.error_code, 0);
    assert!(!resp.api_keys.is_empty());
}

/// Sends each frame on a fresh connection: the broker must close every one of them, and
/// then still serve the next client.
async fn drops_each_then_serves(broker: &TestBroker, frames: &[Vec<u8>]) {
    for (i, frame) in frames.iter().enumerate() {
        let mut c = broker.client().await;
        c.send_raw(frame).await;
        assert!(c.closed_by_broker().await, "case {i}");
    }
    still_serves(broker).await;
}

/// A request frame with an arbitrary header and body.
fn raw_frame(api_key: i16, version: i16, body: &[u8]) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_i32((8 + 2 + body.len()) as i32);
    b.put_i16(api_key);
    b.put_i16(version);
    b.put_i32(7);
    b.put_i16(-1); // null client id
    b.put_slice(body);
    b.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_frame_closes_the_connection() {
    let broker = TestBroker::start().await;
    drops_each_then_serves(&broker, &[(1024 * 1024 + 1i32).to_be_bytes().to_vec()]).await;
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_size_closes_the_connection() {
    let broker = TestBroker::start().await;
    drops_each_then_serves(&broker, &[(-5i32).to_be_bytes().to_vec()]).await;
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_key_and_unsupported_version_close_the_connection() {
    let broker = TestBroker::start().await;
    let frames: Vec<Vec<u8>> = [(9999i16, 0i16), (-1, 0), (57, 0), (3, 99), (0, 200)]
        .into_iter()
        .map(|(key, version)| raw_frame(key, version, &[0; 16]))
        .collect();
    drops_each_then_serves(&broker, &frames).await;
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_and_garbage_bodies_close_the_connection() {
    let broker = TestBroker::start().await;
    let cases: Vec<Vec<u8>> = vec![
        vec![0, 0, 0, 3, 0, 3, 0],                         // shorter than a header
        raw_frame(3, 1, &[0, 0, 0, 5, 0, 3]),              // metadata: 5 topics, 1 half name
        raw_frame(0, 7, &[0xff; 40]),                      // produce: garbage
        raw_frame(1, 11, &[0x12, 0x34]),                   // fetch: truncated
        raw_frame(19, 2, &[0, 0, 0, 1, 0x7f, 0xff, b'a']), // create topics: string past end
        raw_frame(3, 9, &[0xff, 0xff, 0xff, 0xff, 0x0f]),  // flexible header: bad varint
    ];
    drops_each_then_serves(&broker, &cases).await;
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_element_counts_close_the_connection() {
    let broker = TestBroker::start().await;
    let mut cases: Vec<Vec<u8>> = Vec::new();
    // Metadata v1: topics array of i32::MAX elements, then nothing.
    cases.push(raw_frame(3, 1, &i32::MAX.to_be_bytes()));
    // Produce v7: null transactional id, acks, timeout, topic_data count i32::MAX.
    let mut p = BytesMut::new();
    p.put_i16(-1);
    p.put_i16(1);
    p.put_i32(1000);
    p.put_i32(i32::MAX);
    cases.push(raw_frame(0, 7, &p));
    // Fetch v4: replica, max wait, min bytes, max bytes, isolation, topics count i32::MAX.
    let mut f = BytesMut::new();
    f.put_i32(-1);
    f.put_i32(100);
    f.put_i32(1);
    f.put_i32(1 << 20);
    f.put_i8(0);
    f.put_i32(i32::MAX);
    cases.push(raw_frame(1, 4, &f));
    // Metadata v9 (flexible header): compact array with a varint count near u32::MAX.
    let mut m = BytesMut::new();
    m.put_u8(0); // header tagged fields
    m.put_slice(&[0xfe, 0xff, 0xff, 0xff, 0x0f]);
    cases.push(raw_frame(3, 9, &m));
    drops_each_then_serves(&broker, &cases).await;
    broker.stop().await;
}

/// Also runs the broker on a current-thread runtime.
#[tokio::test]
async fn too_new_api_versions_gets_a_v0_answer_with_error_35() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    let (correlation, frame) = c.frame(3, &ApiVersionsRequest::default());
    // Rewrite the version to 99: the header and body stay v3-shaped, which the broker must not
    // try to parse.
    let mut frame = frame.to_vec();
    frame[6..8].copy_from_slice(&99i16.to_be_bytes());
    c.send_raw(&frame).await;
    let resp = c.read_frame().await.expect("answer");
    let (got, body) = Client::decode::<ApiVersionsRequest>(0, resp);
    assert_eq!(got, correlation);
    assert_eq!(body.error_code, 35);
    let av = body
        .api_keys
        .iter()
        .find(|k| k.api_key == 18)
        .expect("ApiVersions listed");
    assert!(av.max_version >= 3);
    // The connection stays usable.
    let meta = c.call(1, &MetadataRequest::default()).await;
    assert_eq!(meta.brokers.len(), 1);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_versions_v3_has_no_tagged_fields_and_produce_from_v0() {
    let broker = TestBroker::start().await;
    let mut c = broker.client().await;
    let (_, frame) = c.frame(3, &ApiVersionsRequest::default());
    c.send_raw(&frame).await;
    let resp = c.read_frame().await.unwrap();
    // header v0 = correlation id only; body: error, compact array, entries each ending with an
    // empty tag buffer, throttle, and a final empty tag buffer.
    let body = &resp[4..];
    let n = body[2] as usize - 1;
    assert_eq!(
        body.len(),
        2 + 1 + n * 7 + 4 + 1,
        "no tagged fields anywhere"
    );
    assert_eq!(*body.last().unwrap(), 0);
    let (_, parsed) = Client::decode::<ApiVersionsRequest>(3, resp.clone());
    let produce = parsed.api_keys.iter().find(|k| k.api_key == 0).unwrap();
    assert_eq!(produce.min_version, 0);
    let _: &ApiVersionsResponse = &parsed;
    broker.stop().await;
}
