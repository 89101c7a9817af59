//! SyncGroup: the leader hands in assignments; every member waits for its own.

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;
use crate::group::classic_group::SyncParams;
use crate::group::error::code_of;
use crate::group::{GroupError, MemberId, SyncResult};

/// Serves SyncGroup; the response waits until the leader's assignment arrives.
pub async fn handle(ctx: &RequestContext, req: SyncGroupRequest) -> SyncGroupResponse {
    let params = SyncParams {
        generation_id: req.generation_id,
        member_id: MemberId(req.member_id.to_string()),
        group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
        protocol_type: req.protocol_type.as_ref().map(|s| s.to_string()),
        protocol_name: req.protocol_name.as_ref().map(|s| s.to_string()),
        assignments: req
            .assignments
            .into_iter()
            .map(|a| (MemberId(a.member_id.to_string()), a.assignment))
            .collect(),
    };
    let r = tokio::select! {
        r = ctx.state.groups.sync(&req.group_id.0, params) => r,
        _ = ctx.state.shutdown.cancelled() => SyncResult::error(GroupError::NotCoordinator),
    };
    let resp = SyncGroupResponse::default()
        .with_error_code(code_of(r.error))
        .with_assignment(r.assignment);
    if ctx.version >= 5 {
        resp.with_protocol_type(r.protocol_type.map(StrBytes::from_string))
            .with_protocol_name(r.protocol_name.map(StrBytes::from_string))
    } else {
        resp
    }
}
