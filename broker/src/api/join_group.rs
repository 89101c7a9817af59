//! JoinGroup: translate to [`JoinParams`], wait for the coordinator, translate back.

use std::time::Duration;

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;
use crate::group::error::code_of;
use crate::group::member::ClientInfo;
use crate::group::{GroupError, JoinParams, JoinResult, MemberId};

/// Who sent the request, as DescribeGroups shows it (Kafka prefixes the host with `/`).
pub fn client_info(ctx: &RequestContext) -> ClientInfo {
    ClientInfo {
        client_id: ctx.client_id.clone().unwrap_or_default(),
        client_host: format!("/{}", ctx.peer.ip()),
    }
}

fn millis(ms: i32) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

/// Serves JoinGroup; the response waits until the group's rebalance completes.
pub async fn handle(ctx: &RequestContext, req: JoinGroupRequest) -> JoinGroupResponse {
    let v = ctx.version;
    let params = JoinParams {
        member_id: MemberId(req.member_id.to_string()),
        group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
        session_timeout: millis(req.session_timeout_ms),
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalance_timeout: millis(if v >= 1 {
            req.rebalance_timeout_ms
        } else {
            req.session_timeout_ms
        }),
        protocol_type: req.protocol_type.to_string(),
        protocols: req
            .protocols
            .into_iter()
            .map(|p| (p.name.to_string(), p.metadata))
            .collect(),
        client: client_info(ctx),
        version: v,
    };
    // A parked JoinGroup must not hold up shutdown: the client looks for the coordinator again.
    let member_id = params.member_id.clone();
    let r = tokio::select! {
        r = ctx.state.groups.join(&req.group_id.0, params) => r,
        _ = ctx.state.shutdown.cancelled() => JoinResult::error(GroupError::NotCoordinator, member_id),
    };
    let members = r
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(StrBytes::from_string(m.member_id.0))
                .with_group_instance_id(if v >= 5 {
                    m.group_instance_id.map(StrBytes::from_string)
                } else {
                    None
                })
                .with_metadata(m.metadata)
        })
        .collect();
    // Before v7 the protocol name is a non-nullable string.
    let protocol_name = match r.protocol_name {
        Some(p) => Some(StrBytes::from_string(p)),
        None if v < 7 => Some(StrBytes::default()),
        None => None,
    };
    JoinGroupResponse::default()
        .with_error_code(code_of(r.error))
        .with_generation_id(r.generation_id)
        .with_protocol_type(r.protocol_type.map(StrBytes::from_string))
        .with_protocol_name(protocol_name)
        .with_leader(StrBytes::from_string(r.leader_id.0))
        .with_skip_assignment(v >= 9 && r.skip_assignment)
        .with_member_id(StrBytes::from_string(r.member_id.0))
        .with_members(members)
}
