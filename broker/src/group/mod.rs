//! Consumer groups: the classic group protocol and durable committed offsets.
//!
//! # Layout
//! - [`coordinator`] — [`GroupCoordinator`]: every group of this broker behind one lock, the
//!   async edges (JoinGroup/SyncGroup wait on oneshot channels) and the timer task that drives
//!   session expiry and rebalance deadlines.
//! - [`classic_group`] — [`ClassicGroup`]: the per-group state machine (Empty,
//!   PreparingRebalance, CompletingRebalance, Stable, Dead). Pure: every method takes `now`, so
//!   unit tests drive time by hand.
//! - [`group_state`] — the five states, named as on the wire.
//! - [`member`] — a member's identity, protocols and session, and the values handed back to
//!   waiting JoinGroup/SyncGroup requests.
//! - [`consumer_protocol`] — the bits of the embedded consumer protocol the broker reads.
//! - [`offsets`] — [`OffsetStore`]: committed offsets in memory, made durable by
//!   [`offset_log`], an append-only CRC-checked log replayed on start.
//!
//! A request's path: `api/join_group.rs` turns the wire struct into [`JoinParams`] →
//! [`GroupCoordinator::join`] locks the groups, runs [`ClassicGroup::join`] and either answers
//! at once or returns a receiver the handler awaits → the response is built in `api/`.
//! Nothing in this module knows wire structs.
//!
//! # Behaviour worth knowing
//! - Offsets live in `<data-dir>/__group_offsets/offsets.log` (no `-N` suffix, so the topic
//!   registry never mistakes it for a partition). A commit is answered after `fdatasync`.
//! - After a restart every group with offsets is back, Empty; members are not persisted, so
//!   running consumers get UNKNOWN_MEMBER_ID at their next heartbeat and rejoin.
//! - An empty group's first rebalance waits `group.initial.rebalance.delay.ms` (at least
//!   50 ms), extended by each newcomer up to the rebalance timeout.
//! - Offsets of a group without members expire `offsets.retention` after both the group
//!   became empty and their commit (KIP-211); a deleted topic's offsets go at once.

pub mod classic_group;
pub mod consumer_protocol;
pub mod coordinator;
pub mod error;
pub mod group_state;
pub mod member;
pub mod offset_log;
pub mod offsets;

pub use classic_group::ClassicGroup;
pub use coordinator::{GroupConfig, GroupCoordinator};
pub use error::GroupError;
pub use group_state::GroupState;
pub use member::{JoinParams, JoinResult, MemberId, SyncResult};
pub use offsets::{CommittedOffset, OffsetStore, TopicPartition};
