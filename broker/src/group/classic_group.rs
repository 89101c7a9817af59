//! One classic consumer group: the state machine of Kafka's group protocol.
//!
//! ```text
//!            join (first member)          all members rejoined, or
//!   Empty ──────────────────────▶ Preparing ─ rebalance deadline ─▶ Completing
//!     ▲                          Rebalance  ◀── join/leave/expiry ──  Rebalance
//!     │ last member gone            ▲   ▲                               │ leader's
//!     └─────────────────────────────┘   └──── join/leave/expiry ──── Stable ◀┘ SyncGroup
//! ```
//!
//! The group never sleeps and never reads a clock: every method takes `now`, and
//! [`ClassicGroup::tick`] does what deadlines demand (session expiry, the end of the initial
//! rebalance delay, the rebalance timeout) and returns the next deadline. Requests that must
//! wait (JoinGroup until the rebalance completes, SyncGroup until the leader's assignment
//! arrives) get a oneshot receiver; the group keeps the sender in the member.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use indexmap::IndexMap;
use tokio::sync::oneshot;

use super::consumer_protocol::{subscription_topics, EMPTY_CONSUMER_ASSIGNMENT};
use super::error::GroupError;
pub use super::group_state::GroupState;
use super::member::{JoinParams, JoinResult, JoinedMember, Member, MemberId, SyncResult};
pub use super::member::{MemberDescription, Outcome, SyncParams};

/// One classic group.
#[derive(Debug)]
pub struct ClassicGroup {
    id: String,
    state: GroupState,
    generation_id: i32,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader_id: Option<MemberId>,
    /// In join order: the first member becomes leader when the leader goes.
    members: IndexMap<MemberId, Member>,
    /// Ids handed out with MEMBER_ID_REQUIRED whose owners have not joined with them yet,
    /// with the time they are forgotten.
    pending_members: HashMap<MemberId, Instant>,
    /// group.instance.id → the member id currently holding it.
    static_members: HashMap<String, MemberId>,
    /// A rebalance completes at this time whoever has rejoined by then.
    rebalance_deadline: Option<Instant>,
    /// A rebalance of a group that was empty waits at least until here for more members.
    initial_delay_until: Option<Instant>,
    /// In CompletingRebalance: members that have not sent SyncGroup by then are removed (a
    /// leader that heartbeats but never assigns must not stall the group; Kafka does the same).
    sync_deadline: Option<Instant>,
    initial_delay: Duration,
}

impl ClassicGroup {
    /// A new, empty group. `initial_delay` is `group.initial.rebalance.delay.ms`.
    pub fn new(id: impl Into<String>, initial_delay: Duration) -> Self {
        ClassicGroup {
            id: id.into(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: IndexMap::new(),
            pending_members: HashMap::new(),
            static_members: HashMap::new(),
            rebalance_deadline: None,
            sync_deadline: None,
            initial_delay_until: None,
            initial_delay,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn state(&self) -> GroupState {
        self.state
    }
    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }
    pub fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }
    pub fn protocol_name(&self) -> Option<&str> {
        self.protocol_name.as_deref()
    }
    pub fn leader_id(&self) -> Option<&MemberId> {
        self.leader_id.as_ref()
    }
    pub fn member_ids(&self) -> impl Iterator<Item = &MemberId> {
        self.members.keys()
    }
    pub fn has_member(&self, id: &MemberId) -> bool {
        self.members.contains_key(id)
    }
    /// No members, joined or pending: the group may be forgotten once it has no offsets.
    pub fn is_idle(&self) -> bool {
        self.state == GroupState::Empty
            && self.members.is_empty()
            && self.pending_members.is_empty()
    }

    /// Handle a JoinGroup.
    pub fn join(&mut self, p: JoinParams, now: Instant) -> Outcome<JoinResult> {
        if self.state == GroupState::Dead {
            return Outcome::Done(JoinResult::error(
                GroupError::CoordinatorNotAvailable,
                p.member_id,
            ));
        }
        if !self.supports_protocols(&p) {
            return Outcome::Done(JoinResult::error(
                GroupError::InconsistentGroupProtocol,
                p.member_id,
            ));
        }
        if p.member_id.is_unknown() {
            self.join_unknown_member(p, now)
        } else {
            self.join_known_member(p, now)
        }
    }

    fn supports_protocols(&self, p: &JoinParams) -> bool {
        if p.protocol_type.is_empty() || p.protocols.is_empty() {
            return false;
        }
        let others: Vec<&Member> = self
            .members
            .values()
            .filter(|m| m.id != p.member_id)
            .collect();
        if others.is_empty() {
            return true;
        }
        others.iter().all(|m| m.protocol_type == p.protocol_type)
            && p.protocols
                .iter()
                .any(|(name, _)| others.iter().all(|m| m.supports(name)))
    }

    fn join_unknown_member(&mut self, p: JoinParams, now: Instant) -> Outcome<JoinResult> {
        if let Some(instance) = p.group_instance_id.clone() {
            if let Some(old_id) = self.static_members.get(&instance).cloned() {
                return self.replace_static_member(old_id, p, now);
            }
            let id = MemberId::generate(&instance);
            return self.add_member_and_rebalance(id, p, now);
        }
        let prefix = if p.client.client_id.is_empty() {
            "member"
        } else {
            p.client.client_id.as_str()
        };
        let id = MemberId::generate(prefix);
        if p.version >= 4 {
            // KIP-394: the member learns its id first, so a client that dies between the two
            // round trips leaves only a pending id behind, not a member blocking the rebalance.
            self.pending_members
                .insert(id.clone(), now + p.session_timeout);
            return Outcome::Done(JoinResult::error(GroupError::MemberIdRequired, id));
        }
        self.add_member_and_rebalance(id, p, now)
    }

    fn join_known_member(&mut self, p: JoinParams, now: Instant) -> Outcome<JoinResult> {
        let id = p.member_id.clone();
        if let Some(instance) = &p.group_instance_id {
            if let Some(mapped) = self.static_members.get(instance) {
                if *mapped != id {
                    return Outcome::Done(JoinResult::error(GroupError::FencedInstanceId, id));
                }
            }
        }
        if self.pending_members.remove(&id).is_some() {
            return self.add_member_and_rebalance(id, p, now);
        }
        let Some(member) = self.members.get_mut(&id) else {
            return Outcome::Done(JoinResult::error(GroupError::UnknownMemberId, id));
        };
        match self.state {
            GroupState::PreparingRebalance => {
                member.update(&p);
                let rx = self.park_join(&id, now);
                self.try_complete_join(now);
                Outcome::Wait(rx)
            }
            GroupState::CompletingRebalance => {
                if member.same_protocols(&p.protocols) {
                    // The member lost our JoinGroup response: send it again.
                    member.heartbeat(now);
                    Outcome::Done(self.current_join_result(&id))
                } else {
                    member.update(&p);
                    let rx = self.park_join(&id, now);
                    self.prepare_rebalance(now);
                    Outcome::Wait(rx)
                }
            }
            GroupState::Stable => {
                let is_leader = self.leader_id.as_ref() == Some(&id);
                if is_leader || !member.same_protocols(&p.protocols) {
                    member.update(&p);
                    let rx = self.park_join(&id, now);
                    self.prepare_rebalance(now);
                    Outcome::Wait(rx)
                } else {
                    member.heartbeat(now);
                    Outcome::Done(self.current_join_result(&id))
                }
            }
            GroupState::Empty | GroupState::Dead => {
                Outcome::Done(JoinResult::error(GroupError::UnknownMemberId, id))
            }
        }
    }

    fn add_member_and_rebalance(
        &mut self,
        id: MemberId,
        p: JoinParams,
        now: Instant,
    ) -> Outcome<JoinResult> {
        let member = Member::new(id.clone(), &p, now);
        if self.members.is_empty() {
            self.protocol_type = Some(p.protocol_type.clone());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(id.clone());
        }
        if let Some(instance) = &p.group_instance_id {
            self.static_members.insert(instance.clone(), id.clone());
        }
        self.members.insert(id.clone(), member);
        let rx = self.park_join(&id, now);
        match self.state {
            GroupState::PreparingRebalance => {
                // A newcomer during the initial delay restarts the delay (bounded by the
                // rebalance deadline), so a whole fleet starting together lands in one
                // generation.
                if let (Some(until), Some(deadline)) =
                    (self.initial_delay_until, self.rebalance_deadline)
                {
                    if until > now {
                        self.initial_delay_until = Some((now + self.initial_delay).min(deadline));
                    }
                }
                self.try_complete_join(now);
            }
            _ => self.prepare_rebalance(now),
        }
        Outcome::Wait(rx)
    }

    fn replace_static_member(
        &mut self,
        old_id: MemberId,
        p: JoinParams,
        now: Instant,
    ) -> Outcome<JoinResult> {
        let instance = p.group_instance_id.clone().unwrap_or_default();
        let new_id = MemberId::generate(&instance);
        let Some(idx) = self.members.get_index_of(&old_id) else {
            self.static_members.remove(&instance);
            return self.add_member_and_rebalance(new_id, p, now);
        };
        let (_, mut member) = self
            .members
            .shift_remove_index(idx)
            .expect("index just looked up");
        // The old incarnation is fenced: its parked requests learn it now.
        if let Some(tx) = member.awaiting_join.take() {
            let _ = tx.send(JoinResult::error(
                GroupError::FencedInstanceId,
                old_id.clone(),
            ));
        }
        if let Some(tx) = member.awaiting_sync.take() {
            let _ = tx.send(SyncResult::error(GroupError::FencedInstanceId));
        }
        member.id = new_id.clone();
        member.update(&p);
        member.heartbeat(now);
        self.members.shift_insert(idx, new_id.clone(), member);
        self.static_members.insert(instance, new_id.clone());
        if self.leader_id.as_ref() == Some(&old_id) {
            self.leader_id = Some(new_id.clone());
        }
        let is_leader = self.leader_id.as_ref() == Some(&new_id);
        // As Kafka: only a change of the protocol the group would select forces a rebalance;
        // the member's new metadata is kept either way.
        let same_protocol = self.protocol_name.as_deref() == Some(self.select_protocol().as_str());
        match self.state {
            GroupState::Stable if same_protocol => {
                // KIP-345: a restarted static member takes its old place without a rebalance.
                let mut result = self.current_join_result(&new_id);
                if is_leader && p.version < 9 {
                    // Before KIP-814 the leader cannot be told to skip the assignment: name the
                    // old id as leader so the member syncs as a follower and gets its
                    // assignment, instead of assigning a Stable group nobody would hear of.
                    result.leader_id = old_id;
                    result.members.clear();
                } else {
                    result.skip_assignment = is_leader;
                }
                Outcome::Done(result)
            }
            GroupState::PreparingRebalance => {
                let rx = self.park_join(&new_id, now);
                self.try_complete_join(now);
                Outcome::Wait(rx)
            }
            _ => {
                let rx = self.park_join(&new_id, now);
                self.prepare_rebalance(now);
                Outcome::Wait(rx)
            }
        }
    }

    fn park_join(&mut self, id: &MemberId, now: Instant) -> oneshot::Receiver<JoinResult> {
        let (tx, rx) = oneshot::channel();
        if let Some(member) = self.members.get_mut(id) {
            if let Some(old) = member.awaiting_join.replace(tx) {
                let _ = old.send(JoinResult::error(
                    GroupError::RebalanceInProgress,
                    id.clone(),
                ));
            }
            member.heartbeat(now);
        }
        rx
    }

    fn current_join_result(&self, id: &MemberId) -> JoinResult {
        let is_leader = self.leader_id.as_ref() == Some(id);
        let protocol = self.protocol_name.clone().unwrap_or_default();
        JoinResult {
            error: None,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader_id: self.leader_id.clone().unwrap_or_default(),
            member_id: id.clone(),
            members: if is_leader {
                self.members
                    .values()
                    .map(|m| JoinedMember {
                        member_id: m.id.clone(),
                        group_instance_id: m.group_instance_id.clone(),
                        metadata: m.metadata_for(&protocol),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            skip_assignment: false,
        }
    }

    fn prepare_rebalance(&mut self, now: Instant) {
        tracing::debug!(group = %self.id, from = self.state.as_str(), "preparing rebalance");
        if self.state == GroupState::CompletingRebalance {
            for m in self.members.values_mut() {
                if let Some(tx) = m.awaiting_sync.take() {
                    let _ = tx.send(SyncResult::error(GroupError::RebalanceInProgress));
                }
                m.assignment = Bytes::new();
            }
        }
        let was_empty = self.state == GroupState::Empty;
        self.state = GroupState::PreparingRebalance;
        self.sync_deadline = None;
        let timeout = self
            .members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default();
        let deadline = now + timeout;
        self.rebalance_deadline = Some(deadline);
        self.initial_delay_until = (was_empty && !self.initial_delay.is_zero())
            .then(|| (now + self.initial_delay).min(deadline));
        self.try_complete_join(now);
    }

    /// Finish the rebalance if everyone has rejoined (and the initial delay is over), or if
    /// the rebalance deadline has passed, dropping whoever did not rejoin.
    fn try_complete_join(&mut self, now: Instant) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        if self.initial_delay_until.is_some_and(|until| now < until) {
            return;
        }
        let all_joined = self.pending_members.is_empty()
            && self.members.values().all(|m| m.awaiting_join.is_some());
        let expired = self.rebalance_deadline.is_some_and(|d| now >= d);
        if !all_joined && !expired {
            return;
        }
        let laggards: Vec<MemberId> = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in laggards {
            self.drop_member(&id);
        }
        self.generation_id += 1;
        self.rebalance_deadline = None;
        self.initial_delay_until = None;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol_name = None;
            self.leader_id = None;
            return;
        }
        // Prefer a leader whose JoinGroup is still connected: a gone leader never syncs.
        let leader_alive = |m: &Member| m.awaiting_join.as_ref().is_some_and(|tx| !tx.is_closed());
        let keep = self
            .leader_id
            .as_ref()
            .and_then(|l| self.members.get(l))
            .is_some_and(leader_alive);
        if !keep {
            let pick = self
                .members
                .values()
                .find(|m| leader_alive(m))
                .or_else(|| self.members.values().next());
            self.leader_id = pick.map(|m| m.id.clone());
        }
        self.protocol_name = Some(self.select_protocol());
        self.state = GroupState::CompletingRebalance;
        let sync_timeout = self
            .members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default();
        self.sync_deadline = Some(now + sync_timeout);
        tracing::info!(
            group = %self.id,
            generation = self.generation_id,
            members = self.members.len(),
            protocol = self.protocol_name.as_deref().unwrap_or(""),
            "rebalance: join phase complete"
        );
        let ids: Vec<MemberId> = self.members.keys().cloned().collect();
        for id in ids {
            let result = self.current_join_result(&id);
            if let Some(m) = self.members.get_mut(&id) {
                m.is_new = false;
                m.assignment = Bytes::new();
                m.heartbeat(now);
                if let Some(tx) = m.awaiting_join.take() {
                    let _ = tx.send(result);
                }
            }
        }
    }

    /// The first protocol, in the leader's order of preference, that every member supports.
    fn select_protocol(&self) -> String {
        let leader = self.leader_id.as_ref().and_then(|l| self.members.get(l));
        let Some(leader) = leader.or_else(|| self.members.values().next()) else {
            return String::new();
        };
        leader
            .protocols
            .iter()
            .map(|(name, _)| name)
            .find(|name| self.members.values().all(|m| m.supports(name)))
            .or_else(|| leader.protocols.first().map(|(name, _)| name))
            .cloned()
            .unwrap_or_default()
    }

    fn check_fenced(&self, member_id: &MemberId, instance: Option<&str>) -> Result<(), GroupError> {
        if let Some(mapped) = instance.and_then(|i| self.static_members.get(i)) {
            if mapped != member_id {
                return Err(GroupError::FencedInstanceId);
            }
        }
        Ok(())
    }

    fn check_member(
        &self,
        generation_id: i32,
        member_id: &MemberId,
        instance: Option<&str>,
    ) -> Result<(), GroupError> {
        if self.state == GroupState::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        self.check_fenced(member_id, instance)?;
        if !self.members.contains_key(member_id) {
            return Err(GroupError::UnknownMemberId);
        }
        if generation_id != self.generation_id {
            return Err(GroupError::IllegalGeneration {
                requested: generation_id,
                current: self.generation_id,
            });
        }
        Ok(())
    }

    /// Handle a SyncGroup.
    pub fn sync(&mut self, p: SyncParams, now: Instant) -> Outcome<SyncResult> {
        if let Err(e) = self.check_member(
            p.generation_id,
            &p.member_id,
            p.group_instance_id.as_deref(),
        ) {
            return Outcome::Done(SyncResult::error(e));
        }
        let type_mismatch = p
            .protocol_type
            .as_ref()
            .is_some_and(|t| Some(t) != self.protocol_type.as_ref());
        let name_mismatch = p
            .protocol_name
            .as_ref()
            .is_some_and(|n| Some(n) != self.protocol_name.as_ref());
        if type_mismatch || name_mismatch {
            return Outcome::Done(SyncResult::error(GroupError::InconsistentGroupProtocol));
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => {
                Outcome::Done(SyncResult::error(GroupError::UnknownMemberId))
            }
            GroupState::PreparingRebalance => {
                Outcome::Done(SyncResult::error(GroupError::RebalanceInProgress))
            }
            GroupState::Stable => {
                let member = self.members.get_mut(&p.member_id).expect("checked above");
                member.heartbeat(now);
                let assignment = member.assignment.clone();
                Outcome::Done(self.sync_ok(assignment))
            }
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                let member = self.members.get_mut(&p.member_id).expect("checked above");
                member.heartbeat(now);
                if let Some(old) = member.awaiting_sync.replace(tx) {
                    let _ = old.send(SyncResult::error(GroupError::RebalanceInProgress));
                }
                if self.leader_id.as_ref() == Some(&p.member_id) {
                    self.install_assignments(p.assignments);
                }
                Outcome::Wait(rx)
            }
        }
    }

    fn sync_ok(&self, assignment: Bytes) -> SyncResult {
        SyncResult {
            error: None,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            assignment,
        }
    }

    /// The leader's assignment: every member gets its part (a valid empty assignment if the
    /// leader left it out), the group becomes Stable and parked SyncGroups are answered.
    fn install_assignments(&mut self, assignments: Vec<(MemberId, Bytes)>) {
        let mut by_member: HashMap<MemberId, Bytes> = assignments.into_iter().collect();
        let consumer = self.protocol_type.as_deref() == Some("consumer");
        let empty = if consumer {
            Bytes::from_static(EMPTY_CONSUMER_ASSIGNMENT)
        } else {
            Bytes::new()
        };
        for m in self.members.values_mut() {
            let a = by_member.remove(&m.id).unwrap_or_default();
            m.assignment = if a.is_empty() { empty.clone() } else { a };
        }
        self.state = GroupState::Stable;
        self.sync_deadline = None;
        let replies: Vec<(oneshot::Sender<SyncResult>, Bytes)> = self
            .members
            .values_mut()
            .filter_map(|m| m.awaiting_sync.take().map(|tx| (tx, m.assignment.clone())))
            .collect();
        for (tx, assignment) in replies {
            let _ = tx.send(self.sync_ok(assignment));
        }
    }

    /// Handle a Heartbeat.
    pub fn heartbeat(
        &mut self,
        generation_id: i32,
        member_id: &MemberId,
        instance: Option<&str>,
        now: Instant,
    ) -> Result<(), GroupError> {
        self.check_member(generation_id, member_id, instance)?;
        let member = self.members.get_mut(member_id).expect("checked above");
        match self.state {
            GroupState::Empty | GroupState::Dead => Err(GroupError::UnknownMemberId),
            GroupState::PreparingRebalance => {
                member.heartbeat(now);
                Err(GroupError::RebalanceInProgress)
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                member.heartbeat(now);
                Ok(())
            }
        }
    }

    /// Handle one member of a LeaveGroup: by member id, or by group.instance.id (v3+).
    pub fn leave(
        &mut self,
        member_id: &MemberId,
        instance: Option<&str>,
        now: Instant,
    ) -> Result<(), GroupError> {
        if self.state == GroupState::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        let id = match instance {
            Some(inst) => {
                let mapped = self
                    .static_members
                    .get(inst)
                    .cloned()
                    .ok_or(GroupError::UnknownMemberId)?;
                if !member_id.is_unknown() && *member_id != mapped {
                    return Err(GroupError::FencedInstanceId);
                }
                mapped
            }
            None => member_id.clone(),
        };
        if self.pending_members.remove(&id).is_some() {
            self.try_complete_join(now);
            return Ok(());
        }
        if !self.members.contains_key(&id) {
            return Err(GroupError::UnknownMemberId);
        }
        self.remove_member_and_rebalance(&id, now);
        Ok(())
    }

    /// Take a member out without touching the group state.
    fn drop_member(&mut self, id: &MemberId) {
        let Some(mut m) = self.members.shift_remove(id) else {
            return;
        };
        if let Some(inst) = &m.group_instance_id {
            if self.static_members.get(inst) == Some(id) {
                self.static_members.remove(inst);
            }
        }
        if let Some(tx) = m.awaiting_join.take() {
            let _ = tx.send(JoinResult::error(GroupError::UnknownMemberId, id.clone()));
        }
        if let Some(tx) = m.awaiting_sync.take() {
            let _ = tx.send(SyncResult::error(GroupError::UnknownMemberId));
        }
        if self.leader_id.as_ref() == Some(id) {
            self.leader_id = self.members.keys().next().cloned();
        }
    }

    fn remove_member_and_rebalance(&mut self, id: &MemberId, now: Instant) {
        self.drop_member(id);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => self.prepare_rebalance(now),
            GroupState::PreparingRebalance => self.try_complete_join(now),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// Apply every deadline that has passed; return the next one.
    pub fn tick(&mut self, now: Instant) -> Option<Instant> {
        let before = self.pending_members.len();
        self.pending_members.retain(|_, deadline| *deadline > now);
        if self.pending_members.len() != before {
            self.try_complete_join(now);
        }
        let mut expired = Vec::new();
        for m in self.members.values_mut() {
            if m.session_deadline <= now {
                if m.is_kept_alive() {
                    m.heartbeat(now);
                } else {
                    expired.push(m.id.clone());
                }
            }
        }
        for id in expired {
            tracing::info!(group = %self.id, member = %id, "member session expired");
            self.remove_member_and_rebalance(&id, now);
        }
        if self.state == GroupState::CompletingRebalance
            && self.sync_deadline.is_some_and(|d| now >= d)
        {
            let laggards: Vec<MemberId> = self
                .members
                .values()
                .filter(|m| m.awaiting_sync.is_none())
                .map(|m| m.id.clone())
                .collect();
            tracing::info!(group = %self.id, members = laggards.len(), "removing members that did not sync in time");
            self.sync_deadline = None;
            for id in &laggards {
                self.drop_member(id);
            }
            self.prepare_rebalance(now);
        }
        self.try_complete_join(now);
        self.members
            .values()
            .map(|m| m.session_deadline)
            .chain(self.pending_members.values().copied())
            .chain(self.rebalance_deadline)
            .chain(self.initial_delay_until)
            .chain(self.sync_deadline)
            .min()
    }

    /// May this member commit offsets now?
    ///
    /// Commits from outside any generation (generation < 0, no member id: a consumer using
    /// `assign()`) are accepted while the group has no members, as Kafka does.
    pub fn validate_commit(
        &mut self,
        generation_id: i32,
        member_id: &MemberId,
        instance: Option<&str>,
        now: Instant,
    ) -> Result<(), GroupError> {
        if generation_id < 0 && self.members.is_empty() && self.state != GroupState::Dead {
            return Ok(());
        }
        if generation_id < 0 && member_id.is_unknown() && instance.is_none() {
            return Err(GroupError::UnknownMemberId);
        }
        self.check_member(generation_id, member_id, instance)?;
        if self.state == GroupState::CompletingRebalance {
            return Err(GroupError::RebalanceInProgress);
        }
        if let Some(m) = self.members.get_mut(member_id) {
            m.heartbeat(now);
        }
        Ok(())
    }

    /// Members for DescribeGroups; metadata and assignment only once the group is Stable.
    pub fn describe_members(&self) -> Vec<MemberDescription> {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        let stable = self.state == GroupState::Stable;
        self.members
            .values()
            .map(|m| MemberDescription {
                member_id: m.id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client.client_id.clone(),
                client_host: m.client.client_host.clone(),
                metadata: if stable {
                    m.metadata_for(&protocol)
                } else {
                    Bytes::new()
                },
                assignment: if stable {
                    m.assignment.clone()
                } else {
                    Bytes::new()
                },
            })
            .collect()
    }

    /// Topics the members subscribe to, from their consumer-protocol metadata.
    pub fn subscribed_topics(&self) -> HashSet<String> {
        if self.protocol_type.as_deref() != Some("consumer") || self.members.is_empty() {
            return HashSet::new();
        }
        let protocol = self.protocol_name.clone();
        let mut topics = HashSet::new();
        for m in self.members.values() {
            let metadata = match &protocol {
                Some(p) => m.metadata_for(p),
                None => m
                    .protocols
                    .first()
                    .map(|(_, md)| md.clone())
                    .unwrap_or_default(),
            };
            topics.extend(subscription_topics(metadata));
        }
        topics
    }

    /// Mark the group deleted: parked requests are told to find the coordinator again.
    pub fn mark_dead(&mut self) {
        let ids: Vec<MemberId> = self.members.keys().cloned().collect();
        for id in ids {
            self.drop_member(&id);
        }
        self.pending_members.clear();
        self.state = GroupState::Dead;
    }
}

#[cfg(test)]
#[path = "classic_group_tests.rs"]
mod tests;
