//! Errors of the group layer and the one place they become Kafka error codes.

use kafka_protocol::error::ResponseError;

/// What a group operation can refuse with. Each variant is one Kafka error code.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    #[error("the coordinator is not aware of this member")]
    UnknownMemberId,
    #[error("generation {requested} is not the group's generation {current}")]
    IllegalGeneration { requested: i32, current: i32 },
    #[error("the group is rebalancing, so a rejoin is needed")]
    RebalanceInProgress,
    #[error("the member must rejoin with the member id it was given")]
    MemberIdRequired,
    #[error("another member registered with the same group.instance.id")]
    FencedInstanceId,
    #[error("the member's protocols are incompatible with the group's")]
    InconsistentGroupProtocol,
    #[error("session timeout {requested} ms is outside [{min}, {max}] ms")]
    InvalidSessionTimeout { requested: i32, min: i32, max: i32 },
    #[error("the coordinator is not available")]
    CoordinatorNotAvailable,
    #[error("this broker is shutting down and no longer coordinates the group")]
    NotCoordinator,
    #[error("the group id does not exist")]
    GroupIdNotFound,
    #[error("the group is not empty")]
    NonEmptyGroup,
    #[error("the group id is not valid")]
    InvalidGroupId,
    #[error("the group is subscribed to the topic")]
    GroupSubscribedToTopic,
    #[error("the commit metadata is {len} bytes, over the limit of {max}")]
    OffsetMetadataTooLarge { len: usize, max: usize },
    #[error("the topic or partition does not exist")]
    UnknownTopicOrPartition,
    #[error("the offset store failed to persist the commit")]
    StoreUnavailable,
}

impl GroupError {
    /// The Kafka wire error code.
    pub fn code(self) -> i16 {
        let e = match self {
            GroupError::UnknownMemberId => ResponseError::UnknownMemberId,
            GroupError::IllegalGeneration { .. } => ResponseError::IllegalGeneration,
            GroupError::RebalanceInProgress => ResponseError::RebalanceInProgress,
            GroupError::MemberIdRequired => ResponseError::MemberIdRequired,
            GroupError::FencedInstanceId => ResponseError::FencedInstanceId,
            GroupError::InconsistentGroupProtocol => ResponseError::InconsistentGroupProtocol,
            GroupError::InvalidSessionTimeout { .. } => ResponseError::InvalidSessionTimeout,
            GroupError::CoordinatorNotAvailable => ResponseError::CoordinatorNotAvailable,
            GroupError::NotCoordinator => ResponseError::NotCoordinator,
            GroupError::GroupIdNotFound => ResponseError::GroupIdNotFound,
            GroupError::NonEmptyGroup => ResponseError::NonEmptyGroup,
            GroupError::InvalidGroupId => ResponseError::InvalidGroupId,
            GroupError::GroupSubscribedToTopic => ResponseError::GroupSubscribedToTopic,
            GroupError::OffsetMetadataTooLarge { .. } => ResponseError::OffsetMetadataTooLarge,
            GroupError::UnknownTopicOrPartition => ResponseError::UnknownTopicOrPartition,
            // Retriable: the client retries the commit (KAFKA_STORAGE_ERROR would also do,
            // but librdkafka treats COORDINATOR_NOT_AVAILABLE as "retry after a refresh").
            GroupError::StoreUnavailable => ResponseError::CoordinatorNotAvailable,
        };
        e.code()
    }
}

/// The wire code of an optional error (0 for none).
pub fn code_of(err: Option<GroupError>) -> i16 {
    err.map_or(0, GroupError::code)
}
