//! FindCoordinator: this broker coordinates every group and every transactional id (v0–v3
//! one key, v4+ a batch of keys).

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;

/// `key_type` 0: a consumer group; 1: a transactional id. Share groups (2) are not ours.
const KEY_TYPE_GROUP: i8 = 0;
const KEY_TYPE_TRANSACTION: i8 = 1;

/// Serves FindCoordinator.
pub async fn handle(ctx: &RequestContext, req: FindCoordinatorRequest) -> FindCoordinatorResponse {
    let state = &ctx.state;
    let error = if req.key_type == KEY_TYPE_GROUP || req.key_type == KEY_TYPE_TRANSACTION {
        0
    } else {
        ResponseError::CoordinatorNotAvailable.code()
    };
    let (node, host, port) = if error == 0 {
        (
            state.node_id,
            state.advertised_host.clone(),
            state.advertised_port,
        )
    } else {
        (-1, String::new(), -1)
    };
    let message = (error != 0).then(|| {
        StrBytes::from_static_str("only group and transaction coordinators are supported")
    });
    if ctx.version >= 4 {
        let coordinators = req
            .coordinator_keys
            .into_iter()
            .map(|key| {
                Coordinator::default()
                    .with_key(key)
                    .with_node_id(BrokerId(node))
                    .with_host(StrBytes::from_string(host.clone()))
                    .with_port(port)
                    .with_error_code(error)
                    .with_error_message(message.clone())
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let resp = FindCoordinatorResponse::default()
        .with_error_code(error)
        .with_node_id(BrokerId(node))
        .with_host(StrBytes::from_string(host))
        .with_port(port);
    if ctx.version >= 1 {
        resp.with_error_message(message)
    } else {
        resp
    }
}
