//! # kafkars — the client core
//!
//! A Kafka client with librdkafka's semantics (configuration names and texts, error codes,
//! partitioners, callback points), the engine under the `kafkars.so` PHP extension.
//!
//! # Layout
//! - [`error`]: librdkafka's error codes, names, texts; [`KafkaError`].
//! - [`config`]: `Config`/`TopicConfig` with librdkafka's property table and validation.
//! - [`partitioner`]: consistent_random (default), murmur2, fnv1a and friends.

pub mod admin;
pub mod client;
pub mod cluster;
pub mod config;
pub mod consumer;
pub mod error;
mod error_table;
pub mod event;
pub mod net;
pub mod partitioner;
pub mod producer;
pub mod runtime;
mod stats;
pub mod topic_partition;

pub use admin::{Admin, GroupDescription, GroupListing, GroupMember, PartitionLag};
pub use client::Client;
pub use config::{Config, ConfigError, TopicConfig};
pub use consumer::{Consumer, KafkaConsumer, Message};
pub use error::{ErrorCode, KafkaError};
pub use event::{DeliveryReport, Event};
pub use partitioner::Partitioner;
pub use producer::Producer;
pub use topic_partition::TopicPartition;

/// The librdkafka version whose behaviour this crate follows (`RD_KAFKA_VERSION`).
pub const LIBRDKAFKA_VERSION: i32 = 0x020f_00ff;
/// The same as text (`rd_kafka_version_str()`).
pub const LIBRDKAFKA_VERSION_STR: &str = "2.15.0";
/// kafkars' own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
