//! EndTxn: commit or abort the producer's transaction (markers on every partition of it).

use kafka_protocol::messages::{EndTxnRequest, EndTxnResponse, ProducerId};

use super::RequestContext;

/// Serves EndTxn; answers once the markers are in the logs and the state is stored.
pub async fn handle(ctx: &RequestContext, req: EndTxnRequest) -> EndTxnResponse {
    let state = &ctx.state;
    let code = match state
        .txns
        .end_txn(
            &state.topics,
            &state.groups,
            &req.transactional_id.0,
            req.producer_id.0,
            req.producer_epoch,
            req.committed,
        )
        .await
    {
        Ok(()) => 0,
        Err(e) => e.code(),
    };
    EndTxnResponse::default()
        .with_error_code(code)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1)
}
