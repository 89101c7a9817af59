//! LeaveGroup: one member (v0–v2) or a batch of members by id or instance id (v3+).

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use super::RequestContext;
use crate::group::MemberId;

/// Serves LeaveGroup.
pub async fn handle(ctx: &RequestContext, req: LeaveGroupRequest) -> LeaveGroupResponse {
    let groups = &ctx.state.groups;
    if ctx.version < 3 {
        let results = groups.leave(
            &req.group_id.0,
            &[(MemberId(req.member_id.to_string()), None)],
        );
        let code = results
            .into_iter()
            .next()
            .and_then(Result::err)
            .map_or(0, |e| e.code());
        return LeaveGroupResponse::default().with_error_code(code);
    }
    let members: Vec<(MemberId, Option<String>)> = req
        .members
        .iter()
        .map(|m| {
            (
                MemberId(m.member_id.to_string()),
                m.group_instance_id.as_ref().map(|s| s.to_string()),
            )
        })
        .collect();
    for m in &req.members {
        tracing::info!(
            group = %req.group_id.0.as_str(),
            member = %m.member_id.as_str(),
            reason = m.reason.as_deref().unwrap_or(""),
            "member leaving"
        );
    }
    let results = groups.leave(&req.group_id.0, &members);
    let responses = req
        .members
        .into_iter()
        .zip(results)
        .map(|(m, r)| {
            MemberResponse::default()
                .with_member_id(m.member_id)
                .with_group_instance_id(m.group_instance_id)
                .with_error_code(r.err().map_or(0, |e| e.code()))
        })
        .collect();
    LeaveGroupResponse::default().with_members(responses)
}
