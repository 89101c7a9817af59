//! # kafkars broker
//!
//! # Layout
//! - `log/` — storage: partition → segments (.log, .index, .timeindex), recovery, retention.
pub mod log;
