//! `RdKafka\KafkaConsumer`: the high-level (group) consumer.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::FromZval;
use ext_php_rs::flags::DataType;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};

use crate::client::{ClientKind, ClientState};
use crate::conf::{Conf, TopicConf};
use crate::exception::rdkafka_exception;
use crate::kafka::ClientOps;
use crate::metadata::Metadata;
use crate::ops;
use crate::returns::{IntRef, MessageRet, PhpArray};
use crate::topic::{AnyTopic, KafkaConsumerTopic};
use crate::topic_partition::{self, TopicPartition};
use crate::weak_typing::{PhpBool, PhpBytes, PhpInt};

/// `RdKafka\Message|array|null $message_or_offsets`.
pub enum CommitArg<'a> {
    Message(&'a Zval),
    Offsets(&'a ZendHashTable),
}

impl<'a> FromZval<'a> for CommitArg<'a> {
    const TYPE: DataType = DataType::object("RdKafka\\Message");

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        if let Some(array) = zval.array() {
            return Some(CommitArg::Offsets(array));
        }
        let obj = zval.object()?;
        obj.instance_of(crate::message::message_ce())
            .then_some(CommitArg::Message(zval))
    }
}

/// What to commit, resolved from the PHP argument.
pub enum CommitWhat {
    /// The current positions of the assignment.
    Current,
    /// Explicit offsets (a Message commits its offset + 1).
    Offsets(Vec<TopicPartition>),
}

fn commit_what(arg: Option<CommitArg<'_>>) -> PhpResult<CommitWhat> {
    match arg {
        None => Ok(CommitWhat::Current),
        Some(CommitArg::Offsets(array)) => Ok(CommitWhat::Offsets(
            topic_partition::list_from_array(array)?,
        )),
        Some(CommitArg::Message(zval)) => {
            let obj = zval
                .object()
                .ok_or_else(|| rdkafka_exception("Invalid message", 0))?;
            let err = obj.get_property::<i64>("err").unwrap_or(0);
            if err != 0 {
                return Err(rdkafka_exception(
                    "Invalid argument: Specified Message has an error",
                    -186,
                ));
            }
            let topic = obj.get_property::<String>("topic_name").map_err(|_| {
                rdkafka_exception("Invalid argument: Specified Message has no topic", -186)
            })?;
            let partition = obj.get_property::<i64>("partition").unwrap_or(0) as i32;
            let offset = obj.get_property::<i64>("offset").unwrap_or(0);
            Ok(CommitWhat::Offsets(vec![TopicPartition {
                topic,
                partition,
                offset: offset + 1,
                err: None,
            }]))
        }
    }
}

#[php_class]
#[php(name = "RdKafka\\KafkaConsumer")]
pub struct KafkaConsumer {
    state: ClientState,
}

impl ClientOps for KafkaConsumer {
    fn state(&self) -> PhpResult<&ClientState> {
        Ok(&self.state)
    }
}

#[php_impl]
impl KafkaConsumer {
    pub fn __construct(conf: &Conf) -> PhpResult<Self> {
        if conf.config.get("group.id").is_none_or(|g| g.is_empty()) {
            return Err(rdkafka_exception("\"group.id\" must be configured", 0));
        }
        Ok(KafkaConsumer {
            state: ClientState::new(
                ClientKind::GroupConsumer,
                conf.config.clone(),
                conf.callbacks.clone(),
            )?,
        })
    }
    pub fn assign(&self, topic_partitions: Option<PhpArray>) -> PhpResult<()> {
        self.state.check_process()?;
        let list = topic_partitions
            .map(|a| topic_partition::list_from_array(a.0))
            .transpose()?;
        ops::assign(&self.state, list)
    }

    pub fn incremental_assign(&self, topic_partitions: PhpArray) -> PhpResult<()> {
        self.state.check_process()?;
        let list = topic_partition::list_from_array(topic_partitions.0)?;
        ops::incremental_assign(&self.state, list, true)
    }

    pub fn incremental_unassign(&self, topic_partitions: PhpArray) -> PhpResult<()> {
        self.state.check_process()?;
        let list = topic_partition::list_from_array(topic_partitions.0)?;
        ops::incremental_assign(&self.state, list, false)
    }

    pub fn get_assignment(&self) -> PhpResult<ZBox<ZendHashTable>> {
        self.state.check_process()?;
        topic_partition::list_to_array(ops::assignment(&self.state)?)
    }
    pub fn commit(
        self_: &mut ZendClassObject<Self>,
        message_or_offsets: Option<CommitArg>,
    ) -> PhpResult<()> {
        let what = commit_what(message_or_offsets)?;
        let this = ops::this_zval(self_);
        self_.state.check_process()?;
        ops::commit(&this, &self_.state, what, false)
    }

    pub fn close(self_: &mut ZendClassObject<Self>) -> PhpResult<()> {
        let this = ops::this_zval(self_);
        self_.state.check_process()?;
        let result = ops::close(&this, &self_.state);
        self_.state.mark_closed();
        result
    }
    pub fn commit_async(
        self_: &mut ZendClassObject<Self>,
        message_or_offsets: Option<CommitArg>,
    ) -> PhpResult<()> {
        let what = commit_what(message_or_offsets)?;
        let this = ops::this_zval(self_);
        self_.state.check_process()?;
        ops::commit(&this, &self_.state, what, true)
    }

    pub fn consume(self_: &mut ZendClassObject<Self>, timeout_ms: PhpInt) -> PhpResult<MessageRet> {
        let this = ops::this_zval(self_);
        self_.state.check_process()?;
        ops::consume_group(&this, &self_.state, timeout_ms.0)
    }

    pub fn subscribe(&self, topics: PhpArray) -> PhpResult<()> {
        self.state.check_process()?;
        let mut names = Vec::with_capacity(topics.0.len());
        for (_, value) in topics.0.iter() {
            let name = crate::weak_typing::scalar_to_string(value)
                .ok_or_else(|| rdkafka_exception("Invalid topic name", -186))?;
            names.push(name);
        }
        ops::subscribe(&self.state, names)
    }

    pub fn get_subscription(&self) -> PhpResult<Vec<String>> {
        self.state.check_process()?;
        ops::subscription(&self.state)
    }

    pub fn unsubscribe(&self) -> PhpResult<()> {
        self.state.check_process()?;
        ops::unsubscribe(&self.state)
    }

    pub fn get_metadata(
        &self,
        all_topics: PhpBool,
        only_topic: Option<AnyTopic>,
        timeout_ms: PhpInt,
    ) -> PhpResult<Metadata> {
        self.state.check_process()?;
        ops::metadata(
            &self.state,
            all_topics.0,
            only_topic.as_ref().map(|t| t.0.as_str()),
            timeout_ms.0,
        )
    }

    pub fn get_controller_id(&self, timeout_ms: PhpInt) -> PhpResult<i64> {
        self.state.check_process()?;
        ops::controller_id(&self.state, timeout_ms.0)
    }
    pub fn new_topic(
        self_: &mut ZendClassObject<Self>,
        topic_name: PhpBytes,
        topic_conf: Option<&TopicConf>,
    ) -> PhpResult<KafkaConsumerTopic> {
        let _ = topic_conf;
        self_.state.check_process()?;
        Ok(KafkaConsumerTopic::new(
            ops::this_zval(self_),
            topic_name.to_text(),
        ))
    }

    pub fn get_committed_offsets(
        &self,
        topic_partitions: PhpArray,
        timeout_ms: PhpInt,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        self.state.check_process()?;
        let list = topic_partition::list_from_array(topic_partitions.0)?;
        topic_partition::list_to_array(ops::committed(&self.state, list, timeout_ms.0)?)
    }

    pub fn get_offset_positions(
        &self,
        topic_partitions: PhpArray,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        self.state.check_process()?;
        let list = topic_partition::list_from_array(topic_partitions.0)?;
        topic_partition::list_to_array(ops::positions(&self.state, list)?)
    }

    pub fn query_watermark_offsets(
        &self,
        topic: PhpBytes,
        partition: PhpInt,
        low: IntRef,
        high: IntRef,
        timeout_ms: PhpInt,
    ) -> PhpResult<()> {
        self.state.check_process()?;
        let (lo, hi) = ops::watermarks(&self.state, &topic.to_text(), partition.0, timeout_ms.0)?;
        low.set(lo);
        high.set(hi);
        Ok(())
    }

    pub fn offsets_for_times(
        &self,
        topic_partitions: PhpArray,
        timeout_ms: PhpInt,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        self.state.check_process()?;
        let list = topic_partition::list_from_array(topic_partitions.0)?;
        topic_partition::list_to_array(ops::offsets_for_times(&self.state, list, timeout_ms.0)?)
    }

    pub fn pause_partitions(&self, topic_partitions: PhpArray) -> PhpResult<ZBox<ZendHashTable>> {
        self.state.check_process()?;
        let list = topic_partition::list_from_array(topic_partitions.0)?;
        topic_partition::list_to_array(ops::pause_resume(&self.state, list, true)?)
    }

    pub fn resume_partitions(&self, topic_partitions: PhpArray) -> PhpResult<ZBox<ZendHashTable>> {
        self.state.check_process()?;
        let list = topic_partition::list_from_array(topic_partitions.0)?;
        topic_partition::list_to_array(ops::pause_resume(&self.state, list, false)?)
    }
}
