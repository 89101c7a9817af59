//! `RdKafka\Message`: a plain PHP object with php-rdkafka's typed public
//! properties, so `var_dump`, `serialize`, reflection and property writes
//! behave exactly as with php-rdkafka. Registered with `ClassBuilder`.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::builders::{ClassBuilder, FunctionBuilder};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::flags::{DataType, MethodFlags, PropertyFlags};
use ext_php_rs::types::{ZendEmptyArray, ZendHashTable, ZendObject, ZendStr, Zval};
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
    /// The topic name as a ready PHP string (from [`TopicNames`]); preferred over
    /// `topic_name`.
    pub topic_zval: Option<Zval>,
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

/// Property slots of `RdKafka\Message`, in declaration order.
#[derive(Clone, Copy)]
enum Prop {
    Err,
    TopicName,
    Timestamp,
    Partition,
    Payload,
    Len,
    Key,
    Offset,
    Headers,
    Opaque,
}

const PROPS: [(&str, u32, PropDefault); 10] = [
    ("err", may_be::LONG, PropDefault::Uninit),
    (
        "topic_name",
        may_be::STRING | may_be::NULL,
        PropDefault::Null,
    ),
    ("timestamp", may_be::LONG | may_be::NULL, PropDefault::Null),
    ("partition", may_be::LONG, PropDefault::Uninit),
    ("payload", may_be::STRING | may_be::NULL, PropDefault::Null),
    ("len", may_be::LONG | may_be::NULL, PropDefault::Null),
    ("key", may_be::STRING | may_be::NULL, PropDefault::Null),
    ("offset", may_be::LONG, PropDefault::Uninit),
    ("headers", may_be::ARRAY, PropDefault::Uninit),
    ("opaque", may_be::STRING | may_be::NULL, PropDefault::Null),
];

/// Byte offsets of the property slots in a `RdKafka\Message` object.
static OFFSETS: [AtomicU32; 10] = [const { AtomicU32::new(0) }; 10];

/// Stores `value` in a property slot of a fresh `RdKafka\Message`.
///
/// Messages are built here thousands of times per second, so this writes the
/// declared slot directly (what `zend_update_property` ends in) instead of
/// going through the write handler with a property-name lookup per field.
fn put(obj: &mut ZendObject, prop: Prop, value: Zval) {
    let offset = OFFSETS[prop as usize].load(Ordering::Relaxed) as usize;
    if offset == 0 {
        let _ = obj.set_property(PROPS[prop as usize].0, value);
        return;
    }
    // SAFETY: `obj` is a fresh `RdKafka\Message` (class entry checked by the
    // caller), `offset` is the engine's offset of this declared property, and
    // the slot holds its default (undef or null: nothing to release). The
    // value's type matches the declared type.
    unsafe {
        let slot = std::ptr::from_mut(obj)
            .cast::<u8>()
            .add(offset)
            .cast::<Zval>();
        std::ptr::write(slot, value);
    }
}

fn long_zval(v: i64) -> Zval {
    let mut zv = Zval::new();
    zv.set_long(v);
    zv
}

/// Builds an `RdKafka\Message` the way php-rdkafka's `kafka_message_new` does:
/// `timestamp`/`payload`/`len` only when there is a payload, `headers` always.
pub fn new_message(fields: &MessageFields<'_>) -> ZBox<ZendObject> {
    let mut obj = ZendObject::new(message_ce());
    put(&mut obj, Prop::Err, long_zval(i64::from(fields.err)));
    if let Some(topic) = &fields.topic_zval {
        put(&mut obj, Prop::TopicName, topic.shallow_clone());
    } else if let Some(topic) = fields.topic_name {
        put(&mut obj, Prop::TopicName, bytes_zval(topic.as_bytes()));
    }
    put(
        &mut obj,
        Prop::Partition,
        long_zval(i64::from(fields.partition)),
    );
    if let Some(payload) = fields.payload {
        if let Some(ts) = fields.timestamp {
            put(&mut obj, Prop::Timestamp, long_zval(ts));
        }
        put(&mut obj, Prop::Payload, bytes_zval(payload));
        put(&mut obj, Prop::Len, long_zval(payload.len() as i64));
    }
    if let Some(key) = fields.key {
        put(&mut obj, Prop::Key, bytes_zval(key));
    }
    put(&mut obj, Prop::Offset, long_zval(fields.offset));
    let headers_zv = if fields.headers.is_empty() {
        // PHP's shared immutable empty array: no allocation per message.
        ZendEmptyArray
            .into_zval(false)
            .unwrap_or_else(|_| Zval::new())
    } else {
        let mut headers = ZendHashTable::with_capacity(fields.headers.len() as u32);
        for (name, value) in &fields.headers {
            let _ = headers.insert(*name, bytes_zval(value.unwrap_or(b"")));
        }
        let mut zv = Zval::new();
        zv.set_hashtable(headers);
        zv
    };
    put(&mut obj, Prop::Headers, headers_zv);
    if let Some(opaque) = fields.opaque {
        if opaque.is_string() {
            put(&mut obj, Prop::Opaque, opaque.shallow_clone());
        }
    }
    obj
}

/// Topic names as PHP strings, shared (refcounted) by every message of one client
/// instead of copying the name into each one.
#[derive(Default)]
pub struct TopicNames(RefCell<Vec<(Arc<str>, Zval)>>);

impl TopicNames {
    /// A new reference to the PHP string for `topic`.
    pub fn get(&self, topic: &Arc<str>) -> Zval {
        let mut names = self.0.borrow_mut();
        if let Some((_, zv)) = names
            .iter()
            .find(|(t, _)| Arc::ptr_eq(t, topic) || **t == **topic)
        {
            return zv.shallow_clone();
        }
        if names.len() >= 64 {
            names.clear();
        }
        let zv = bytes_zval(topic.as_bytes());
        let out = zv.shallow_clone();
        names.push((topic.clone(), zv));
        out
    }
}

/// `errstr()` reads `err` through the engine's read handler, as php-rdkafka does: on a
/// message whose `err` was never set that throws PHP's "must not be accessed before
/// initialization" `Error`.
extern "C" fn message_errstr(ex: &mut ExecuteData, retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| {
        retval.set_null();
        let Some(this) = ex.get_self() else { return };
        let mut rv = Zval::new();
        // SAFETY: `this` is a live object for the duration of the call; the name is a
        // valid byte string of the given length; `rv` outlives the returned pointer's use.
        let err = unsafe {
            let zv = ext_php_rs::ffi::zend_read_property(
                this.ce,
                std::ptr::from_mut(this),
                c"err".as_ptr(),
                3,
                false,
                &raw mut rv,
            );
            zv.as_ref().and_then(Zval::long)
        };
        if let Some(err) = err {
            let _ = retval.set_string(&errors::err2str(err as i32), false);
        }
    }));
}

/// Registers `RdKafka\Message`. MINIT only.
pub fn register() -> ext_php_rs::error::Result<()> {
    let errstr =
        FunctionBuilder::new("errstr", message_errstr).returns(DataType::String, false, true);
    ClassBuilder::new("RdKafka\\Message")
        .method(errstr, MethodFlags::Public)
        .registration(|ce, _| {
            for (i, (name, mask, default)) in PROPS.into_iter().enumerate() {
                let offset = declare_typed_property(ce, name, mask, default, PropertyFlags::Public);
                OFFSETS[i].store(offset, Ordering::Relaxed);
            }
            MESSAGE_CE.set(ce);
        })
        .register()
}
