//! ListOffsets: earliest (-2), latest (-1; the last stable offset for read_committed),
//! max timestamp (-3), or by timestamp (time index).

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::{error_code, log_error_code, RequestContext};

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const LATEST_TIERED: i64 = -5;

/// Serves ListOffsets.
pub async fn handle(ctx: &RequestContext, req: ListOffsetsRequest) -> ListOffsetsResponse {
    // isolation_level 1 (v2+): "latest" is the last stable offset.
    let read_committed = ctx.version >= 2 && req.isolation_level == 1;
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let topic = ctx.state.topics.get(t.name.0.as_str());
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in t.partitions {
            let mut r = ListOffsetsPartitionResponse::default()
                .with_partition_index(p.partition_index)
                .with_timestamp(-1)
                .with_offset(-1)
                .with_leader_epoch(if ctx.version >= 4 { 0 } else { -1 });
            let Some(partition) = topic.as_ref().and_then(|t| t.partition(p.partition_index))
            else {
                r.error_code = error_code::UNKNOWN_TOPIC_OR_PARTITION;
                r.leader_epoch = -1;
                partitions.push(r);
                continue;
            };
            let guard = partition.log();
            let Some(log) = guard.as_ref() else {
                r.error_code = error_code::UNKNOWN_TOPIC_OR_PARTITION;
                partitions.push(r);
                continue;
            };
            match p.timestamp {
                LATEST | LATEST_TIERED if read_committed => {
                    r.offset = partition
                        .producers()
                        .last_stable_offset(log.log_end_offset())
                }
                LATEST | LATEST_TIERED => r.offset = log.log_end_offset(),
                EARLIEST | EARLIEST_LOCAL => r.offset = log.log_start_offset(),
                MAX_TIMESTAMP => {
                    if let Some((ts, off)) = log.max_timestamp() {
                        r.timestamp = ts;
                        r.offset = off;
                    }
                }
                ts if ts >= 0 => match log.offset_for_timestamp(ts) {
                    // read_committed: nothing at or past the last stable offset (as Kafka).
                    Ok(Some((off, _)))
                        if read_committed
                            && off
                                >= partition
                                    .producers()
                                    .last_stable_offset(log.log_end_offset()) => {}
                    Ok(Some((off, found_ts))) => {
                        r.offset = off;
                        r.timestamp = found_ts;
                    }
                    Ok(None) => {}
                    Err(e) => r.error_code = log_error_code(&e),
                },
                _ => r.error_code = error_code::INVALID_REQUEST,
            }
            partitions.push(r);
        }
        topics.push(
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions),
        );
    }
    ListOffsetsResponse::default().with_topics(topics)
}
