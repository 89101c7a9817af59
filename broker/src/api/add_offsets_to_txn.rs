//! AddOffsetsToTxn: a group's offsets will be committed with the producer's transaction.

use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};

use super::RequestContext;

/// Serves AddOffsetsToTxn.
pub async fn handle(ctx: &RequestContext, req: AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse {
    let code = match ctx.state.txns.add_offsets(
        &req.transactional_id.0,
        req.producer_id.0,
        req.producer_epoch,
        &req.group_id.0,
    ) {
        Ok(()) => 0,
        Err(e) => e.code(),
    };
    AddOffsetsToTxnResponse::default().with_error_code(code)
}
