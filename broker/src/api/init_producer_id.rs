//! InitProducerId: producer ids and epochs. Without a transactional id: a new id for an
//! idempotent producer (or its epoch bumped, KIP-360). With one: the transaction coordinator
//! hands out the id's producer with a bumped epoch, fencing older producers and aborting an
//! open transaction.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use super::{error_code, RequestContext};

/// Serves InitProducerId.
pub async fn handle(ctx: &RequestContext, req: InitProducerIdRequest) -> InitProducerIdResponse {
    let state = &ctx.state;
    // An empty id is taken as none (Kafka answers INVALID_REQUEST; this broker always
    // accepted it for idempotent producers, and keeps doing so).
    if let Some(id) = req.transactional_id.as_ref().filter(|id| !id.is_empty()) {
        let result = state.txns.init_producer_id(
            &state.topics,
            id,
            req.transaction_timeout_ms,
            (req.producer_id.0, req.producer_epoch),
            || state.allocate_producer_id(),
        );
        return match result {
            Ok((pid, epoch)) => InitProducerIdResponse::default()
                .with_producer_id(ProducerId(pid))
                .with_producer_epoch(epoch),
            Err(e) => InitProducerIdResponse::default()
                .with_error_code(e.code())
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        };
    }
    let (id, epoch) =
        if req.producer_id.0 >= 0 && req.producer_epoch >= 0 && req.producer_epoch < i16::MAX - 1 {
            // A producer bumping its epoch (KIP-360) keeps its id.
            (req.producer_id.0, req.producer_epoch + 1)
        } else {
            (state.allocate_producer_id(), 0)
        };
    InitProducerIdResponse::default()
        .with_error_code(error_code::NONE)
        .with_producer_id(ProducerId(id))
        .with_producer_epoch(epoch)
}
