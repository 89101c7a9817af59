//! # kafkars broker
//!
//! A single-node broker that speaks the Kafka wire protocol, storing partitions the way Kafka
//! does.
//!
//! # Layout
//! - `config` — `server.properties` names and flags → [`BrokerConfig`].
//! - `server` — listener, connection limit, log maintenance, graceful shutdown.
//! - `connection` — one task per client: size-capped framing, responses in request order,
//!   `sendfile` for record bytes.
//! - `api/` — one module per Kafka API key; `api/mod.rs` decodes headers and dispatches.
//! - `state` — [`BrokerState`], what every handler shares (config, node identity, topics,
//!   clock, topic-deletion hooks).
//! - `producer_state` — recent idempotent batches per partition (retries are not appended
//!   twice).
//! - `topic_config` — topic-level settings (`retention.ms` …) and their file.
//! - `topics` — the topic registry: names, ids, partitions, per-partition log + notifier.
//! - `log/` — storage: partition → segments (.log, .index, .timeindex), recovery, retention.
//! - `group/` — the consumer group coordinator.
//! - `framed_log` — an append-only file of CRC-checked frames, replayed on start (under the
//!   group offsets log and the transaction-state file).
//! - `txn/` — the transaction coordinator (KIP-98) and its state file.
//! - `alloc` — the process allocator that keeps hostile element counts from aborting.
//!
//! A request's path: `server` accepts → `connection::serve` reads a frame →
//! `api::handle_frame` decodes the header → `api::<name>::handle` (using `topics` and `log`)
//! → the response goes back through `connection::write_parts`.

pub mod alloc;
pub mod api;
pub mod config;
pub mod connection;
pub mod framed_log;
pub mod group;
pub mod log;
pub mod producer_state;
pub mod server;
pub mod state;
pub mod topic_config;
pub mod topics;
pub mod txn;

/// Large wire-claimed capacities must not abort the broker; see [`alloc`].
#[global_allocator]
static GLOBAL: alloc::GuardedAlloc = alloc::GuardedAlloc;

pub use config::{BrokerConfig, ConfigError};
pub use server::{Server, ServerError};
pub use state::{now_ms, BrokerState, SharedState};
