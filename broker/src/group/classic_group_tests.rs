use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::group::member::ClientInfo;

const DELAY: Duration = Duration::from_millis(3000);
const SESSION: Duration = Duration::from_secs(10);
const REBALANCE: Duration = Duration::from_secs(30);

fn params(
    member: &MemberId,
    instance: Option<&str>,
    protocols: &[&str],
    version: i16,
) -> JoinParams {
    JoinParams {
        member_id: member.clone(),
        group_instance_id: instance.map(str::to_owned),
        session_timeout: SESSION,
        rebalance_timeout: REBALANCE,
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        client: ClientInfo {
            client_id: "c".into(),
            client_host: "/127.0.0.1".into(),
        },
        version,
    }
}

fn done<T: std::fmt::Debug>(o: Outcome<T>) -> T {
    match o {
        Outcome::Done(t) => t,
        Outcome::Wait(_) => panic!("expected an immediate answer"),
    }
}

fn wait<T>(o: Outcome<T>) -> tokio::sync::oneshot::Receiver<T> {
    match o {
        Outcome::Wait(rx) => rx,
        Outcome::Done(_) => panic!("expected the request to wait"),
    }
}

/// MEMBER_ID_REQUIRED round trip, then a join that waits: returns the member id and receiver.
fn join_new(
    g: &mut ClassicGroup,
    protocols: &[&str],
    now: Instant,
) -> (MemberId, tokio::sync::oneshot::Receiver<JoinResult>) {
    let first = done(g.join(params(&MemberId::default(), None, protocols, 5), now));
    assert_eq!(first.error, Some(GroupError::MemberIdRequired));
    assert!(!first.member_id.is_unknown());
    let rx = wait(g.join(params(&first.member_id, None, protocols, 5), now));
    (first.member_id, rx)
}

fn sync_params(
    generation: i32,
    member: &MemberId,
    assignments: Vec<(MemberId, Bytes)>,
) -> SyncParams {
    SyncParams {
        generation_id: generation,
        member_id: member.clone(),
        assignments,
        ..Default::default()
    }
}

/// Two members joined and synced: (group, leader, follower, now).
fn stable_pair() -> (ClassicGroup, MemberId, MemberId, Instant) {
    let t0 = Instant::now();
    let mut g = ClassicGroup::new("g", DELAY);
    let (a, mut rxa) = join_new(&mut g, &["range"], t0);
    let (b, mut rxb) = join_new(&mut g, &["range"], t0 + Duration::from_millis(100));
    let now = t0 + Duration::from_millis(100) + DELAY;
    g.tick(now);
    let ja = rxa.try_recv().unwrap();
    let jb = rxb.try_recv().unwrap();
    assert_eq!(ja.generation_id, 1);
    assert_eq!(ja.leader_id, a);
    assert_eq!(ja.members.len(), 2, "the leader sees every member");
    assert!(jb.members.is_empty(), "followers see no members");
    let mut rx_b = wait(g.sync(sync_params(1, &b, vec![]), now));
    let assignments = vec![
        (a.clone(), Bytes::from_static(b"A")),
        (b.clone(), Bytes::from_static(b"B")),
    ];
    let mut rx_a = wait(g.sync(sync_params(1, &a, assignments), now));
    assert_eq!(
        rx_a.try_recv().unwrap().assignment,
        Bytes::from_static(b"A")
    );
    assert_eq!(
        rx_b.try_recv().unwrap().assignment,
        Bytes::from_static(b"B")
    );
    assert_eq!(g.state(), GroupState::Stable);
    (g, a, b, now)
}

#[test]
fn join_waits_for_the_initial_delay_then_completes() {
    let t0 = Instant::now();
    let mut g = ClassicGroup::new("g", DELAY);
    let (id, mut rx) = join_new(&mut g, &["range"], t0);
    assert_eq!(g.state(), GroupState::PreparingRebalance);
    let next = g.tick(t0 + Duration::from_millis(2999)).unwrap();
    assert!(rx.try_recv().is_err(), "still within the initial delay");
    assert_eq!(next, t0 + DELAY);
    g.tick(t0 + DELAY);
    let r = rx.try_recv().unwrap();
    assert_eq!(r.error, None);
    assert_eq!(
        (r.generation_id, r.leader_id.clone(), r.member_id.clone()),
        (1, id.clone(), id.clone())
    );
    assert_eq!(r.protocol_name.as_deref(), Some("range"));
    assert_eq!(g.state(), GroupState::CompletingRebalance);
}

#[test]
fn zero_initial_delay_completes_at_once() {
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let (_, mut rx) = join_new(&mut g, &["range"], Instant::now());
    assert_eq!(rx.try_recv().unwrap().generation_id, 1);
}

#[test]
fn sync_hands_every_member_its_assignment() {
    let (g, a, b, _) = stable_pair();
    assert_eq!(g.generation_id(), 1);
    assert!(g.has_member(&a) && g.has_member(&b));
}

#[test]
fn member_left_out_by_the_leader_gets_a_valid_empty_assignment() {
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let t = Instant::now();
    let (a, _rxa) = join_new(&mut g, &["range"], t);
    let mut rx = wait(g.sync(sync_params(1, &a, vec![]), t));
    let r = rx.try_recv().unwrap();
    assert_eq!(
        &r.assignment[..],
        &[0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
    );
}

#[test]
fn heartbeat_errors_follow_the_generation_and_state() {
    let (mut g, a, b, now) = stable_pair();
    assert_eq!(g.heartbeat(1, &a, None, now), Ok(()));
    assert_eq!(
        g.heartbeat(0, &a, None, now),
        Err(GroupError::IllegalGeneration {
            requested: 0,
            current: 1
        })
    );
    assert_eq!(
        g.heartbeat(1, &MemberId::from("nobody"), None, now),
        Err(GroupError::UnknownMemberId)
    );
    // A third member joining starts a rebalance: the others learn it from their heartbeat.
    let (_c, _rxc) = join_new(&mut g, &["range"], now);
    assert_eq!(g.state(), GroupState::PreparingRebalance);
    assert_eq!(
        g.heartbeat(1, &b, None, now),
        Err(GroupError::RebalanceInProgress)
    );
    assert_eq!(
        done(g.sync(sync_params(1, &b, vec![]), now)).error,
        Some(GroupError::RebalanceInProgress)
    );
}

#[test]
fn leave_rebalances_and_the_survivor_owns_the_group() {
    let (mut g, a, b, now) = stable_pair();
    assert_eq!(g.leave(&a, None, now), Ok(()));
    assert_eq!(g.state(), GroupState::PreparingRebalance);
    let mut rx = wait(g.join(params(&b, None, &["range"], 5), now));
    let r = rx.try_recv().unwrap();
    assert_eq!(
        (r.generation_id, r.leader_id.clone()),
        (2, b.clone()),
        "no initial delay for a non-empty group"
    );
    assert_eq!(r.members.len(), 1);
    assert_eq!(g.leave(&a, None, now), Err(GroupError::UnknownMemberId));
}

#[test]
fn last_member_leaving_empties_the_group() {
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let t = Instant::now();
    let (a, _rx) = join_new(&mut g, &["range"], t);
    g.leave(&a, None, t).unwrap();
    assert_eq!(g.state(), GroupState::Empty);
    assert!(g.is_idle());
}

#[test]
fn silent_member_expires_after_its_session_timeout() {
    let (mut g, a, b, now) = stable_pair();
    let later = now + SESSION - Duration::from_millis(1);
    assert_eq!(g.heartbeat(1, &b, None, later), Ok(()));
    g.tick(later);
    assert!(g.has_member(&a), "not yet expired");
    g.tick(now + SESSION);
    assert!(!g.has_member(&a), "a missed its session");
    assert_eq!(g.state(), GroupState::PreparingRebalance);
    let mut rx = wait(g.join(params(&b, None, &["range"], 5), now + SESSION));
    assert_eq!(rx.try_recv().unwrap().generation_id, 2);
}

#[test]
fn member_that_does_not_rejoin_is_dropped_at_the_rebalance_deadline() {
    let (mut g, a, b, now) = stable_pair();
    let (c, mut rxc) = join_new(&mut g, &["range"], now);
    let mut rxa = wait(g.join(params(&a, None, &["range"], 5), now));
    // b keeps heartbeating but never rejoins.
    let mut t = now;
    while t + Duration::from_secs(3) < now + REBALANCE {
        t += Duration::from_secs(3);
        let _ = g.heartbeat(1, &b, None, t);
        g.tick(t);
    }
    assert!(rxa.try_recv().is_err(), "still waiting for b");
    g.tick(now + REBALANCE);
    let ra = rxa.try_recv().unwrap();
    assert_eq!(ra.generation_id, 2);
    assert_eq!(rxc.try_recv().unwrap().generation_id, 2);
    assert!(!g.has_member(&b));
    assert!(g.has_member(&c));
}

#[test]
fn leader_that_never_syncs_is_removed_at_the_sync_deadline() {
    let t0 = Instant::now();
    let mut g = ClassicGroup::new("g", DELAY);
    let (a, mut rxa) = join_new(&mut g, &["range"], t0);
    let (b, mut rxb) = join_new(&mut g, &["range"], t0);
    g.tick(t0 + DELAY);
    assert_eq!(rxa.try_recv().unwrap().leader_id, a);
    assert_eq!(rxb.try_recv().unwrap().generation_id, 1);
    let mut follower_sync = wait(g.sync(sync_params(1, &b, vec![]), t0 + DELAY));
    // The leader heartbeats but never sends SyncGroup.
    let mut t = t0 + DELAY;
    while t + Duration::from_secs(3) < t0 + DELAY + REBALANCE {
        t += Duration::from_secs(3);
        assert_eq!(g.heartbeat(1, &a, None, t), Ok(()));
        g.tick(t);
    }
    assert_eq!(g.state(), GroupState::CompletingRebalance);
    g.tick(t0 + DELAY + REBALANCE);
    assert!(!g.has_member(&a), "the leader that never synced is gone");
    assert_eq!(
        follower_sync.try_recv().unwrap().error,
        Some(GroupError::RebalanceInProgress)
    );
    let mut rx = wait(g.join(params(&b, None, &["range"], 5), t0 + DELAY + REBALANCE));
    let r = rx.try_recv().unwrap();
    assert_eq!((r.generation_id, r.leader_id), (2, b));
}

#[test]
fn pending_member_that_never_returns_is_forgotten() {
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let t = Instant::now();
    let first = done(g.join(params(&MemberId::default(), None, &["range"], 5), t));
    assert_eq!(first.error, Some(GroupError::MemberIdRequired));
    assert!(!g.is_idle());
    g.tick(t + SESSION);
    assert!(g.is_idle());
    let late = done(g.join(params(&first.member_id, None, &["range"], 5), t + SESSION));
    assert_eq!(late.error, Some(GroupError::UnknownMemberId));
}

#[test]
fn old_join_versions_get_a_member_id_without_the_round_trip() {
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let mut rx = wait(g.join(
        params(&MemberId::default(), None, &["range"], 3),
        Instant::now(),
    ));
    let r = rx.try_recv().unwrap();
    assert_eq!(r.error, None);
    assert!(!r.member_id.is_unknown());
}

#[test]
fn protocol_is_the_leaders_first_choice_that_everyone_supports() {
    let mut g = ClassicGroup::new("g", DELAY);
    let t = Instant::now();
    let (_a, mut rxa) = join_new(&mut g, &["sticky", "range", "roundrobin"], t);
    let (_b, _rxb) = join_new(&mut g, &["roundrobin", "range"], t);
    g.tick(t + DELAY);
    assert_eq!(
        rxa.try_recv().unwrap().protocol_name.as_deref(),
        Some("range")
    );
    let refused = done(g.join(
        params(&MemberId::default(), None, &["cooperative-sticky"], 5),
        t + DELAY,
    ));
    assert_eq!(refused.error, Some(GroupError::InconsistentGroupProtocol));
}

#[test]
fn static_member_restart_keeps_its_place_without_a_rebalance() {
    let t0 = Instant::now();
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let mut rx = wait(g.join(params(&MemberId::default(), Some("i1"), &["range"], 5), t0));
    let leader = rx.try_recv().unwrap();
    assert_eq!(leader.error, None, "static members skip MEMBER_ID_REQUIRED");
    let a = leader.member_id.clone();
    let mut rx = wait(g.join(params(&MemberId::default(), Some("i2"), &["range"], 5), t0));
    let mut rxa = wait(g.join(params(&a, Some("i1"), &["range"], 5), t0));
    let b = rx.try_recv().unwrap().member_id;
    assert_eq!(rxa.try_recv().unwrap().generation_id, 2);
    let mut sb = wait(g.sync(sync_params(2, &b, vec![]), t0));
    let assignments = vec![
        (a.clone(), Bytes::from_static(b"A")),
        (b.clone(), Bytes::from_static(b"B")),
    ];
    let _leader_sync = wait(g.sync(sync_params(2, &a, assignments), t0));
    assert_eq!(sb.try_recv().unwrap().assignment, Bytes::from_static(b"B"));

    // The follower (i2) restarts: new member id, same generation, no rebalance.
    let r = done(g.join(params(&MemberId::default(), Some("i2"), &["range"], 5), t0));
    assert_eq!(r.error, None);
    assert_eq!(r.generation_id, 2);
    assert_ne!(r.member_id, b);
    assert_eq!(g.state(), GroupState::Stable);
    let s = done(g.sync(sync_params(2, &r.member_id, vec![]), t0));
    assert_eq!(
        s.assignment,
        Bytes::from_static(b"B"),
        "the restarted member keeps its assignment"
    );
    // The old incarnation is fenced.
    assert_eq!(
        g.heartbeat(2, &b, Some("i2"), t0),
        Err(GroupError::FencedInstanceId)
    );
    let stale = done(g.join(params(&b, Some("i2"), &["range"], 5), t0));
    assert_eq!(stale.error, Some(GroupError::FencedInstanceId));
    // LeaveGroup by instance id with the wrong member id is fenced too.
    assert_eq!(
        g.leave(&b, Some("i2"), t0),
        Err(GroupError::FencedInstanceId)
    );
    assert_eq!(g.leave(&MemberId::default(), Some("i2"), t0), Ok(()));
    assert_eq!(g.state(), GroupState::PreparingRebalance);
}

#[test]
fn static_leader_restart_does_not_rebalance() {
    let t0 = Instant::now();
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let mut rx = wait(g.join(params(&MemberId::default(), Some("i1"), &["range"], 5), t0));
    let a = rx.try_recv().unwrap().member_id;
    let _leader_sync = wait(g.sync(
        sync_params(1, &a, vec![(a.clone(), Bytes::from_static(b"A"))]),
        t0,
    ));
    assert_eq!(g.state(), GroupState::Stable);
    // Before v9 the restarted leader is told the old id leads, so it syncs as a follower.
    let r = done(g.join(params(&MemberId::default(), Some("i1"), &["range"], 5), t0));
    assert_eq!((r.generation_id, r.leader_id.clone()), (1, a.clone()));
    assert!(r.members.is_empty() && !r.skip_assignment);
    let s = done(g.sync(sync_params(1, &r.member_id, vec![]), t0));
    assert_eq!(s.assignment, Bytes::from_static(b"A"));
    // With v9 it is named leader and told to skip the assignment.
    let r9 = done(g.join(params(&MemberId::default(), Some("i1"), &["range"], 9), t0));
    assert!(r9.skip_assignment);
    assert_eq!(
        (r9.generation_id, r9.leader_id.clone()),
        (1, r9.member_id.clone())
    );
    assert_eq!(r9.members.len(), 1);
    // A change of the selected protocol does rebalance.
    let mut rx = wait(g.join(
        params(
            &MemberId::default(),
            Some("i1"),
            &["roundrobin", "range"],
            9,
        ),
        t0,
    ));
    assert_eq!(rx.try_recv().unwrap().generation_id, 2);
}

#[test]
fn commits_are_checked_against_membership() {
    let (mut g, a, _b, now) = stable_pair();
    assert_eq!(g.validate_commit(1, &a, None, now), Ok(()));
    assert_eq!(
        g.validate_commit(-1, &MemberId::default(), None, now),
        Err(GroupError::UnknownMemberId),
        "a simple commit into a live group is refused"
    );
    assert_eq!(
        g.validate_commit(0, &a, None, now),
        Err(GroupError::IllegalGeneration {
            requested: 0,
            current: 1
        })
    );
    let mut empty = ClassicGroup::new("e", DELAY);
    assert_eq!(
        empty.validate_commit(-1, &MemberId::default(), None, now),
        Ok(()),
        "assign() users commit"
    );
}

#[test]
fn commit_during_a_rebalance_after_the_join_is_refused() {
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let t = Instant::now();
    let (a, _rx) = join_new(&mut g, &["range"], t);
    assert_eq!(g.state(), GroupState::CompletingRebalance);
    assert_eq!(
        g.validate_commit(1, &a, None, t),
        Err(GroupError::RebalanceInProgress)
    );
}

#[test]
fn subscribed_topics_come_from_consumer_metadata() {
    let mut g = ClassicGroup::new("g", Duration::ZERO);
    let mut p = params(&MemberId::default(), None, &["range"], 3);
    // ConsumerProtocolSubscription v0: version, [topics], user_data
    let mut md = vec![0, 0, 0, 0, 0, 2];
    for t in ["t1", "t2"] {
        md.extend_from_slice(&(t.len() as i16).to_be_bytes());
        md.extend_from_slice(t.as_bytes());
    }
    md.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    p.protocols = vec![("range".into(), Bytes::from(md))];
    let _rx = wait(g.join(p, Instant::now()));
    let topics = g.subscribed_topics();
    assert!(topics.contains("t1") && topics.contains("t2") && topics.len() == 2);
}

mod props {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Join {
            who: usize,
            version: i16,
            static_member: bool,
        },
        Sync {
            who: usize,
            stale: bool,
        },
        Heartbeat {
            who: usize,
        },
        Leave {
            who: usize,
        },
        Tick {
            ms: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (
                0..4usize,
                prop_oneof![Just(3i16), Just(5i16), Just(9i16)],
                any::<bool>()
            )
                .prop_map(|(who, version, static_member)| Op::Join {
                    who,
                    version,
                    static_member
                }),
            (0..4usize, any::<bool>()).prop_map(|(who, stale)| Op::Sync { who, stale }),
            (0..4usize).prop_map(|who| Op::Heartbeat { who }),
            (0..4usize).prop_map(|who| Op::Leave { who }),
            (0..15_000u64).prop_map(|ms| Op::Tick { ms }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn random_member_behaviour_keeps_the_group_consistent(ops in proptest::collection::vec(op(), 1..60)) {
            let t0 = Instant::now();
            let mut now = t0;
            let mut g = ClassicGroup::new("g", Duration::from_millis(500));
            let mut ids: Vec<MemberId> = vec![MemberId::default(); 4];
            let mut joins: Vec<(usize, tokio::sync::oneshot::Receiver<JoinResult>)> = Vec::new();
            let mut syncs = Vec::new();
            let mut last_generation = 0;
            for op in ops {
                match op {
                    Op::Join { who, version, static_member } => {
                        let inst = format!("i{who}");
                        let p = params(&ids[who], static_member.then_some(inst.as_str()), &["range"], version);
                        match g.join(p, now) {
                            Outcome::Done(r) => {
                                if r.error.is_none() || r.error == Some(GroupError::MemberIdRequired) {
                                    ids[who] = r.member_id;
                                }
                            }
                            Outcome::Wait(rx) => joins.push((who, rx)),
                        }
                    }
                    Op::Sync { who, stale } => {
                        let generation = g.generation_id() - i32::from(stale);
                        let assignments = ids.iter().map(|id| (id.clone(), Bytes::from_static(b"a"))).collect();
                        if let Outcome::Wait(rx) = g.sync(sync_params(generation, &ids[who], assignments), now) {
                            syncs.push(rx);
                        }
                    }
                    Op::Heartbeat { who } => {
                        let _ = g.heartbeat(g.generation_id(), &ids[who], None, now);
                    }
                    Op::Leave { who } => {
                        let _ = g.leave(&ids[who], None, now);
                    }
                    Op::Tick { ms } => {
                        now += Duration::from_millis(ms);
                        g.tick(now);
                    }
                }
                joins.retain_mut(|(who, rx)| match rx.try_recv() {
                    Ok(r) => {
                        if r.error.is_none() {
                            ids[*who] = r.member_id;
                        }
                        false
                    }
                    Err(tokio::sync::oneshot::error::TryRecvError::Empty) => true,
                    Err(_) => false,
                });
                syncs.retain_mut(|rx| matches!(rx.try_recv(), Err(tokio::sync::oneshot::error::TryRecvError::Empty)));
                // Invariants.
                prop_assert!(g.generation_id() >= last_generation);
                last_generation = g.generation_id();
                let members: Vec<MemberId> = g.member_ids().cloned().collect();
                if let Some(first) = members.first() {
                    let leader = g.leader_id().cloned().unwrap_or_else(|| first.clone());
                    prop_assert!(members.contains(&leader), "the leader is a member");
                } else {
                    prop_assert!(matches!(g.state(), GroupState::Empty | GroupState::PreparingRebalance));
                }
                if g.state() == GroupState::Empty {
                    prop_assert!(members.is_empty());
                }
                if g.state() == GroupState::Stable {
                    prop_assert!(g.describe_members().iter().all(|m| !m.assignment.is_empty()));
                }
            }
        }
    }
}
