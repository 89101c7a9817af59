use bytes::Bytes;

use super::*;
use crate::group::member::ClientInfo;

fn config() -> GroupConfig {
    GroupConfig {
        initial_rebalance_delay: Duration::ZERO,
        ..GroupConfig::default()
    }
}

fn params(member: &MemberId) -> JoinParams {
    JoinParams {
        member_id: member.clone(),
        group_instance_id: None,
        session_timeout: Duration::from_secs(10),
        rebalance_timeout: Duration::from_secs(10),
        protocol_type: "consumer".into(),
        protocols: vec![("range".into(), Bytes::from_static(b"m"))],
        client: ClientInfo {
            client_id: "cli".into(),
            client_host: "/127.0.0.1".into(),
        },
        version: 5,
    }
}

async fn join_and_sync(c: &GroupCoordinator, group: &str) -> (MemberId, i32) {
    let first = c.join(group, params(&MemberId::default())).await;
    assert_eq!(first.error, Some(GroupError::MemberIdRequired));
    let joined = c.join(group, params(&first.member_id)).await;
    assert_eq!(joined.error, None);
    let sync = c
        .sync(
            group,
            SyncParams {
                generation_id: joined.generation_id,
                member_id: joined.member_id.clone(),
                assignments: vec![(joined.member_id.clone(), Bytes::from_static(b"x"))],
                ..Default::default()
            },
        )
        .await;
    assert_eq!(sync.error, None);
    assert_eq!(sync.assignment, Bytes::from_static(b"x"));
    (joined.member_id, joined.generation_id)
}

#[tokio::test]
async fn session_timeout_outside_the_configured_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = GroupCoordinator::open(dir.path(), config()).unwrap();
    let mut p = params(&MemberId::default());
    p.session_timeout = Duration::from_millis(100);
    let r = c.join("g", p).await;
    assert_eq!(r.error.map(GroupError::code), Some(26));
}

#[tokio::test]
async fn offsets_commit_fetch_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let tp0 = TopicPartition::new("t", 0);
    let tp1 = TopicPartition::new("t", 1);
    {
        let c = GroupCoordinator::open(dir.path(), config()).unwrap();
        let (member, generation) = join_and_sync(&c, "g").await;
        let res = c
            .commit_offsets(
                "g",
                generation,
                &member,
                None,
                vec![(tp0.clone(), 42, 3, Some("meta".into()))],
                |_| true,
            )
            .await
            .unwrap();
        assert_eq!(res, vec![(tp0.clone(), None)]);
        let stale = c
            .commit_offsets(
                "g",
                generation + 1,
                &member,
                None,
                vec![(tp0.clone(), 1, -1, None)],
                |_| true,
            )
            .await;
        assert!(matches!(stale, Err(GroupError::IllegalGeneration { .. })));
        let fetched = c.fetch_offsets("g", Some(&[tp0.clone(), tp1.clone()]));
        let o = fetched[0].1.clone().unwrap();
        assert_eq!(
            (o.offset, o.leader_epoch, o.metadata.as_str()),
            (42, 3, "meta")
        );
        assert!(fetched[1].1.is_none(), "never committed");
        assert_eq!(c.delete_group("g").await, Err(GroupError::NonEmptyGroup));
    }
    let c = GroupCoordinator::open(dir.path(), config()).unwrap();
    assert_eq!(c.fetch_offsets("g", None)[0].1.as_ref().unwrap().offset, 42);
    let listed = c.list(&[]);
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].group_id.as_str(), listed[0].state),
        ("g", GroupState::Empty)
    );
    assert_eq!(c.describe("g").unwrap().state, GroupState::Empty);
}

#[tokio::test]
async fn assign_users_commit_outside_a_generation() {
    let dir = tempfile::tempdir().unwrap();
    let c = GroupCoordinator::open(dir.path(), config()).unwrap();
    let tp = TopicPartition::new("t", 0);
    let res = c
        .commit_offsets(
            "manual",
            -1,
            &MemberId::default(),
            None,
            vec![(tp.clone(), 7, -1, None)],
            |_| true,
        )
        .await
        .unwrap();
    assert_eq!(res, vec![(tp.clone(), None)]);
    assert_eq!(
        c.fetch_offsets("manual", Some(std::slice::from_ref(&tp)))[0]
            .1
            .as_ref()
            .unwrap()
            .metadata,
        ""
    );
    let unknown = c
        .commit_offsets(
            "manual",
            -1,
            &MemberId::default(),
            None,
            vec![(TopicPartition::new("nope", 0), 1, -1, None)],
            |tp| tp.topic == "t",
        )
        .await
        .unwrap();
    assert_eq!(unknown[0].1, Some(GroupError::UnknownTopicOrPartition));
    let big = "x".repeat(5000);
    let too_large = c
        .commit_offsets(
            "manual",
            -1,
            &MemberId::default(),
            None,
            vec![(tp.clone(), 1, -1, Some(big))],
            |_| true,
        )
        .await
        .unwrap();
    assert!(matches!(
        too_large[0].1,
        Some(GroupError::OffsetMetadataTooLarge { .. })
    ));
}

#[tokio::test]
async fn delete_group_and_topic_drop_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let c = GroupCoordinator::open(dir.path(), config()).unwrap();
    let none = MemberId::default();
    let a = TopicPartition::new("a", 0);
    let b = TopicPartition::new("b", 0);
    c.commit_offsets(
        "g1",
        -1,
        &none,
        None,
        vec![(a.clone(), 1, -1, None), (b.clone(), 2, -1, None)],
        |_| true,
    )
    .await
    .unwrap();
    c.commit_offsets(
        "g2",
        -1,
        &none,
        None,
        vec![(a.clone(), 3, -1, None)],
        |_| true,
    )
    .await
    .unwrap();
    c.on_topic_deleted("a").await.unwrap();
    assert!(c.fetch_offsets("g1", Some(std::slice::from_ref(&a)))[0]
        .1
        .is_none());
    assert_eq!(
        c.fetch_offsets("g1", Some(std::slice::from_ref(&b)))[0]
            .1
            .as_ref()
            .unwrap()
            .offset,
        2
    );
    c.tick(Instant::now());
    assert!(
        c.describe("g2").is_none(),
        "a group without members or offsets goes away"
    );
    c.delete_group("g1").await.unwrap();
    assert!(c.fetch_offsets("g1", None).is_empty());
    assert_eq!(c.delete_group("g1").await, Err(GroupError::GroupIdNotFound));
    let deleted = c.delete_offsets("nope", vec![a]).await;
    assert_eq!(deleted, Err(GroupError::GroupIdNotFound));
}

#[tokio::test]
async fn two_concurrent_joiners_land_in_one_generation() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GroupConfig {
        initial_rebalance_delay: Duration::from_millis(200),
        ..GroupConfig::default()
    };
    let c = GroupCoordinator::open(dir.path(), cfg).unwrap();
    let first_a = c.join("g", params(&MemberId::default())).await;
    let first_b = c.join("g", params(&MemberId::default())).await;
    let (ra, rb) = tokio::time::timeout(Duration::from_secs(5), async {
        tokio::join!(
            c.join("g", params(&first_a.member_id)),
            c.join("g", params(&first_b.member_id))
        )
    })
    .await
    .expect("the timer completes the rebalance after the initial delay");
    assert_eq!((ra.generation_id, rb.generation_id), (1, 1));
    assert_eq!(ra.leader_id, rb.leader_id);
}

#[tokio::test]
async fn offsets_of_long_empty_groups_expire() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GroupConfig {
        offsets_retention: Duration::from_secs(60),
        offsets_retention_check: Duration::ZERO,
        ..config()
    };
    let c = GroupCoordinator::open(dir.path(), cfg).unwrap();
    let tp = TopicPartition::new("t", 0);
    c.commit_offsets(
        "old",
        -1,
        &MemberId::default(),
        None,
        vec![(tp.clone(), 1, -1, None)],
        |_| true,
    )
    .await
    .unwrap();
    let (_member, _generation) = join_and_sync(&c, "busy").await;
    let wall = wall_clock_ms();
    let now = Instant::now();
    let groups = c.lock();
    assert!(
        c.expired_offsets(&groups, now, wall).is_empty(),
        "just committed, just seen empty"
    );
    let later = now + Duration::from_secs(61);
    assert!(
        c.expired_offsets(&groups, later, wall + 30_000).is_empty(),
        "empty for only 30 s"
    );
    let expired = c.expired_offsets(&groups, later + Duration::from_secs(61), wall + 61_000);
    assert_eq!(
        expired,
        vec![OffsetOp::Delete {
            group: "old".into(),
            tp
        }]
    );
}
