//! OffsetFetch: one group (v1–v7) or a batch of groups (v8+); -1 for never-committed partitions.

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{GroupId, OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::RequestContext;
use crate::group::coordinator::FetchedOffsets;
use crate::group::TopicPartition;

/// One partition's answer: (partition, offset, leader epoch, metadata).
type Row = (i32, i64, i32, StrBytes);

/// Group the coordinator's answer by topic, keeping the order of first appearance.
fn by_topic(fetched: FetchedOffsets, version: i16) -> Vec<(String, Vec<Row>)> {
    let mut topics: Vec<(String, Vec<Row>)> = Vec::new();
    for (tp, offset) in fetched {
        let row = match offset {
            Some(o) => (
                tp.partition,
                o.offset,
                if version >= 5 { o.leader_epoch } else { -1 },
                StrBytes::from_string(o.metadata),
            ),
            None => (tp.partition, -1, -1, StrBytes::default()),
        };
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

fn unstable(ctx: &RequestContext, require_stable: bool, group: &str, topic: &str, p: i32) -> bool {
    require_stable && ctx.state.txns.has_pending_offset(group, topic, p)
}

/// Serves OffsetFetch.
pub async fn handle(ctx: &RequestContext, req: OffsetFetchRequest) -> OffsetFetchResponse {
    let groups = &ctx.state.groups;
    let v = ctx.version;
    if v >= 8 {
        let results = req
            .groups
            .iter()
            .map(|g| {
                let wanted = requested(
                    g.topics
                        .as_ref()
                        .map(|ts| ts.iter().map(|t| (&t.name, &t.partition_indexes))),
                );
                let fetched = groups.fetch_offsets(&g.group_id.0, wanted.as_deref());
                let topics = by_topic(fetched, v)
                    .into_iter()
                    .map(|(name, rows)| {
                        let partitions = rows
                            .into_iter()
                            .map(|(p, offset, epoch, md)| {
                                let r = OffsetFetchResponsePartitions::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(offset)
                                    .with_committed_leader_epoch(epoch)
                                    .with_metadata(Some(md));
                                if unstable(ctx, req.require_stable, &g.group_id.0, &name, p) {
                                    r.with_error_code(UNSTABLE_OFFSET_COMMIT)
                                        .with_committed_offset(-1)
                                } else {
                                    r
                                }
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
    let fetched = groups.fetch_offsets(&req.group_id.0, wanted.as_deref());
    let topics = by_topic(fetched, v)
        .into_iter()
        .map(|(name, rows)| {
            let partitions = rows
                .into_iter()
                .map(|(p, offset, epoch, md)| {
                    let r = OffsetFetchResponsePartition::default()
                        .with_partition_index(p)
                        .with_committed_offset(offset)
                        .with_committed_leader_epoch(epoch)
                        .with_metadata(Some(md));
                    let stable = v >= 7 && req.require_stable;
                    if unstable(ctx, stable, &req.group_id.0, &name, p) {
                        r.with_error_code(UNSTABLE_OFFSET_COMMIT)
                            .with_committed_offset(-1)
                    } else {
                        r
                    }
                })
                .collect();
            OffsetFetchResponseTopic::default()
                .with_name(TopicName(StrBytes::from_string(name)))
                .with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
}
