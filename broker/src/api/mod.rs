//! Request dispatch: one module per Kafka API key, each with
//! `pub async fn handle(ctx: &RequestContext, req: XRequest) -> XResponse`.
//!
//! To add an API: a row in [`SUPPORTED`] (the versions ApiVersions advertises; only versions
//! the kafka-protocol crate decodes) and an arm in `dispatch`.
//!
//! A request that cannot be understood (unknown key, unsupported version, malformed body) is
//! a [`RequestError`]: the connection logs it and closes, as Kafka does.

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod alter_configs;
pub mod api_versions;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_groups;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod describe_transactions;
pub mod end_txn;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod list_transactions;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod produce;
pub mod produce_legacy;
pub mod sync_group;
pub mod txn_offset_commit;

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion};

use crate::log::FetchSlice;
use crate::state::SharedState;

/// Versions advertised in ApiVersions: (key, min, max).
///
/// Produce is advertised from v0 because librdkafka disables compression otherwise (the crate
/// decodes v3+, which every client that negotiates uses; v0–v2 are decoded by hand in
/// `produce_legacy`). Ranges stop where request semantics
/// we do not implement begin (Produce v13 / topic ids, InitProducerId v6 / 2PC).
pub const SUPPORTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 0, 11),
    (ApiKey::Fetch, 4, 16),
    (ApiKey::ListOffsets, 1, 10),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 6),
    (ApiKey::InitProducerId, 0, 5),
    (ApiKey::FindCoordinator, 0, 4),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::OffsetCommit, 2, 8),
    (ApiKey::OffsetFetch, 1, 8),
    (ApiKey::OffsetDelete, 0, 0),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::DescribeCluster, 0, 1),
    (ApiKey::AddPartitionsToTxn, 0, 5),
    (ApiKey::AddOffsetsToTxn, 0, 4),
    (ApiKey::EndTxn, 0, 4),
    (ApiKey::TxnOffsetCommit, 0, 4),
    (ApiKey::DescribeTransactions, 0, 0),
    (ApiKey::ListTransactions, 0, 1),
];

/// The advertised version range of an API key.
pub fn supported_range(key: ApiKey) -> Option<(i16, i16)> {
    SUPPORTED
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|&(_, min, max)| (min, max))
}

/// Why a request could not be served; the connection is closed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("frame of {0} bytes is too short for a request header")]
    Truncated(usize),
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    #[error("unsupported version {version} of {key:?}")]
    UnsupportedVersion { key: ApiKey, version: i16 },
    #[error("malformed {key:?} v{version} request: {reason}")]
    Malformed {
        key: ApiKey,
        version: i16,
        reason: String,
    },
    #[error("cannot encode {key:?} v{version} response: {reason}")]
    Encode {
        key: ApiKey,
        version: i16,
        reason: String,
    },
}

/// What one request needs to know about where it came from.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub state: SharedState,
    pub api_key: ApiKey,
    pub version: i16,
    pub correlation_id: i32,
    pub client_id: Option<String>,
    pub peer: SocketAddr,
}

/// A piece of a response frame: bytes in memory, or a byte range of a segment file (sent with
/// `sendfile`).
#[derive(Debug, Clone)]
pub enum ResponsePart {
    Bytes(Bytes),
    File(FetchSlice),
}

impl ResponsePart {
    /// Length on the wire.
    pub fn len(&self) -> usize {
        match self {
            ResponsePart::Bytes(b) => b.len(),
            ResponsePart::File(f) => f.len as usize,
        }
    }

    /// True for a zero-length part.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The answer to one request.
#[derive(Debug)]
pub enum Response {
    /// acks=0 Produce: nothing goes back.
    Nothing,
    /// acks=0 Produce that failed: close the connection, the client's only hint to refresh
    /// its metadata (as Kafka does).
    Close,
    /// A whole frame (size prefix included), in pieces written in order.
    Frame(Vec<ResponsePart>),
}

/// Decodes and serves one request frame (without its size prefix).
///
/// # Errors
/// See [`RequestError`]; the caller closes the connection.
pub async fn handle_frame(
    state: &SharedState,
    peer: SocketAddr,
    mut frame: Bytes,
) -> Result<Response, RequestError> {
    if frame.len() < 8 {
        return Err(RequestError::Truncated(frame.len()));
    }
    let raw_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let api_key = ApiKey::try_from(raw_key).map_err(|()| RequestError::UnknownApiKey(raw_key))?;
    let (min, max) = supported_range(api_key).ok_or(RequestError::UnknownApiKey(raw_key))?;
    if api_key == ApiKey::ApiVersions && version > max {
        return Ok(api_versions::unsupported_version(correlation_id));
    }
    if version < min || version > max {
        return Err(RequestError::UnsupportedVersion {
            key: api_key,
            version,
        });
    }
    let header_version = api_key.request_header_version(version);
    let header: RequestHeader = decode_with(&mut frame, header_version, api_key, version)?;
    let ctx = RequestContext {
        state: state.clone(),
        api_key,
        version,
        correlation_id,
        client_id: header.client_id.as_ref().map(|s| s.to_string()),
        peer,
    };
    dispatch(&ctx, frame).await
}

async fn dispatch(ctx: &RequestContext, mut body: Bytes) -> Result<Response, RequestError> {
    let b = &mut body;
    match ctx.api_key {
        ApiKey::ApiVersions => reply(ctx, &api_versions::handle(ctx, decode(ctx, b)?).await),
        ApiKey::Metadata => reply(ctx, &metadata::handle(ctx, decode(ctx, b)?).await),
        ApiKey::CreateTopics => reply(ctx, &create_topics::handle(ctx, decode(ctx, b)?).await),
        ApiKey::DeleteTopics => reply(ctx, &delete_topics::handle(ctx, decode(ctx, b)?).await),
        ApiKey::CreatePartitions => {
            reply(ctx, &create_partitions::handle(ctx, decode(ctx, b)?).await)
        }
        ApiKey::Produce if ctx.version < 3 => produce_legacy::handle(ctx, body).await,
        ApiKey::Produce => match produce::handle(ctx, decode(ctx, b)?).await {
            produce::Outcome::Respond(resp) => reply(ctx, &resp),
            produce::Outcome::Silent => Ok(Response::Nothing),
            produce::Outcome::Close => Ok(Response::Close),
        },
        ApiKey::Fetch => fetch::handle(ctx, decode(ctx, b)?).await,
        ApiKey::ListOffsets => reply(ctx, &list_offsets::handle(ctx, decode(ctx, b)?).await),
        ApiKey::AlterConfigs => reply(ctx, &alter_configs::handle(ctx, decode(ctx, b)?).await),
        ApiKey::IncrementalAlterConfigs => reply(
            ctx,
            &incremental_alter_configs::handle(ctx, decode(ctx, b)?).await,
        ),
        ApiKey::DescribeConfigs => {
            reply(ctx, &describe_configs::handle(ctx, decode(ctx, b)?).await)
        }
        ApiKey::DescribeCluster => {
            reply(ctx, &describe_cluster::handle(ctx, decode(ctx, b)?).await)
        }
        ApiKey::InitProducerId => reply(ctx, &init_producer_id::handle(ctx, decode(ctx, b)?).await),
        ApiKey::FindCoordinator => {
            reply(ctx, &find_coordinator::handle(ctx, decode(ctx, b)?).await)
        }
        ApiKey::JoinGroup => reply(ctx, &join_group::handle(ctx, decode(ctx, b)?).await),
        ApiKey::SyncGroup => reply(ctx, &sync_group::handle(ctx, decode(ctx, b)?).await),
        ApiKey::Heartbeat => reply(ctx, &heartbeat::handle(ctx, decode(ctx, b)?).await),
        ApiKey::LeaveGroup => reply(ctx, &leave_group::handle(ctx, decode(ctx, b)?).await),
        ApiKey::OffsetCommit => reply(ctx, &offset_commit::handle(ctx, decode(ctx, b)?).await),
        ApiKey::OffsetFetch => reply(ctx, &offset_fetch::handle(ctx, decode(ctx, b)?).await),
        ApiKey::OffsetDelete => reply(ctx, &offset_delete::handle(ctx, decode(ctx, b)?).await),
        ApiKey::DescribeGroups => reply(ctx, &describe_groups::handle(ctx, decode(ctx, b)?).await),
        ApiKey::ListGroups => reply(ctx, &list_groups::handle(ctx, decode(ctx, b)?).await),
        ApiKey::DeleteGroups => reply(ctx, &delete_groups::handle(ctx, decode(ctx, b)?).await),
        ApiKey::AddPartitionsToTxn => reply(
            ctx,
            &add_partitions_to_txn::handle(ctx, decode(ctx, b)?).await,
        ),
        ApiKey::AddOffsetsToTxn => {
            reply(ctx, &add_offsets_to_txn::handle(ctx, decode(ctx, b)?).await)
        }
        ApiKey::EndTxn => reply(ctx, &end_txn::handle(ctx, decode(ctx, b)?).await),
        ApiKey::DescribeTransactions => reply(
            ctx,
            &describe_transactions::handle(ctx, decode(ctx, b)?).await,
        ),
        ApiKey::ListTransactions => {
            reply(ctx, &list_transactions::handle(ctx, decode(ctx, b)?).await)
        }
        ApiKey::TxnOffsetCommit => {
            reply(ctx, &txn_offset_commit::handle(ctx, decode(ctx, b)?).await)
        }
        key => Err(RequestError::UnknownApiKey(key as i16)),
    }
}

/// Decodes a request body of the context's API and version.
///
/// # Errors
/// `RequestError::Malformed` (also when the decoder panics).
pub fn decode<T: Decodable>(ctx: &RequestContext, buf: &mut Bytes) -> Result<T, RequestError> {
    decode_with(buf, ctx.version, ctx.api_key, ctx.version)
}

fn decode_with<T: Decodable>(
    buf: &mut Bytes,
    decode_version: i16,
    key: ApiKey,
    version: i16,
) -> Result<T, RequestError> {
    // The crate is not written for hostile input; a panic here must only cost the connection.
    match std::panic::catch_unwind(AssertUnwindSafe(|| T::decode(buf, decode_version))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(RequestError::Malformed {
            key,
            version,
            reason: e.to_string(),
        }),
        Err(_) => Err(RequestError::Malformed {
            key,
            version,
            reason: "decoder panicked".into(),
        }),
    }
}

/// Encodes a response with its header and size prefix.
///
/// # Errors
/// `RequestError::Encode` if the crate refuses the response for this version.
pub fn reply<T: Encodable + HeaderVersion>(
    ctx: &RequestContext,
    body: &T,
) -> Result<Response, RequestError> {
    let frame = encode_frame(
        ctx.correlation_id,
        T::header_version(ctx.version),
        body,
        ctx.version,
    )
    .map_err(|reason| RequestError::Encode {
        key: ctx.api_key,
        version: ctx.version,
        reason,
    })?;
    Ok(Response::Frame(vec![ResponsePart::Bytes(frame)]))
}

/// Size prefix + response header + body.
///
/// # Errors
/// The crate's encoding error, as text.
pub fn encode_frame<T: Encodable>(
    correlation_id: i32,
    header_version: i16,
    body: &T,
    version: i16,
) -> Result<Bytes, String> {
    let mut buf = BytesMut::with_capacity(256);
    buf.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut buf, header_version)
        .map_err(|e| e.to_string())?;
    body.encode(&mut buf, version).map_err(|e| e.to_string())?;
    let size = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf.freeze())
}

/// Kafka error codes used by the handlers.
pub mod error_code {
    pub const NONE: i16 = 0;
    pub const OFFSET_OUT_OF_RANGE: i16 = 1;
    pub const CORRUPT_MESSAGE: i16 = 2;
    pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    pub const MESSAGE_TOO_LARGE: i16 = 10;
    pub const INVALID_TOPIC_EXCEPTION: i16 = 17;
    pub const INVALID_REQUIRED_ACKS: i16 = 21;
    pub const UNSUPPORTED_VERSION: i16 = 35;
    pub const TOPIC_ALREADY_EXISTS: i16 = 36;
    pub const INVALID_PARTITIONS: i16 = 37;
    pub const INVALID_REPLICATION_FACTOR: i16 = 38;
    pub const INVALID_REQUEST: i16 = 42;
    pub const UNKNOWN_SERVER_ERROR: i16 = -1;
    pub const KAFKA_STORAGE_ERROR: i16 = 56;
    pub const INVALID_CONFIG: i16 = 40;
    pub const UNKNOWN_TOPIC_ID: i16 = 100;
    pub const INCONSISTENT_TOPIC_ID: i16 = 103;
}

/// The one place storage and topic errors become Kafka error codes.
pub fn log_error_code(e: &crate::log::LogError) -> i16 {
    use crate::log::LogError;
    match e {
        LogError::CorruptBatch { .. } => error_code::CORRUPT_MESSAGE,
        LogError::MessageTooLarge { .. } => error_code::MESSAGE_TOO_LARGE,
        LogError::OffsetOutOfRange { .. } => error_code::OFFSET_OUT_OF_RANGE,
        LogError::Io(_) => error_code::KAFKA_STORAGE_ERROR,
        _ => error_code::UNKNOWN_SERVER_ERROR,
    }
}

/// Kafka error code of a topic administration error.
pub fn topic_error_code(e: &crate::topics::TopicError) -> i16 {
    use crate::topics::TopicError;
    match e {
        TopicError::AlreadyExists(_) => error_code::TOPIC_ALREADY_EXISTS,
        TopicError::InvalidName { .. } => error_code::INVALID_TOPIC_EXCEPTION,
        TopicError::Unknown(_) => error_code::UNKNOWN_TOPIC_OR_PARTITION,
        TopicError::InvalidPartitions { .. } => error_code::INVALID_PARTITIONS,
        TopicError::Log(e) => log_error_code(e),
        TopicError::Io(_) => error_code::KAFKA_STORAGE_ERROR,
        TopicError::InvalidConfig(_) => error_code::INVALID_CONFIG,
    }
}
