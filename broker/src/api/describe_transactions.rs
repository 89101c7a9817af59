//! DescribeTransactions: state, producer, timeout and partitions of transactional ids.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, ProducerId, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;

/// Kafka's TRANSACTIONAL_ID_NOT_FOUND.
const TRANSACTIONAL_ID_NOT_FOUND: i16 = 105;

/// Serves DescribeTransactions.
pub async fn handle(
    ctx: &RequestContext,
    req: DescribeTransactionsRequest,
) -> DescribeTransactionsResponse {
    let states = req
        .transactional_ids
        .into_iter()
        .map(|id| {
            let r = TransactionState::default().with_transactional_id(id.clone());
            let Some(m) = ctx.state.txns.describe(&id.0) else {
                return r
                    .with_error_code(TRANSACTIONAL_ID_NOT_FOUND)
                    .with_transaction_state(StrBytes::from_static_str("Dead"))
                    .with_producer_id(ProducerId(-1))
                    .with_producer_epoch(-1)
                    .with_transaction_start_time_ms(-1);
            };
            let mut by_topic: BTreeMap<String, Vec<i32>> = BTreeMap::new();
            for (topic, p) in &m.partitions {
                by_topic.entry(topic.clone()).or_default().push(*p);
            }
            let topics = by_topic
                .into_iter()
                .map(|(t, ps)| {
                    TopicData::default()
                        .with_topic(TopicName(StrBytes::from_string(t)))
                        .with_partitions(ps)
                })
                .collect();
            let started = if m.state == crate::txn::TxnState::Ongoing {
                m.started_ms
            } else {
                -1
            };
            r.with_transaction_state(StrBytes::from_static_str(m.state.name()))
                .with_transaction_timeout_ms(m.timeout_ms)
                .with_transaction_start_time_ms(started)
                .with_producer_id(ProducerId(m.producer_id))
                .with_producer_epoch(m.epoch)
                .with_topics(topics)
        })
        .collect();
    DescribeTransactionsResponse::default().with_transaction_states(states)
}
