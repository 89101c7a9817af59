//! ListGroups: every group, filtered by state (v4+) and type (v5+; all ours are "classic").

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;
use crate::group::GroupState;

/// Serves ListGroups.
pub async fn handle(ctx: &RequestContext, req: ListGroupsRequest) -> ListGroupsResponse {
    let v = ctx.version;
    let states: Vec<GroupState> = req
        .states_filter
        .iter()
        .filter_map(|s| GroupState::parse(s))
        .collect();
    // A filter naming only states we do not know matches nothing.
    let unknown_only = !req.states_filter.is_empty() && states.is_empty();
    let classic = req.types_filter.is_empty()
        || req
            .types_filter
            .iter()
            .any(|t| t.eq_ignore_ascii_case("classic"));
    if unknown_only || !classic {
        return ListGroupsResponse::default();
    }
    let groups = ctx
        .state
        .groups
        .list(&states)
        .into_iter()
        .map(|g| {
            let mut listed = ListedGroup::default()
                .with_group_id(GroupId(StrBytes::from_string(g.group_id)))
                .with_protocol_type(StrBytes::from_string(g.protocol_type));
            if v >= 4 {
                listed = listed.with_group_state(StrBytes::from_static_str(g.state.as_str()));
            }
            if v >= 5 {
                listed = listed.with_group_type(StrBytes::from_static_str("classic"));
            }
            listed
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}
