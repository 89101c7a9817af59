//! `RdKafka\Message`: a plain PHP object with php-rdkafka's typed public
//! properties, so `var_dump`, `serialize`, reflection and property writes
//! behave exactly as with php-rdkafka. Registered with `ClassBuilder`.

use std::panic::AssertUnwindSafe;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::builders::{ClassBuilder, FunctionBuilder};
use ext_php_rs::flags::{DataType, MethodFlags, PropertyFlags};
use ext_php_rs::types::{ZendHashTable, ZendObject, ZendStr, Zval};
use ext_php_rs::zend::{run_handler, ClassEntry, ExecuteData};

use crate::class_registry::{declare_typed_property, may_be, ClassSlot, PropDefault};
use crate::errors;

static MESSAGE_CE: ClassSlot = ClassSlot::new();

/// The `RdKafka\Message` class entry.
pub fn message_ce() -> &'static ClassEntry {
    MESSAGE_CE.get()
}

/// What a message carries into PHP. Byte fields are binary safe.
#[derive(Default)]
pub struct MessageFields<'a> {
    pub err: i32,
    pub topic_name: Option<&'a str>,
    pub timestamp: Option<i64>,
    pub partition: i32,
    pub payload: Option<&'a [u8]>,
    pub key: Option<&'a [u8]>,
    pub offset: i64,
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
    pub opaque: Option<&'a Zval>,
}

fn bytes_zval(bytes: &[u8]) -> Zval {
    let mut zv = Zval::new();
    zv.set_zend_string(ZendStr::new(bytes, false));
    zv
}

/// Builds an `RdKafka\Message` the way php-rdkafka's `kafka_message_new` does:
/// `timestamp`/`payload`/`len` only when there is a payload, `headers` always.
pub fn new_message(fields: &MessageFields<'_>) -> ZBox<ZendObject> {
    let mut obj = ZendObject::new(message_ce());
    let _ = obj.set_property("err", i64::from(fields.err));
    if let Some(topic) = fields.topic_name {
        let _ = obj.set_property("topic_name", topic);
    }
    let _ = obj.set_property("partition", i64::from(fields.partition));
    if let Some(payload) = fields.payload {
        if let Some(ts) = fields.timestamp {
            let _ = obj.set_property("timestamp", ts);
        }
        let _ = obj.set_property("payload", bytes_zval(payload));
        let _ = obj.set_property("len", payload.len() as i64);
    }
    if let Some(key) = fields.key {
        let _ = obj.set_property("key", bytes_zval(key));
    }
    let _ = obj.set_property("offset", fields.offset);
    let mut headers = ZendHashTable::with_capacity(fields.headers.len() as u32);
    for (name, value) in &fields.headers {
        let _ = headers.insert(*name, bytes_zval(value.unwrap_or(b"")));
    }
    let _ = obj.set_property("headers", headers);
    if let Some(opaque) = fields.opaque {
        if !opaque.is_null() {
            let _ = obj.set_property("opaque", opaque.shallow_clone());
        }
    }
    obj
}

extern "C" fn message_errstr(ex: &mut ExecuteData, retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| {
        let Some(this) = ex.get_self() else { return };
        let Ok(err) = this.get_property::<i64>("err") else {
            retval.set_null();
            return;
        };
        let _ = retval.set_string(&errors::err2str(err as i32), false);
    }));
}

/// Registers `RdKafka\Message`. MINIT only.
pub fn register() -> ext_php_rs::error::Result<()> {
    let errstr = FunctionBuilder::new("errstr", message_errstr).returns(DataType::String, false, true);
    ClassBuilder::new("RdKafka\\Message")
        .method(errstr, MethodFlags::Public)
        .registration(|ce, _| {
            use PropDefault::{Null, Uninit};
            let public = PropertyFlags::Public;
            declare_typed_property(ce, "err", may_be::LONG, Uninit, public);
            declare_typed_property(ce, "topic_name", may_be::STRING | may_be::NULL, Null, public);
            declare_typed_property(ce, "timestamp", may_be::LONG | may_be::NULL, Null, public);
            declare_typed_property(ce, "partition", may_be::LONG, Uninit, public);
            declare_typed_property(ce, "payload", may_be::STRING | may_be::NULL, Null, public);
            declare_typed_property(ce, "len", may_be::LONG | may_be::NULL, Null, public);
            declare_typed_property(ce, "key", may_be::STRING | may_be::NULL, Null, public);
            declare_typed_property(ce, "offset", may_be::LONG, Uninit, public);
            declare_typed_property(ce, "headers", may_be::ARRAY, Uninit, public);
            declare_typed_property(ce, "opaque", may_be::STRING | may_be::NULL, Null, public);
            MESSAGE_CE.set(ce);
        })
        .register()
}
