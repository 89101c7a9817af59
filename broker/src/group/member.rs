//! A group member, and the values exchanged with JoinGroup/SyncGroup requests.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::error::GroupError;

/// A member id handed out by the coordinator (`<client.id>-<random hex>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MemberId(pub String);

impl MemberId {
    /// The id clients send before they have one.
    pub fn is_unknown(&self) -> bool {
        self.0.is_empty()
    }

    /// A fresh id: `prefix-` followed by 32 random hex digits, like Kafka's UUID suffix.
    pub fn generate(prefix: &str) -> Self {
        let n: u128 = rand::random();
        MemberId(format!("{prefix}-{n:032x}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for MemberId {
    fn from(s: &str) -> Self {
        MemberId(s.to_owned())
    }
}

/// Who sent a request: shown by DescribeGroups (`kafka-consumer-groups --describe`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub client_id: String,
    pub client_host: String,
}

/// A JoinGroup request, translated from the wire.
#[derive(Debug, Clone)]
pub struct JoinParams {
    pub member_id: MemberId,
    pub group_instance_id: Option<String>,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocol_type: String,
    /// (name, metadata) in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
    pub client: ClientInfo,
    /// The request's JoinGroup version: v4+ requires a known member id, v9+ lets a static
    /// leader skip the assignment.
    pub version: i16,
}

/// One member as the leader sees it in its JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    pub member_id: MemberId,
    pub group_instance_id: Option<String>,
    pub metadata: Bytes,
}

/// The answer to a JoinGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    pub error: Option<GroupError>,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader_id: MemberId,
    pub member_id: MemberId,
    /// Filled for the leader only.
    pub members: Vec<JoinedMember>,
    pub skip_assignment: bool,
}

impl JoinResult {
    pub fn error(error: GroupError, member_id: MemberId) -> Self {
        JoinResult {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader_id: MemberId::default(),
            member_id,
            members: Vec::new(),
            skip_assignment: false,
        }
    }
}

/// The answer to a SyncGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    pub error: Option<GroupError>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncResult {
    pub fn error(error: GroupError) -> Self {
        SyncResult {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// A member of a classic group.
#[derive(Debug)]
pub struct Member {
    pub id: MemberId,
    pub group_instance_id: Option<String>,
    pub client: ClientInfo,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    /// What the leader assigned in the current generation (empty until SyncGroup).
    pub assignment: Bytes,
    /// A JoinGroup request parked until the rebalance completes.
    pub awaiting_join: Option<oneshot::Sender<JoinResult>>,
    /// A SyncGroup request parked until the leader's assignment arrives.
    pub awaiting_sync: Option<oneshot::Sender<SyncResult>>,
    /// The member is removed when `now` passes this without a heartbeat.
    pub session_deadline: Instant,
    /// Joined in the current rebalance for the first time.
    pub is_new: bool,
}

impl Member {
    pub fn new(id: MemberId, params: &JoinParams, now: Instant) -> Self {
        Member {
            id,
            group_instance_id: params.group_instance_id.clone(),
            client: params.client.clone(),
            session_timeout: params.session_timeout,
            rebalance_timeout: params.rebalance_timeout,
            protocol_type: params.protocol_type.clone(),
            protocols: params.protocols.clone(),
            assignment: Bytes::new(),
            awaiting_join: None,
            awaiting_sync: None,
            session_deadline: now + params.session_timeout,
            is_new: true,
        }
    }

    /// Take the join request's settings (a rejoin may change protocols and timeouts).
    pub fn update(&mut self, params: &JoinParams) {
        self.session_timeout = params.session_timeout;
        self.rebalance_timeout = params.rebalance_timeout;
        self.protocol_type = params.protocol_type.clone();
        self.protocols = params.protocols.clone();
        self.client = params.client.clone();
    }

    pub fn heartbeat(&mut self, now: Instant) {
        self.session_deadline = now + self.session_timeout;
    }

    pub fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    pub fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|(name, _)| name == protocol)
    }

    pub fn same_protocols(&self, protocols: &[(String, Bytes)]) -> bool {
        self.protocols == protocols
    }

    /// A member waiting on a JoinGroup/SyncGroup whose client is still connected is kept alive
    /// past its session deadline: its request is the proof of life.
    pub fn is_kept_alive(&self) -> bool {
        self.awaiting_join
            .as_ref()
            .is_some_and(|tx| !tx.is_closed())
            || self
                .awaiting_sync
                .as_ref()
                .is_some_and(|tx| !tx.is_closed())
    }
}

/// A JoinGroup or SyncGroup answered at once, or parked until the group can answer.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    Wait(oneshot::Receiver<T>),
}

/// A SyncGroup request, translated from the wire.
#[derive(Debug, Clone, Default)]
pub struct SyncParams {
    pub generation_id: i32,
    pub member_id: MemberId,
    pub group_instance_id: Option<String>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignments: Vec<(MemberId, Bytes)>,
}

/// A member as DescribeGroups shows it.
#[derive(Debug, Clone)]
pub struct MemberDescription {
    pub member_id: MemberId,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}
