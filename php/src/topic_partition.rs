//! `RdKafka\TopicPartition`: topic, partition, offset (and an error after
//! commits / offset queries), with php-rdkafka's fluent setters.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};

use crate::exception::invalid_argument;
use crate::weak_typing::{PhpBytes, PhpInt};

/// No `Clone`/`Default` (see `class_registry`): php-rdkafka's TopicPartition
/// is uncloneable and subclassable.
#[php_class]
#[php(name = "RdKafka\\TopicPartition")]
#[derive(Debug)]
pub struct TopicPartition {
    // Exposed as properties so var_dump()/print_r() show what php-rdkafka's
    // debug info shows (topic, partition, offset, err).
    #[php(prop)]
    pub topic: String,
    #[php(prop)]
    pub partition: i32,
    #[php(prop)]
    pub offset: i64,
    #[php(prop)]
    pub err: Option<i32>,
}

#[php_impl]
impl TopicPartition {
    #[php(defaults(offset = 0))]
    pub fn __construct(topic: PhpBytes, partition: PhpInt, offset: PhpInt) -> Self {
        TopicPartition {
            topic: topic.to_text(),
            partition: partition.0 as i32,
            offset: offset.0,
            err: Some(0),
        }
    }

    pub fn get_topic(&self) -> Option<String> {
        Some(self.topic.clone())
    }

    pub fn set_topic<'a>(
        self_: &'a mut ZendClassObject<TopicPartition>,
        topic_name: PhpBytes<'_>,
    ) -> &'a mut ZendClassObject<TopicPartition> {
        self_.topic = topic_name.to_text();
        self_
    }

    pub fn get_partition(&self) -> i64 {
        i64::from(self.partition)
    }

    pub fn set_partition(
        self_: &mut ZendClassObject<TopicPartition>,
        partition: PhpInt,
    ) -> &mut ZendClassObject<TopicPartition> {
        self_.partition = partition.0 as i32;
        self_
    }

    pub fn get_offset(&self) -> i64 {
        self.offset
    }

    pub fn set_offset(
        self_: &mut ZendClassObject<TopicPartition>,
        offset: PhpInt,
    ) -> &mut ZendClassObject<TopicPartition> {
        self_.offset = offset.0;
        self_
    }

    pub fn get_err(&self) -> Option<i64> {
        self.err.map(i64::from)
    }
}

impl TopicPartition {
    /// A field-by-field copy (the PHP class itself is not cloneable).
    pub fn copy(&self) -> Self {
        TopicPartition {
            topic: self.topic.clone(),
            partition: self.partition,
            offset: self.offset,
            err: self.err,
        }
    }

    pub fn to_core(&self) -> kafkars::TopicPartition {
        kafkars::TopicPartition {
            topic: self.topic.clone(),
            partition: self.partition,
            offset: self.offset,
            err: kafkars::ErrorCode(self.err.unwrap_or(0)),
            metadata: None,
        }
    }

    pub fn from_core(tp: kafkars::TopicPartition) -> Self {
        TopicPartition {
            topic: tp.topic,
            partition: tp.partition,
            offset: tp.offset,
            err: Some(tp.err.0),
        }
    }
}

/// Reads a PHP array of `RdKafka\TopicPartition` (php-rdkafka's
/// `array_arg_to_kafka_topic_partition_list`), rejecting other elements with
/// php-rdkafka's exception.
pub fn list_from_array(array: &ZendHashTable) -> PhpResult<Vec<TopicPartition>> {
    let mut out = Vec::with_capacity(array.len());
    for (i, (_, value)) in array.iter().enumerate() {
        match topic_partition_of(value) {
            Some(tp) => out.push(tp.copy()),
            None => {
                let type_name = value_type_name(value);
                return Err(invalid_argument(format!(
                    "Array member {i} is not an instance of RdKafka\\TopicPartition, {type_name} given"
                )));
            }
        }
    }
    Ok(out)
}

fn topic_partition_of(value: &Zval) -> Option<&TopicPartition> {
    let obj = value.object()?;
    ZendClassObject::<TopicPartition>::from_zend_obj(obj).map(|o| &**o)
}

fn value_type_name(value: &Zval) -> String {
    match value.object() {
        Some(obj) => obj.get_class_name().unwrap_or_else(|_| "object".into()),
        None => value.get_type().to_string(),
    }
}

/// Builds a PHP array of `RdKafka\TopicPartition` objects.
pub fn list_to_array(list: Vec<TopicPartition>) -> PhpResult<ZBox<ZendHashTable>> {
    let mut array = ZendHashTable::with_capacity(list.len() as u32);
    for tp in list {
        array.push(tp)?;
    }
    Ok(array)
}
