//! Client-side partition assignors, compatible with Java's and librdkafka's: `range`,
//! `roundrobin` (eager) and `cooperative-sticky` (incremental). The group leader runs the
//! assignor named by the coordinator; the member metadata format is Kafka's
//! ConsumerProtocolSubscription/Assignment, so kafkars, librdkafka and Java members can share
//! a group.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition as AssignedTp;
use kafka_protocol::messages::consumer_protocol_subscription::TopicPartition as OwnedTp;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A (topic, partition) pair.
pub type Tp = (String, i32);

/// The assignment strategies by protocol name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignor {
    /// `range`.
    Range,
    /// `roundrobin`.
    RoundRobin,
    /// `cooperative-sticky`.
    CooperativeSticky,
}

impl Assignor {
    /// From a `partition.assignment.strategy` entry.
    pub fn from_name(s: &str) -> Option<Assignor> {
        match s.trim() {
            "range" => Some(Assignor::Range),
            "roundrobin" => Some(Assignor::RoundRobin),
            "cooperative-sticky" => Some(Assignor::CooperativeSticky),
            _ => None,
        }
    }

    /// The protocol name sent in JoinGroup.
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::RoundRobin => "roundrobin",
            Assignor::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// Whether this is an incremental (cooperative) protocol.
    pub fn is_cooperative(self) -> bool {
        self == Assignor::CooperativeSticky
    }

    /// Runs the assignor.
    pub fn assign(
        self,
        members: &[Member],
        partitions: &BTreeMap<String, i32>,
    ) -> BTreeMap<String, Vec<Tp>> {
        match self {
            Assignor::Range => range(members, partitions),
            Assignor::RoundRobin => roundrobin(members, partitions),
            Assignor::CooperativeSticky => cooperative_sticky(members, partitions),
        }
    }
}

/// A group member as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Member id.
    pub id: String,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Partitions the member owns (cooperative protocol).
    pub owned: Vec<Tp>,
    /// Generation the owned partitions come from (-1 unknown).
    pub generation: i32,
}

fn sorted_members(members: &[Member]) -> Vec<&Member> {
    let mut m: Vec<&Member> = members.iter().collect();
    m.sort_by(|a, b| a.id.cmp(&b.id));
    m
}

fn empty(members: &[Member]) -> BTreeMap<String, Vec<Tp>> {
    members.iter().map(|m| (m.id.clone(), Vec::new())).collect()
}

fn range(members: &[Member], partitions: &BTreeMap<String, i32>) -> BTreeMap<String, Vec<Tp>> {
    let mut out = empty(members);
    let sorted = sorted_members(members);
    for (topic, &n) in partitions {
        let subs: Vec<&&Member> = sorted.iter().filter(|m| m.topics.contains(topic)).collect();
        if subs.is_empty() {
            continue;
        }
        let per = n / subs.len() as i32;
        let extra = n % subs.len() as i32;
        for (i, m) in subs.iter().enumerate() {
            let i = i as i32;
            let start = per * i + i.min(extra);
            let len = per + i32::from(i < extra);
            let v = out.entry(m.id.clone()).or_default();
            for p in start..start + len {
                v.push((topic.clone(), p));
            }
        }
    }
    out
}

fn roundrobin(members: &[Member], partitions: &BTreeMap<String, i32>) -> BTreeMap<String, Vec<Tp>> {
    let mut out = empty(members);
    let sorted = sorted_members(members);
    if sorted.is_empty() {
        return out;
    }
    let mut next = 0usize;
    for (topic, &n) in partitions {
        for p in 0..n {
            for _ in 0..sorted.len() {
                let m = sorted[next % sorted.len()];
                next += 1;
                if m.topics.contains(topic) {
                    out.entry(m.id.clone())
                        .or_default()
                        .push((topic.clone(), p));
                    break;
                }
            }
        }
    }
    out
}

/// Sticky and balanced; a partition changing owner is withheld this round so its previous
/// owner revokes it first (KIP-429).
fn cooperative_sticky(
    members: &[Member],
    partitions: &BTreeMap<String, i32>,
) -> BTreeMap<String, Vec<Tp>> {
    let sorted = sorted_members(members);
    let mut out = empty(members);
    if sorted.is_empty() {
        return out;
    }
    let all: Vec<Tp> = partitions
        .iter()
        .flat_map(|(t, &n)| (0..n).map(move |p| (t.clone(), p)))
        .collect();
    let exists: BTreeSet<&Tp> = all.iter().collect();
    // Previous owner of each partition (highest generation wins a conflict).
    let mut prev: HashMap<Tp, (&str, i32)> = HashMap::new();
    for m in &sorted {
        for tp in &m.owned {
            if !exists.contains(tp) || !m.topics.contains(&tp.0) {
                continue;
            }
            match prev.get(tp) {
                Some((_, g)) if *g >= m.generation => {}
                _ => {
                    prev.insert(tp.clone(), (m.id.as_str(), m.generation));
                }
            }
        }
    }
    let eligible = |tp: &Tp| -> Vec<&str> {
        sorted
            .iter()
            .filter(|m| m.topics.contains(&tp.0))
            .map(|m| m.id.as_str())
            .collect()
    };
    let total = all.iter().filter(|tp| !eligible(tp).is_empty()).count();
    let quota_max = total.div_ceil(sorted.len());
    // Keep previous ownership up to the quota.
    let mut assigned: BTreeMap<&str, Vec<Tp>> =
        sorted.iter().map(|m| (m.id.as_str(), Vec::new())).collect();
    let mut unassigned: Vec<Tp> = Vec::new();
    for tp in &all {
        match prev.get(tp) {
            Some((owner, _)) if assigned.get(owner).is_some_and(|v| v.len() < quota_max) => {
                if let Some(v) = assigned.get_mut(owner) {
                    v.push(tp.clone());
                }
            }
            _ => unassigned.push(tp.clone()),
        }
    }
    // Give the rest to the least loaded eligible member.
    for tp in unassigned {
        let el = eligible(&tp);
        if let Some(best) = el
            .iter()
            .min_by_key(|id| (assigned.get(**id).map_or(0, Vec::len), **id))
        {
            if let Some(v) = assigned.get_mut(*best) {
                v.push(tp);
            }
        }
    }
    // Rebalance: move from members above the floor quota to members below it.
    let floor = total / sorted.len();
    while let (Some(max_id), Some(min_id)) = (
        assigned
            .iter()
            .max_by_key(|(id, v)| (v.len(), std::cmp::Reverse(**id)))
            .map(|(id, _)| *id),
        assigned
            .iter()
            .min_by_key(|(id, v)| (v.len(), **id))
            .map(|(id, _)| *id),
    ) {
        let (hi, lo) = (assigned[max_id].len(), assigned[min_id].len());
        if hi <= lo + 1 || hi <= floor {
            break;
        }
        let min_topics = &sorted
            .iter()
            .find(|m| m.id == min_id)
            .map(|m| m.topics.clone())
            .unwrap_or_default();
        let pos = assigned[max_id]
            .iter()
            .rposition(|tp| min_topics.contains(&tp.0));
        let Some(pos) = pos else { break };
        let tp = assigned.get_mut(max_id).map(|v| v.remove(pos));
        if let (Some(tp), Some(v)) = (tp, assigned.get_mut(min_id)) {
            v.push(tp);
        }
    }
    for (id, tps) in assigned {
        let v = out.entry(id.to_string()).or_default();
        for tp in tps {
            // Withhold partitions still owned by another member: it must revoke them first.
            if prev.get(&tp).is_some_and(|(owner, _)| *owner != id) {
                continue;
            }
            v.push(tp);
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

fn group_by_topic(tps: &[Tp]) -> BTreeMap<&str, Vec<i32>> {
    let mut m: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (t, p) in tps {
        m.entry(t.as_str()).or_default().push(*p);
    }
    m
}

/// Encodes our JoinGroup member metadata (ConsumerProtocolSubscription v1).
pub fn encode_subscription(topics: &[String], owned: &[Tp]) -> Bytes {
    let mut s = ConsumerProtocolSubscription::default();
    s.topics = topics
        .iter()
        .map(|t| StrBytes::from_string(t.clone()))
        .collect();
    s.owned_partitions = group_by_topic(owned)
        .into_iter()
        .map(|(t, ps)| {
            let mut o = OwnedTp::default();
            o.topic = TopicName(StrBytes::from_string(t.to_string()));
            o.partitions = ps;
            o
        })
        .collect();
    let mut b = BytesMut::new();
    b.put_i16(1);
    let _ = s.encode(&mut b, 1);
    b.freeze()
}

/// Decodes a member's metadata (any version).
pub fn decode_subscription(id: &str, mut data: Bytes) -> Option<Member> {
    if data.len() < 2 {
        return None;
    }
    let v = i16::from_be_bytes([data[0], data[1]]).clamp(0, 3);
    let _ = bytes::Buf::get_i16(&mut data);
    let s = ConsumerProtocolSubscription::decode(&mut data, v).ok()?;
    Some(Member {
        id: id.to_string(),
        topics: s.topics.iter().map(|t| t.to_string()).collect(),
        owned: s
            .owned_partitions
            .iter()
            .flat_map(|o| {
                o.partitions
                    .iter()
                    .map(move |p| (o.topic.0.to_string(), *p))
            })
            .collect(),
        generation: if v >= 2 { s.generation_id } else { -1 },
    })
}

/// Encodes an assignment (ConsumerProtocolAssignment v0).
pub fn encode_assignment(tps: &[Tp]) -> Bytes {
    let mut a = ConsumerProtocolAssignment::default();
    a.assigned_partitions = group_by_topic(tps)
        .into_iter()
        .map(|(t, ps)| {
            let mut x = AssignedTp::default();
            x.topic = TopicName(StrBytes::from_string(t.to_string()));
            x.partitions = ps;
            x
        })
        .collect();
    let mut b = BytesMut::new();
    b.put_i16(0);
    let _ = a.encode(&mut b, 0);
    b.freeze()
}

/// Decodes an assignment (any version); empty data is an empty assignment.
pub fn decode_assignment(mut data: Bytes) -> Option<Vec<Tp>> {
    if data.len() < 2 {
        return Some(Vec::new());
    }
    let v = i16::from_be_bytes([data[0], data[1]]).clamp(0, 3);
    let _ = bytes::Buf::get_i16(&mut data);
    let a = ConsumerProtocolAssignment::decode(&mut data, v).ok()?;
    let mut out: Vec<Tp> = a
        .assigned_partitions
        .iter()
        .flat_map(|x| {
            x.partitions
                .iter()
                .map(move |p| (x.topic.0.to_string(), *p))
        })
        .collect();
    out.sort();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, topics: &[&str], owned: &[(&str, i32)]) -> Member {
        Member {
            id: id.into(),
            topics: topics.iter().map(|s| s.to_string()).collect(),
            owned: owned.iter().map(|(t, p)| (t.to_string(), *p)).collect(),
            generation: 1,
        }
    }
    fn parts(v: &[(&str, i32)]) -> BTreeMap<String, i32> {
        v.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }
    fn tps(v: &[(&str, i32)]) -> Vec<Tp> {
        v.iter().map(|(t, p)| (t.to_string(), *p)).collect()
    }

    #[test]
    fn range_like_java() {
        let ms = [m("b", &["t"], &[]), m("a", &["t"], &[])];
        let r = Assignor::Range.assign(&ms, &parts(&[("t", 5)]));
        assert_eq!(r["a"], tps(&[("t", 0), ("t", 1), ("t", 2)]));
        assert_eq!(r["b"], tps(&[("t", 3), ("t", 4)]));
    }

    #[test]
    fn roundrobin_like_java() {
        let ms = [m("a", &["t", "u"], &[]), m("b", &["t", "u"], &[])];
        let r = Assignor::RoundRobin.assign(&ms, &parts(&[("t", 3), ("u", 2)]));
        assert_eq!(r["a"], tps(&[("t", 0), ("t", 2), ("u", 1)]));
        assert_eq!(r["b"], tps(&[("t", 1), ("u", 0)]));
    }

    #[test]
    fn cooperative_sticky_keeps_and_withholds() {
        // a owned everything; b joins: a keeps half, b gets nothing yet (a must revoke).
        let ms = [
            m("a", &["t"], &[("t", 0), ("t", 1), ("t", 2), ("t", 3)]),
            m("b", &["t"], &[]),
        ];
        let r = Assignor::CooperativeSticky.assign(&ms, &parts(&[("t", 4)]));
        assert_eq!(r["a"].len(), 2);
        assert!(r["b"].is_empty());
        // Next round: a owns 2, b gets the other 2.
        let owned_a: Vec<(&str, i32)> = r["a"].iter().map(|(t, p)| (t.as_str(), *p)).collect();
        let ms = [m("a", &["t"], &owned_a), m("b", &["t"], &[])];
        let r2 = Assignor::CooperativeSticky.assign(&ms, &parts(&[("t", 4)]));
        assert_eq!(r2["a"], r["a"]);
        assert_eq!(r2["b"].len(), 2);
    }

    #[test]
    fn metadata_round_trip() {
        let s = encode_subscription(&["t".into(), "u".into()], &tps(&[("t", 1)]));
        let mem = decode_subscription("x", s).unwrap();
        assert_eq!(mem.topics, vec!["t", "u"]);
        assert_eq!(mem.owned, tps(&[("t", 1)]));
        let a = encode_assignment(&tps(&[("u", 2), ("t", 0)]));
        assert_eq!(decode_assignment(a).unwrap(), tps(&[("t", 0), ("u", 2)]));
        assert_eq!(decode_assignment(Bytes::new()).unwrap(), Vec::<Tp>::new());
        assert!(decode_subscription("x", Bytes::from_static(&[0, 0, 0xff])).is_none());
    }
}
