use std::fs::OpenOptions;
use std::io::Write;

use super::*;
use crate::group::offset_log::{decode_frames, encode_frame};

fn commit(group: &str, topic: &str, partition: i32, offset: i64) -> OffsetOp {
    OffsetOp::Commit {
        group: group.into(),
        tp: TopicPartition::new(topic, partition),
        offset: CommittedOffset {
            offset,
            leader_epoch: -1,
            metadata: format!("m{offset}"),
            commit_timestamp_ms: 7,
        },
    }
}

fn log_path(dir: &Path) -> std::path::PathBuf {
    dir.join("offsets.log")
}

#[tokio::test]
async fn commits_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
        store
            .apply(vec![commit("g", "t", 0, 5), commit("g", "t", 1, 9)])
            .await
            .unwrap();
        store.apply(vec![commit("g", "t", 0, 6)]).await.unwrap();
        store.apply(vec![commit("h", "u", 0, 1)]).await.unwrap();
        assert_eq!(
            store.get("g", &TopicPartition::new("t", 0)).unwrap().offset,
            6
        );
    }
    let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
    let g = store.group_offsets("g");
    assert_eq!(g.len(), 2);
    assert_eq!((g[0].1.offset, g[0].1.metadata.as_str()), (6, "m6"));
    assert_eq!(g[1].1.offset, 9);
    let mut groups = store.groups();
    groups.sort();
    assert_eq!(groups, vec!["g".to_string(), "h".to_string()]);
}

#[tokio::test]
async fn deletes_of_partitions_groups_and_topics_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
        store
            .apply(vec![
                commit("g", "t", 0, 1),
                commit("g", "t", 1, 2),
                commit("g", "gone", 0, 3),
                commit("h", "t", 0, 4),
            ])
            .await
            .unwrap();
        store
            .apply(vec![OffsetOp::Delete {
                group: "g".into(),
                tp: TopicPartition::new("t", 1),
            }])
            .await
            .unwrap();
        store
            .apply(vec![OffsetOp::DeleteTopic {
                topic: "gone".into(),
            }])
            .await
            .unwrap();
        store
            .apply(vec![OffsetOp::DeleteGroup { group: "h".into() }])
            .await
            .unwrap();
    }
    let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
    let g = store.group_offsets("g");
    assert_eq!(
        g.iter().map(|(tp, _)| tp.clone()).collect::<Vec<_>>(),
        vec![TopicPartition::new("t", 0)]
    );
    assert!(!store.has_group("h"));
}

#[tokio::test]
async fn a_torn_tail_is_cut_off_and_earlier_commits_survive() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
        store.apply(vec![commit("g", "t", 0, 10)]).await.unwrap();
    }
    let good_len = std::fs::metadata(log_path(dir.path())).unwrap().len();
    // Simulate a crash in the middle of the next write: half a frame.
    let mut frame = Vec::new();
    encode_frame(
        &[commit("g", "t", 0, 11), commit("g", "t", 1, 11)],
        &mut frame,
    );
    let mut f = OpenOptions::new()
        .append(true)
        .open(log_path(dir.path()))
        .unwrap();
    f.write_all(&frame[..frame.len() / 2]).unwrap();
    drop(f);
    {
        let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
        assert_eq!(
            store.get("g", &TopicPartition::new("t", 0)).unwrap().offset,
            10
        );
        assert!(
            store.get("g", &TopicPartition::new("t", 1)).is_none(),
            "the torn frame applies not at all"
        );
        assert_eq!(
            std::fs::metadata(log_path(dir.path())).unwrap().len(),
            good_len,
            "tail truncated"
        );
        // Appends after the repair land after the good data and are read back.
        store.apply(vec![commit("g", "t", 1, 12)]).await.unwrap();
    }
    let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
    assert_eq!(
        store.get("g", &TopicPartition::new("t", 1)).unwrap().offset,
        12
    );
}

#[tokio::test]
async fn a_corrupt_frame_ends_replay() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
        store.apply(vec![commit("g", "t", 0, 1)]).await.unwrap();
        store.apply(vec![commit("g", "t", 0, 2)]).await.unwrap();
    }
    let mut data = std::fs::read(log_path(dir.path())).unwrap();
    let last = data.len() - 1;
    data[last] ^= 0xff;
    std::fs::write(log_path(dir.path()), &data).unwrap();
    let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
    assert_eq!(
        store.get("g", &TopicPartition::new("t", 0)).unwrap().offset,
        1
    );
}

#[tokio::test]
async fn compaction_keeps_only_live_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let options = OffsetStoreOptions {
        compact_min_bytes: 4096,
        queue_capacity: 16,
    };
    {
        let store = OffsetStore::open(dir.path(), options.clone()).unwrap();
        for i in 0..500 {
            store
                .apply(vec![commit("g", "t", i % 3, i64::from(i))])
                .await
                .unwrap();
        }
    }
    let size = std::fs::metadata(log_path(dir.path())).unwrap().len();
    assert!(size < 8192, "the log was compacted (size {size})");
    let store = OffsetStore::open(dir.path(), options).unwrap();
    let g = store.group_offsets("g");
    assert_eq!(
        g.iter().map(|(_, o)| o.offset).collect::<Vec<_>>(),
        vec![498, 499, 497]
    );
}

#[tokio::test]
async fn concurrent_commits_share_syncs_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), OffsetStoreOptions::default()).unwrap();
    let mut tasks = Vec::new();
    for p in 0..32 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.apply(vec![commit("g", "t", p, 100 + i64::from(p))]).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(store.group_offsets("g").len(), 32);
}

#[test]
fn decoding_garbage_never_panics() {
    let mut frame = Vec::new();
    encode_frame(&[commit("g", "t", 0, 1)], &mut frame);
    for cut in 0..frame.len() {
        let (frames, good) = decode_frames(&frame[..cut]);
        assert!(frames.is_empty() && good == 0);
    }
    let (frames, good) = decode_frames(&frame);
    assert_eq!((frames.len(), good), (1, frame.len()));
    // A huge claimed length or an op count the payload cannot hold is refused.
    assert_eq!(decode_frames(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]).1, 0);
    let mut lying = Vec::new();
    encode_frame(&[], &mut lying);
    lying[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(decode_frames(&lying).1, 0);
}

mod props {
    use proptest::prelude::*;

    use super::*;

    fn op() -> impl Strategy<Value = OffsetOp> {
        let name = "[a-zA-Z0-9._-]{0,20}";
        prop_oneof![
            (
                name,
                name,
                any::<i32>(),
                any::<i64>(),
                any::<i32>(),
                any::<i64>(),
                ".{0,40}"
            )
                .prop_map(
                    |(
                        group,
                        topic,
                        partition,
                        offset,
                        leader_epoch,
                        commit_timestamp_ms,
                        metadata,
                    )| OffsetOp::Commit {
                        group,
                        tp: TopicPartition { topic, partition },
                        offset: CommittedOffset {
                            offset,
                            leader_epoch,
                            metadata,
                            commit_timestamp_ms
                        },
                    }
                ),
            (name, name, any::<i32>()).prop_map(|(group, topic, partition)| OffsetOp::Delete {
                group,
                tp: TopicPartition { topic, partition }
            }),
            name.prop_map(|group| OffsetOp::DeleteGroup { group }),
            name.prop_map(|topic| OffsetOp::DeleteTopic { topic }),
        ]
    }

    proptest! {
        #[test]
        fn frames_round_trip(frames in proptest::collection::vec(proptest::collection::vec(op(), 0..8), 0..8)) {
            let mut buf = Vec::new();
            for ops in &frames {
                encode_frame(ops, &mut buf);
            }
            let (decoded, good) = decode_frames(&buf);
            prop_assert_eq!(good, buf.len());
            prop_assert_eq!(decoded, frames);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let (_, good) = decode_frames(&data);
            prop_assert!(good <= data.len());
        }
    }
}
