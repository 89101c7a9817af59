//! OffsetFetch: one group (v1–v7) or a batch of groups (v8+); -1 for never-committed partitions.

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{GroupId, OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;
use crate::group::TopicPartition;

/// One partition's answer, the same in the single-group (v1–v7) and batched (v8+) shapes.
struct Row {
    partition: i32,
    offset: i64,
    leader_epoch: i32,
    metadata: StrBytes,
    error_code: i16,
}

/// The answer for one group, grouped by topic in the order of first appearance. With
/// `require_stable`, a partition a transaction holds an offset of answers
/// UNSTABLE_OFFSET_COMMIT (and offset -1).
fn answer(
    ctx: &RequestContext,
    group: &str,
    wanted: Option<Vec<TopicPartition>>,
    require_stable: bool,
) -> Vec<(String, Vec<Row>)> {
    let fetched = ctx.state.groups.fetch_offsets(group, wanted.as_deref());
    let mut topics: Vec<(String, Vec<Row>)> = Vec::new();
    for (tp, offset) in fetched {
        let mut row = match offset {
            Some(o) => Row {
                partition: tp.partition,
                offset: o.offset,
                leader_epoch: if ctx.version >= 5 { o.leader_epoch } else { -1 },
                metadata: StrBytes::from_string(o.metadata),
                error_code: 0,
            },
            None => Row {
                partition: tp.partition,
                offset: -1,
                leader_epoch: -1,
                metadata: StrBytes::default(),
                error_code: 0,
            },
        };
        if require_stable
            && ctx
                .state
                .txns
                .has_pending_offset(group, &tp.topic, tp.partition)
        {
            row.error_code = UNSTABLE_OFFSET_COMMIT;
            row.offset = -1;
        }
        match topics.iter_mut().find(|(name, _)| *name == tp.topic) {
            Some((_, rows)) => rows.push(row),
            None => topics.push((tp.topic, vec![row])),
        }
    }
    topics
}

fn requested<'a>(
    topics: Option<impl Iterator<Item = (&'a TopicName, &'a Vec<i32>)>>,
) -> Option<Vec<TopicPartition>> {
    topics.map(|ts| {
        ts.flat_map(|(name, parts)| {
            parts
                .iter()
                .map(|p| TopicPartition::new(name.0.to_string(), *p))
        })
        .collect()
    })
}

/// Kafka's UNSTABLE_OFFSET_COMMIT: a transaction holds an offset of this partition; the
/// client retries (KIP-447 `require_stable`).
const UNSTABLE_OFFSET_COMMIT: i16 = 88;

/// Serves OffsetFetch.
pub async fn handle(ctx: &RequestContext, req: OffsetFetchRequest) -> OffsetFetchResponse {
    if ctx.version >= 8 {
        let results = req
            .groups
            .iter()
            .map(|g| {
                let wanted = requested(
                    g.topics
                        .as_ref()
                        .map(|ts| ts.iter().map(|t| (&t.name, &t.partition_indexes))),
                );
                let topics = answer(ctx, &g.group_id.0, wanted, req.require_stable)
                    .into_iter()
                    .map(|(name, rows)| {
                        let partitions = rows
                            .into_iter()
                            .map(|r| {
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(r.partition)
                                    .with_committed_offset(r.offset)
                                    .with_committed_leader_epoch(r.leader_epoch)
                                    .with_metadata(Some(r.metadata))
                                    .with_error_code(r.error_code)
                            })
                            .collect();
                        OffsetFetchResponseTopics::default()
                            .with_name(TopicName(StrBytes::from_string(name)))
                            .with_partitions(partitions)
                    })
                    .collect();
                OffsetFetchResponseGroup::default()
                    .with_group_id(GroupId(g.group_id.0.clone()))
                    .with_topics(topics)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(results);
    }
    let wanted = requested(
        req.topics
            .as_ref()
            .map(|ts| ts.iter().map(|t| (&t.name, &t.partition_indexes))),
    );
    let stable = ctx.version >= 7 && req.require_stable;
    let topics = answer(ctx, &req.group_id.0, wanted, stable)
        .into_iter()
        .map(|(name, rows)| {
            let partitions = rows
                .into_iter()
                .map(|r| {
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(r.partition)
                        .with_committed_offset(r.offset)
                        .with_committed_leader_epoch(r.leader_epoch)
                        .with_metadata(Some(r.metadata))
                        .with_error_code(r.error_code)
                })
                .collect();
            OffsetFetchResponseTopic::default()
                .with_name(TopicName(StrBytes::from_string(name)))
                .with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
}
