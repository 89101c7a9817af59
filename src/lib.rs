//! # kafkars — the client core
//!
//! A Kafka client with librdkafka's semantics (configuration names and texts, error codes,
//! partitioners, callback points), the engine under the `kafkars.so` PHP extension. Pure
//! Rust: it builds and tests without PHP headers.
//!
//! # Layout
//! - [`config`]: `Config`/`TopicConfig`, librdkafka's property table, validation, `dump()`.
//! - [`error`]: librdkafka's error codes, names, texts; [`KafkaError`].
//! - [`partitioner`]: consistent_random (default), murmur2, fnv1a and friends.
//! - [`runtime`]: the background tokio runtime, one per process id; the fork guard.
//! - [`net`]: one [`net::Connection`] per broker (framing, correlation, pipelining,
//!   timeouts) and the RecordBatch v2 codec ([`net::records`]).
//! - [`cluster`]: bootstrap, metadata cache, leader routing.
//! - [`client`]: what every instance has (php's `RdKafka`): metadata, watermarks, offsets
//!   for times.
//! - [`producer`]: [`Producer`] → accumulator (per-partition batches) → sender task →
//!   delivery reports; `producer::txn`: transactions (librdkafka's state machine, the
//!   transaction coordinator's requests in `txn/requests.rs`).
//! - [`consumer`]: fetcher (bounded prefetch, decoding off the caller's thread), the
//!   per-partition [`Consumer`], the group-managed [`KafkaConsumer`] (membership task,
//!   assignors, offsets).
//! - [`event`]: what the caller sees at its poll points: delivery reports, errors,
//!   statistics, rebalances, commit results, log lines.
//! - [`log`]: librdkafka-style log lines (level, facility), `log_level`/`debug`
//!   filtering; `stats`: the statistics JSON (`statistics.interval.ms`).
//! - [`admin`]: topics, partitions, groups with lag (for the command line).
//!
//! # Threads
//! The caller's thread (PHP) never blocks on the network except in calls that wait by
//! contract (`flush`, `consume`, metadata queries with a timeout). It shares accumulators and
//! queues with the runtime's tasks through short `std::sync::Mutex` sections; events are
//! handed out only when the caller polls, in order.
//!
//! A produced message: `Producer::produce` (caller) encodes the record into its partition's
//! open batch → the sender task closes the batch (linger/size), compresses it, sends one
//! Produce request per leader → the response becomes delivery reports in the event queue →
//! `Producer::poll_events` / `flush_with` hand them out.

pub mod admin;
pub mod client;
pub mod cluster;
pub mod config;
pub mod consumer;
pub mod error;
mod error_table;
pub mod event;
pub mod log;
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
pub use producer::{ConsumerGroupMetadata, Producer};
pub use topic_partition::TopicPartition;

/// The librdkafka version whose behaviour this crate follows (`RD_KAFKA_VERSION`).
pub const LIBRDKAFKA_VERSION: i32 = 0x020f_00ff;
/// The same as text (`rd_kafka_version_str()`).
pub const LIBRDKAFKA_VERSION_STR: &str = "2.15.0";
/// kafkars' own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
