use std::sync::atomic::{AtomicI64, Ordering};

use super::*;
use crate::group::GroupConfig;
use crate::log::batch::test_support::batch;
use crate::log::control::TRANSACTIONAL;
use crate::log::LogConfig;

struct World {
    dir: tempfile::TempDir,
    topics: TopicRegistry,
    groups: Arc<GroupCoordinator>,
    txns: TransactionCoordinator,
}

static NEXT_PID: AtomicI64 = AtomicI64::new(1000);

fn allocate() -> i64 {
    NEXT_PID.fetch_add(1, Ordering::Relaxed)
}

fn open_world(dir: tempfile::TempDir) -> World {
    let topics = TopicRegistry::open(dir.path(), LogConfig::default()).unwrap();
    if topics.get("t").is_none() {
        topics.create("t", 1).unwrap();
    }
    let groups = GroupCoordinator::open(dir.path(), GroupConfig::default()).unwrap();
    let txns = TransactionCoordinator::open(dir.path(), 900_000, 7 * 24 * 3600 * 1000).unwrap();
    World {
        dir,
        topics,
        groups,
        txns,
    }
}

/// A transactional batch of one record, appended as Produce does: (its offset).
fn produce(w: &World, pid: i64, epoch: i16) -> Result<i64, TxnError> {
    let p = w.topics.get("t").unwrap().partition(0).unwrap();
    w.txns
        .with_produce(pid, epoch, "t", 0, || append_txn_batch(&p, pid, epoch))
}

fn append_txn_batch(p: &crate::topics::Partition, pid: i64, epoch: i16) -> i64 {
    let mut b = batch(&[b"v"], 1_700_000_000_000);
    b[21..23].copy_from_slice(&TRANSACTIONAL.to_be_bytes());
    b[43..51].copy_from_slice(&pid.to_be_bytes());
    b[51..53].copy_from_slice(&epoch.to_be_bytes());
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    let mut log = p.log();
    let info = log.as_mut().unwrap().append(&mut b, 0).unwrap();
    p.producers().begin_txn(pid, info.base_offset);
    info.base_offset
}

/// (high watermark, last stable offset, aborted transactions) of t-0.
fn partition_view(w: &World) -> (i64, i64, Vec<(i64, i64)>) {
    let p = w.topics.get("t").unwrap().partition(0).unwrap();
    let log = p.log();
    let log = log.as_ref().unwrap();
    let hw = log.log_end_offset();
    let lso = p.producers().last_stable_offset(hw);
    (hw, lso, log.txn_index().collect(0, hw))
}

fn state_of(w: &World, id: &str) -> (TxnState, i16) {
    let e = w.txns.entry(id).unwrap();
    let e = lock(&e);
    (e.meta.state, e.meta.epoch)
}

#[tokio::test]
async fn a_timed_out_transaction_is_aborted_and_its_producer_fenced() {
    let w = open_world(tempfile::tempdir().unwrap());
    let (pid, epoch) = w
        .txns
        .init_producer_id(&w.topics, "a", 1000, (-1, -1), allocate)
        .unwrap();
    assert_eq!(produce(&w, pid, epoch), Err(TxnError::InvalidTxnState));
    w.txns
        .add_partitions(&w.topics, "a", pid, epoch, &[("t".into(), 0)], false)
        .unwrap();
    assert_eq!(produce(&w, pid, epoch), Ok(0));
    assert_eq!(partition_view(&w), (1, 0, vec![]));
    // Not yet timed out.
    let now = crate::state::now_ms();
    w.txns.tick(&w.topics, &w.groups, now, allocate).await;
    assert_eq!(state_of(&w, "a"), (TxnState::Ongoing, 0));
    w.txns
        .tick(&w.topics, &w.groups, now + 5000, allocate)
        .await;
    assert_eq!(state_of(&w, "a"), (TxnState::CompleteAbort, 1));
    assert_eq!(partition_view(&w), (2, 2, vec![(pid, 0)]));
    assert_eq!(produce(&w, pid, epoch), Err(TxnError::InvalidProducerEpoch));
    assert_eq!(
        w.txns
            .end_txn(&w.topics, &w.groups, "a", pid, epoch, true)
            .await,
        Err(TxnError::ProducerFenced)
    );
}

#[tokio::test]
async fn a_commit_cut_short_by_a_crash_is_finished_after_reopening() {
    let w = open_world(tempfile::tempdir().unwrap());
    let (pid, epoch) = w
        .txns
        .init_producer_id(&w.topics, "c", 60_000, (-1, -1), allocate)
        .unwrap();
    w.txns
        .add_partitions(&w.topics, "c", pid, epoch, &[("t".into(), 0)], false)
        .unwrap();
    w.txns.add_offsets("c", pid, epoch, "g").unwrap();
    let offset = PendingOffset {
        group: "g".into(),
        topic: "t".into(),
        partition: 0,
        offset: 42,
        leader_epoch: -1,
        metadata: String::new(),
    };
    w.txns
        .txn_offset_commit("c", pid, epoch, vec![offset])
        .unwrap();
    assert!(w.txns.has_pending_offset("g", "t", 0));
    assert_eq!(produce(&w, pid, epoch), Ok(0));
    // The crash: PrepareCommit is stored, no marker written yet.
    let mut prepared = {
        let e = w.txns.entry("c").unwrap();
        let mut m = lock(&e).meta.clone();
        m.state = TxnState::PrepareCommit;
        m
    };
    w.txns.persist(&mut prepared).unwrap();
    let World { dir, .. } = w;
    let w = open_world(dir);
    assert_eq!(
        partition_view(&w),
        (1, 0, vec![]),
        "still open after the restart"
    );
    assert_eq!(state_of(&w, "c").0, TxnState::PrepareCommit);
    w.txns
        .tick(&w.topics, &w.groups, crate::state::now_ms(), allocate)
        .await;
    assert_eq!(state_of(&w, "c").0, TxnState::CompleteCommit);
    assert_eq!(partition_view(&w), (2, 2, vec![]));
    let fetched = w
        .groups
        .fetch_offsets("g", Some(&[TopicPartition::new("t", 0)]));
    assert_eq!(fetched[0].1.as_ref().map(|o| o.offset), Some(42));
    assert!(!w.txns.has_pending_offset("g", "t", 0));
    // Finishing again (another restart) writes nothing twice.
    let World { dir, .. } = w;
    let w = open_world(dir);
    w.txns
        .tick(&w.topics, &w.groups, crate::state::now_ms(), allocate)
        .await;
    assert_eq!(partition_view(&w), (2, 2, vec![]));
}

#[tokio::test]
async fn a_transaction_no_state_owns_is_aborted_after_start() {
    let w = open_world(tempfile::tempdir().unwrap());
    let p = w.topics.get("t").unwrap().partition(0).unwrap();
    append_txn_batch(&p, 77, 3);
    let World { dir, .. } = w;
    let w = open_world(dir);
    assert_eq!(partition_view(&w), (1, 0, vec![]), "rebuilt from the log");
    w.txns
        .tick(&w.topics, &w.groups, crate::state::now_ms(), allocate)
        .await;
    assert_eq!(partition_view(&w), (2, 2, vec![(77, 0)]));
}

#[tokio::test]
async fn init_aborts_an_open_transaction_and_checks_its_inputs() {
    let w = open_world(tempfile::tempdir().unwrap());
    let (pid, e0) = w
        .txns
        .init_producer_id(&w.topics, "i", 60_000, (-1, -1), allocate)
        .unwrap();
    w.txns
        .add_partitions(&w.topics, "i", pid, e0, &[("t".into(), 0)], false)
        .unwrap();
    produce(&w, pid, e0).unwrap();
    let (pid2, e1) = w
        .txns
        .init_producer_id(&w.topics, "i", 60_000, (-1, -1), allocate)
        .unwrap();
    assert_eq!((pid2, e1), (pid, e0 + 1));
    assert_eq!(partition_view(&w), (2, 2, vec![(pid, 0)]));
    assert_eq!(
        w.txns
            .init_producer_id(&w.topics, "i", 60_000, (pid, e0), allocate),
        Err(TxnError::ProducerFenced)
    );
    assert_eq!(
        w.txns
            .init_producer_id(&w.topics, "i", 0, (-1, -1), allocate),
        Err(TxnError::InvalidTransactionTimeout)
    );
    assert_eq!(
        w.txns
            .init_producer_id(&w.topics, "", 1000, (-1, -1), allocate),
        Err(TxnError::InvalidTransactionalId)
    );
    assert_eq!(
        w.txns
            .add_partitions(&w.topics, "i", pid, e1, &[("nope".into(), 0)], false),
        Err(TxnError::UnknownTopicOrPartition)
    );
    assert_eq!(
        w.txns.add_offsets("unknown", pid, e1, "g"),
        Err(TxnError::InvalidProducerIdMapping)
    );
}

#[tokio::test]
async fn idle_ids_expire_and_stay_forgotten_after_reopening() {
    let w = open_world(tempfile::tempdir().unwrap());
    let (pid, epoch) = w
        .txns
        .init_producer_id(&w.topics, "old", 60_000, (-1, -1), allocate)
        .unwrap();
    w.txns
        .init_producer_id(&w.topics, "busy", 60_000, (-1, -1), allocate)
        .unwrap();
    let now = crate::state::now_ms();
    let week = 7 * 24 * 3600 * 1000;
    w.txns.tick(&w.topics, &w.groups, now, allocate).await;
    assert!(w.txns.entry("old").is_some());
    w.txns
        .tick(&w.topics, &w.groups, now + week + 1000, allocate)
        .await;
    assert!(w.txns.entry("old").is_none() && w.txns.entry("busy").is_none());
    assert_eq!(
        w.txns.add_offsets("old", pid, epoch, "g"),
        Err(TxnError::InvalidProducerIdMapping)
    );
    let World { dir, .. } = w;
    let w = open_world(dir);
    assert!(w.txns.entry("old").is_none(), "the tombstone is replayed");
}
