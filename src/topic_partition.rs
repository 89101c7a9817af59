//! `TopicPartition`: a partition of a topic with an offset and an error, as in php-rdkafka.

use crate::error::ErrorCode;

/// Logical offset: the beginning of the partition (`RD_KAFKA_OFFSET_BEGINNING`).
pub const OFFSET_BEGINNING: i64 = -2;
/// Logical offset: the end of the partition (`RD_KAFKA_OFFSET_END`).
pub const OFFSET_END: i64 = -1;
/// Logical offset: the committed offset (`RD_KAFKA_OFFSET_STORED`).
pub const OFFSET_STORED: i64 = -1000;
/// Logical offset: invalid / not set (`RD_KAFKA_OFFSET_INVALID`).
pub const OFFSET_INVALID: i64 = -1001;
/// Base of tail offsets (`RD_KAFKA_OFFSET_TAIL_BASE`).
pub const OFFSET_TAIL_BASE: i64 = -2000;
/// The unassigned partition (`RD_KAFKA_PARTITION_UA`).
pub const PARTITION_UA: i32 = -1;

/// `rd_kafka_offset_tail(n)`: `n` messages before the end.
pub fn offset_tail(n: i64) -> i64 {
    OFFSET_TAIL_BASE - n
}

/// A topic partition with offset, error and metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicPartition {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset (absolute or logical).
    pub offset: i64,
    /// Error for this partition.
    pub err: ErrorCode,
    /// Commit metadata.
    pub metadata: Option<String>,
}

impl TopicPartition {
    /// A partition with an offset.
    pub fn new(topic: impl Into<String>, partition: i32, offset: i64) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
            offset,
            err: ErrorCode::NO_ERROR,
            metadata: None,
        }
    }
}
