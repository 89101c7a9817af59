//! Consumers: the background `fetcher` (bounded prefetch, decoding off the caller's
//! thread), the low-level per-partition [`Consumer`], and the group-managed
//! [`KafkaConsumer`] with its membership task (`group`) and [`assignor`]s.

mod aborted;
pub mod assignor;
mod fetcher;
mod group;
mod kafka_consumer;
pub mod message;
pub(crate) mod offsets;
mod simple;

pub use kafka_consumer::KafkaConsumer;
pub use message::Message;
pub use simple::Consumer;
