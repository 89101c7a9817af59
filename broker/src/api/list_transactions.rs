//! ListTransactions: the transactional ids this coordinator knows, filtered by state, producer
//! id and (v1) how long their transaction has been running.

use kafka_protocol::messages::list_transactions_response::TransactionState;
use kafka_protocol::messages::{
    ListTransactionsRequest, ListTransactionsResponse, ProducerId, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;
use crate::txn::TxnState;

const STATES: [TxnState; 6] = [
    TxnState::Empty,
    TxnState::Ongoing,
    TxnState::PrepareCommit,
    TxnState::PrepareAbort,
    TxnState::CompleteCommit,
    TxnState::CompleteAbort,
];

/// Serves ListTransactions.
pub async fn handle(
    ctx: &RequestContext,
    req: ListTransactionsRequest,
) -> ListTransactionsResponse {
    let (known, unknown): (Vec<&StrBytes>, Vec<&StrBytes>) = req
        .state_filters
        .iter()
        .partition(|f| STATES.iter().any(|s| s.name() == f.as_str()));
    let now = crate::state::now_ms();
    let min_duration = if ctx.version >= 1 {
        req.duration_filter
    } else {
        -1
    };
    let states = ctx
        .state
        .txns
        .list()
        .into_iter()
        .filter(|m| known.is_empty() || known.iter().any(|f| f.as_str() == m.state.name()))
        .filter(|m| {
            req.producer_id_filters.is_empty()
                || req.producer_id_filters.contains(&ProducerId(m.producer_id))
        })
        .filter(|m| {
            min_duration < 0 || (m.state == TxnState::Ongoing && now - m.started_ms >= min_duration)
        })
        .map(|m| {
            TransactionState::default()
                .with_transactional_id(TransactionalId(StrBytes::from_string(m.transactional_id)))
                .with_producer_id(ProducerId(m.producer_id))
                .with_transaction_state(StrBytes::from_static_str(m.state.name()))
        })
        .collect();
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown.into_iter().cloned().collect())
        .with_transaction_states(states)
}
