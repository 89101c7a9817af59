//! InitProducerId: hands out producer ids and epochs so idempotent producers (the Java
//! default) start. Batches carrying producer ids are accepted; sequence numbers are not yet
//! checked (no de-duplication), and transactions are not supported.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use super::{error_code, RequestContext};

/// Serves InitProducerId.
pub async fn handle(ctx: &RequestContext, req: InitProducerIdRequest) -> InitProducerIdResponse {
    let (id, epoch) =
        if req.producer_id.0 >= 0 && req.producer_epoch >= 0 && req.producer_epoch < i16::MAX - 1 {
            // A producer bumping its epoch (KIP-360) keeps its id.
            (req.producer_id.0, req.producer_epoch + 1)
        } else {
            (ctx.state.allocate_producer_id(), 0)
        };
    InitProducerIdResponse::default()
        .with_error_code(error_code::NONE)
        .with_producer_id(ProducerId(id))
        .with_producer_epoch(epoch)
}
