//! `RdKafka\Topic` (abstract) and its three kinds: `ProducerTopic`,
//! `ConsumerTopic`, `KafkaConsumerTopic`. A topic keeps its client object
//! alive (as php-rdkafka's `zrk`) and reaches the client state through it.

use std::panic::AssertUnwindSafe;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::builders::{ClassBuilder, FunctionBuilder};
use ext_php_rs::convert::{FromZval, IntoZval};
use ext_php_rs::error::php_error;
use ext_php_rs::flags::{ClassFlags, DataType, ErrorType, MethodFlags};
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ArrayKey, ZendClassObject, ZendHashTable, Zval};
use ext_php_rs::zend::{run_handler, ClassEntry, ExecuteData};
use kafkars::TopicConfig;

use crate::callbacks::PhpCallable;
use crate::class_registry::ClassSlot;
use crate::client::ClientState;
use crate::constants::{MSG_F_BLOCK, PARTITION_UA};
use crate::exception::{invalid_argument, rdkafka_exception};
use crate::kafka::{ClientOps, Consumer, Producer};
use crate::kafka_consumer::KafkaConsumer;
use crate::ops;
use crate::queue::Queue;
use crate::returns::{MessageRet, PhpArray};
use crate::weak_typing::{PhpBytes, PhpInt};

static TOPIC_CE: ClassSlot = ClassSlot::new();

/// The `RdKafka\Topic` class entry (registered by hand: php-rdkafka's abstract
/// base has no constructor, which a `#[php_class]` always gets).
pub fn topic_ce() -> &'static ClassEntry {
    TOPIC_CE.get()
}

extern "C" fn topic_get_name(_ex: &mut ExecuteData, _retval: &mut Zval) {
    // Every concrete topic class declares its own getName(); this one only
    // runs for a user subclass, which has no Kafka topic behind it.
    run_handler(AssertUnwindSafe(|| {
        rdkafka_exception("RdKafka\\Topic::__construct() has not been called", 0).throw();
    }));
}

/// Registers `abstract class RdKafka\Topic`. MINIT only.
pub fn register_topic_class() -> ext_php_rs::error::Result<()> {
    let get_name =
        FunctionBuilder::new("getName", topic_get_name).returns(DataType::String, false, false);
    ClassBuilder::new("RdKafka\\Topic")
        .flags(ClassFlags::Abstract)
        .method(get_name, MethodFlags::Public)
        .registration(|ce, _| TOPIC_CE.set(ce))
        .register()
}

/// Any `RdKafka\Topic` instance given as a parameter (`?RdKafka\Topic $only_topic`).
pub struct AnyTopic(pub String);

impl<'a> FromZval<'a> for AnyTopic {
    const TYPE: DataType = DataType::object("RdKafka\\Topic");

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        let obj = zval.object()?;
        if let Some(t) = ZendClassObject::<ProducerTopic>::from_zend_obj(obj) {
            return Some(AnyTopic(t.name.clone()));
        }
        if let Some(t) = ZendClassObject::<ConsumerTopic>::from_zend_obj(obj) {
            return Some(AnyTopic(t.name.clone()));
        }
        if let Some(t) = ZendClassObject::<KafkaConsumerTopic>::from_zend_obj(obj) {
            return Some(AnyTopic(t.name.clone()));
        }
        None
    }
}

/// A topic object returned as `RdKafka\Topic`.
pub struct TopicRet(Zval);

impl TopicRet {
    pub fn new<T: IntoZval>(topic: T) -> PhpResult<Self> {
        Ok(TopicRet(topic.into_zval(false)?))
    }
}

impl IntoZval for TopicRet {
    const TYPE: DataType = DataType::object("RdKafka\\Topic");
    const NULLABLE: bool = false;

    fn set_zval(self, zv: &mut Zval, _persistent: bool) -> ext_php_rs::error::Result<()> {
        *zv = self.0;
        Ok(())
    }
}

fn check_partition(partition: i64) -> PhpResult<i32> {
    if partition != PARTITION_UA && !(0..=0x7FFF_FFFF).contains(&partition) {
        return Err(invalid_argument(format!(
            "Out of range value '{partition}' for $partition"
        )));
    }
    Ok(partition as i32)
}

fn check_msgflags(msgflags: i64) -> PhpResult<()> {
    if msgflags != 0 && msgflags != MSG_F_BLOCK {
        return Err(invalid_argument(format!(
            "Invalid value '{msgflags}' for $msgflags"
        )));
    }
    Ok(())
}

fn owner_state<T: ClientOps + ext_php_rs::class::RegisteredClass>(
    owner: &Zval,
) -> PhpResult<&ClientState> {
    let obj = owner
        .object()
        .ok_or_else(|| rdkafka_exception("RdKafka\\Topic::__construct() has not been called", 0))?;
    let client = ZendClassObject::<T>::from_zend_obj(obj)
        .ok_or_else(|| rdkafka_exception("RdKafka\\Topic::__construct() has not been called", 0))?;
    let state = client.state()?;
    state.check_process()?;
    Ok(state)
}

/// `RdKafka\ProducerTopic`.
#[php_class]
#[php(name = "RdKafka\\ProducerTopic")]
#[php(extends(ce = topic_ce, stub = "\\RdKafka\\Topic"))]
pub struct ProducerTopic {
    owner: Zval,
    name: String,
    conf: TopicConfig,
}

impl ProducerTopic {
    pub fn new(owner: Zval, name: String, conf: TopicConfig) -> Self {
        ProducerTopic { owner, name, conf }
    }
}

#[php_impl]
impl ProducerTopic {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        ProducerTopic {
            owner: Zval::null(),
            name: String::new(),
            conf: TopicConfig::new(),
        }
    }

    pub fn get_name(&self) -> String {
        self.name.clone()
    }
    pub fn produce(
        &self,
        partition: PhpInt,
        msgflags: PhpInt,
        payload: Option<PhpBytes>,
        key: Option<PhpBytes>,
        msg_opaque: Option<PhpBytes>,
    ) -> PhpResult<()> {
        let partition = check_partition(partition.0)?;
        check_msgflags(msgflags.0)?;
        let state = owner_state::<Producer>(&self.owner)?;
        ops::produce(
            state,
            &self.name,
            &self.conf,
            partition,
            msgflags.0 == MSG_F_BLOCK,
            payload.as_ref().map(|p| &*p.0),
            key.as_ref().map(|k| &*k.0),
            None,
            None,
            msg_opaque.as_ref().map(|o| &*o.0),
        )
    }
    #[allow(clippy::too_many_arguments)]
    pub fn producev(
        &self,
        partition: PhpInt,
        msgflags: PhpInt,
        payload: Option<PhpBytes>,
        key: Option<PhpBytes>,
        headers: Option<PhpArray>,
        timestamp_ms: Option<PhpInt>,
        msg_opaque: Option<PhpBytes>,
    ) -> PhpResult<()> {
        let partition = check_partition(partition.0)?;
        check_msgflags(msgflags.0)?;
        let state = owner_state::<Producer>(&self.owner)?;
        let headers = headers.map(|h| headers_from_array(h.0)).transpose()?;
        ops::produce(
            state,
            &self.name,
            &self.conf,
            partition,
            msgflags.0 == MSG_F_BLOCK,
            payload.as_ref().map(|p| &*p.0),
            key.as_ref().map(|k| &*k.0),
            headers,
            timestamp_ms.map(|t| t.0).filter(|t| *t != 0),
            msg_opaque.as_ref().map(|o| &*o.0),
        )
    }
}

/// php-rdkafka's header conversion: values `convert_to_string` (an array is
/// "Array" with PHP's warning), and the headers end at the first integer key
/// (php-rdkafka's loop stops there: `['key']` sends no header).
fn headers_from_array(array: &ZendHashTable) -> PhpResult<Vec<(String, Option<Vec<u8>>)>> {
    let mut out = Vec::with_capacity(array.len());
    for (key, value) in array.iter() {
        if let ArrayKey::Long(_) = key {
            break;
        }
        let name = key.to_string();
        let value = match value.zend_str() {
            Some(s) => s.as_bytes().to_vec(),
            None if value.is_array() => {
                php_error(&ErrorType::Warning, "Array to string conversion");
                b"Array".to_vec()
            }
            None => value
                .coerce_to_string()
                .ok_or_else(|| {
                    invalid_argument(format!("Header \"{name}\" value must be a string"))
                })?
                .into_bytes(),
        };
        out.push((name, Some(value)));
    }
    Ok(out)
}

/// `RdKafka\ConsumerTopic` (low-level consumer).
#[php_class]
#[php(name = "RdKafka\\ConsumerTopic")]
#[php(extends(ce = topic_ce, stub = "\\RdKafka\\Topic"))]
pub struct ConsumerTopic {
    owner: Zval,
    name: String,
    conf: TopicConfig,
}

impl ConsumerTopic {
    pub fn new(owner: Zval, name: String, conf: TopicConfig) -> Self {
        ConsumerTopic { owner, name, conf }
    }
}

#[php_impl]
impl ConsumerTopic {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        ConsumerTopic {
            owner: Zval::null(),
            name: String::new(),
            conf: TopicConfig::new(),
        }
    }

    pub fn get_name(&self) -> String {
        self.name.clone()
    }

    pub fn consume_queue_start(
        &self,
        partition: PhpInt,
        offset: PhpInt,
        queue: &Queue,
    ) -> PhpResult<()> {
        let partition = check_partition(partition.0)?;
        let state = owner_state::<Consumer>(&self.owner)?;
        state.check_not_consuming(&self.name, partition)?;
        ops::consume_start(
            state,
            &self.name,
            &self.conf,
            partition,
            offset.0,
            Some(queue.id()),
        )?;
        state.set_consuming(&self.name, partition, true);
        Ok(())
    }

    pub fn consume_callback(
        &self,
        partition: PhpInt,
        timeout_ms: PhpInt,
        callback: PhpCallable,
    ) -> PhpResult<i64> {
        let partition = check_partition(partition.0)?;
        let state = owner_state::<Consumer>(&self.owner)?;
        ops::consume_callback(
            &self.owner,
            state,
            &self.name,
            partition,
            timeout_ms.0,
            &callback.0,
        )
    }

    pub fn consume_start(&self, partition: PhpInt, offset: PhpInt) -> PhpResult<()> {
        let partition = check_partition(partition.0)?;
        let state = owner_state::<Consumer>(&self.owner)?;
        state.check_not_consuming(&self.name, partition)?;
        ops::consume_start(state, &self.name, &self.conf, partition, offset.0, None)?;
        state.set_consuming(&self.name, partition, true);
        Ok(())
    }

    pub fn consume_stop(&self, partition: PhpInt) -> PhpResult<()> {
        let partition = check_partition(partition.0)?;
        let state = owner_state::<Consumer>(&self.owner)?;
        state.set_consuming(&self.name, partition, false);
        ops::consume_stop(state, &self.name, partition)
    }

    pub fn consume(&self, partition: PhpInt, timeout_ms: PhpInt) -> PhpResult<Option<MessageRet>> {
        let partition = check_partition(partition.0)?;
        let state = owner_state::<Consumer>(&self.owner)?;
        ops::consume_partition(&self.owner, state, &self.name, partition, timeout_ms.0)
    }

    pub fn consume_batch(
        &self,
        partition: PhpInt,
        timeout_ms: PhpInt,
        batch_size: PhpInt,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        if batch_size.0 <= 0 {
            return Err(invalid_argument(format!(
                "Out of range value '{}' for batch_size",
                batch_size.0
            )));
        }
        let partition = check_partition(partition.0)?;
        let state = owner_state::<Consumer>(&self.owner)?;
        ops::consume_batch(
            &self.owner,
            state,
            &self.name,
            partition,
            timeout_ms.0,
            batch_size.0 as usize,
        )
    }

    pub fn offset_store(&self, partition: PhpInt, offset: PhpInt) -> PhpResult<()> {
        let partition = check_partition(partition.0)?;
        let state = owner_state::<Consumer>(&self.owner)?;
        ops::offset_store(state, &self.name, partition, offset.0)
    }
}

/// `RdKafka\KafkaConsumerTopic`.
#[php_class]
#[php(name = "RdKafka\\KafkaConsumerTopic")]
#[php(extends(ce = topic_ce, stub = "\\RdKafka\\Topic"))]
pub struct KafkaConsumerTopic {
    owner: Zval,
    name: String,
}

impl KafkaConsumerTopic {
    pub fn new(owner: Zval, name: String) -> Self {
        KafkaConsumerTopic { owner, name }
    }
}

#[php_impl]
impl KafkaConsumerTopic {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        KafkaConsumerTopic {
            owner: Zval::null(),
            name: String::new(),
        }
    }

    pub fn get_name(&self) -> String {
        self.name.clone()
    }

    pub fn offset_store(&self, partition: PhpInt, offset: PhpInt) -> PhpResult<()> {
        let partition = check_partition(partition.0)?;
        let state = owner_state::<KafkaConsumer>(&self.owner)?;
        ops::offset_store(state, &self.name, partition, offset.0)
    }
}
