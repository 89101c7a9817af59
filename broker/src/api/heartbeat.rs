//! Heartbeat: keeps a member's session alive and tells it when to rejoin.

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use super::RequestContext;
use crate::group::MemberId;

/// Serves Heartbeat.
pub async fn handle(ctx: &RequestContext, req: HeartbeatRequest) -> HeartbeatResponse {
    let result = ctx.state.groups.heartbeat(
        &req.group_id.0,
        req.generation_id,
        &MemberId(req.member_id.to_string()),
        req.group_instance_id.as_deref(),
    );
    HeartbeatResponse::default().with_error_code(result.err().map_or(0, |e| e.code()))
}
