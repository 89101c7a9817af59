//! Transactions (KIP-98): the coordinator of transactional ids and its durable state.
//!
//! # Layout
//! - [`coordinator`] — [`TransactionCoordinator`]: InitProducerId with a transactional id,
//!   AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn, the produce-time check,
//!   the timer (timeouts, recovery).
//! - [`state_log`] — the state file `<data>/__transaction_state/txn.log`.
//!
//! The partition side lives elsewhere: which producers have a transaction open on a partition
//! and the last stable offset in `producer_state`, markers and the aborted-transaction index
//! in `log/` (`control`, `txn_index`). A commit: EndTxn → PrepareCommit stored → a COMMIT
//! marker appended to each partition (its open transaction closes, the LSO moves, fetches
//! wake) → the group offsets stored → CompleteCommit stored → answer.
//!
//! # Behaviour worth knowing
//! - State changes are fsynced before the answer, on the request's thread (transactional
//!   requests are few per transaction; the batches themselves are ordinary appends).
//! - A restart finishes transactions left in Prepare*, aborts timed-out ones (measured from
//!   their start, wall clock, so time spent down counts), and aborts transactions open on a
//!   partition that no coordinator state owns.
//! - Partition state is rebuilt from the last two segments (see `producer_state`): a
//!   transaction whose first batch is older than that is not seen as open after a restart.

pub mod coordinator;
pub mod state_log;

pub use coordinator::{PendingOffset, TransactionCoordinator, TxnError, TxnMetadata, TxnState};
