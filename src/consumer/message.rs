//! A consumed message (php's `RdKafka\Message`), or a consumer error in message form.

use crate::error::ErrorCode;
use bytes::Bytes;
use std::sync::Arc;

/// A message from a partition, or an error (`err` set, payload holds the error text as
/// librdkafka does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `NO_ERROR`, `_PARTITION_EOF`, or a fetch error.
    pub err: ErrorCode,
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset (for `_PARTITION_EOF`: the end offset).
    pub offset: i64,
    /// Timestamp in ms (-1 when not available).
    pub timestamp: i64,
    /// 0 none, 1 create time, 2 log append time (`RD_KAFKA_TIMESTAMP_*`).
    pub timestamp_type: i32,
    /// Key.
    pub key: Option<Bytes>,
    /// Payload (for errors: the error text).
    pub payload: Option<Bytes>,
    /// Headers in order.
    pub headers: Vec<(String, Option<Bytes>)>,
}

impl Message {
    /// An error in message form for `topic`/`partition`.
    pub fn error(
        topic: Arc<str>,
        partition: i32,
        offset: i64,
        err: ErrorCode,
        text: String,
    ) -> Message {
        Message {
            err,
            topic,
            partition,
            offset,
            timestamp: -1,
            timestamp_type: 0,
            key: None,
            payload: Some(Bytes::from(text)),
            headers: Vec::new(),
        }
    }

    /// Bytes this message holds (for the prefetch bound).
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Bytes::len)
            + self.payload.as_ref().map_or(0, Bytes::len)
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, Bytes::len))
                .sum::<usize>()
            + 64
    }

    /// `Message::errstr()` as php-rdkafka computes it: `rd_kafka_err2str(err)`.
    pub fn errstr(&self) -> String {
        self.err.description()
    }
}
