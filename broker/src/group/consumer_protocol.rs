//! The little the coordinator reads of the consumer protocol embedded in group metadata
//! (protocol type `consumer`): subscribed topics, and the empty assignment.

use bytes::{Buf, Bytes};

/// A ConsumerProtocolAssignment v0 with no partitions and null user data: what a member the
/// leader left out receives, so every consumer can decode its assignment.
pub const EMPTY_CONSUMER_ASSIGNMENT: &[u8] = &[0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];

/// The topic list of a ConsumerProtocolSubscription (any version: the prefix is the same).
pub fn subscription_topics(mut metadata: Bytes) -> Vec<String> {
    let mut topics = Vec::new();
    if metadata.remaining() < 6 {
        return topics;
    }
    let _version = metadata.get_i16();
    let count = metadata.get_i32();
    for _ in 0..count.max(0) {
        if metadata.remaining() < 2 {
            break;
        }
        let len = metadata.get_i16();
        if len < 0 || metadata.remaining() < len as usize {
            break;
        }
        let name = metadata.split_to(len as usize);
        topics.push(String::from_utf8_lossy(&name).into_owned());
    }
    topics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_metadata_does_not_panic() {
        for md in [
            &b""[..],
            &[0, 0, 0x7f, 0xff, 0xff, 0xff][..],
            &[0, 0, 0, 0, 0, 1, 0x7f, 0][..],
        ] {
            let _ = subscription_topics(Bytes::copy_from_slice(md));
        }
    }
}
