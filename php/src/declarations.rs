//! Method declarations ext-php-rs cannot express, adjusted once per process
//! before the first request: union parameter types and deprecation flags.
//!
//! php-rdkafka declares `KafkaConsumer::commit(RdKafka\Message|array|null
//! $message_or_offsets = null)` (and `commitAsync`). ext-php-rs declares
//! `?RdKafka\Message`; once per process, before the first request runs, this
//! adds `array` to the registered argument type (the `MAY_BE_ARRAY` bit next
//! to the class name, exactly what PHP's own `ZEND_ARG_OBJ_TYPE_MASK` does),
//! so reflection and the engine see php-rdkafka's signature.

use std::sync::Once;

use ext_php_rs::ffi::{zend_function, zend_hash_str_find_ptr_lc};
use ext_php_rs::zend::{ClassEntry, ExecutorGlobals};

use crate::class_registry::may_be;

static PATCHED: Once = Once::new();

/// Widens the first parameter of `class::method` with `extra_mask`.
fn widen_first_param(class: &str, method: &str, extra_mask: u32) {
    let Some(ce) = ClassEntry::try_find(class) else {
        return;
    };
    // SAFETY: the class' function table is live for the process; the entry is
    // an internal function whose `arg_info` has at least one parameter (the
    // methods patched here all declare one). Runs once, before any request.
    unsafe {
        let func =
            zend_hash_str_find_ptr_lc(&ce.function_table, method.as_ptr().cast(), method.len())
                .cast::<zend_function>();
        if func.is_null() || (*func).type_ != 1 {
            return; // not found, or not ZEND_INTERNAL_FUNCTION
        }
        let internal = &mut (*func).internal_function;
        if internal.arg_info.is_null() || internal.num_args < 1 {
            return;
        }
        (*internal.arg_info).type_.type_mask |= extra_mask;
    }
}

/// `ZEND_ACC_DEPRECATED`: calling the method raises E_DEPRECATED.
const ACC_DEPRECATED: u32 = 1 << 11;

/// Methods php-rdkafka 6 marks `@deprecated`.
const DEPRECATED: &[(&str, &[&str])] = &[
    (
        "RdKafka",
        &["metadata", "outqlen", "setloglevel", "setlogger"],
    ),
    (
        "RdKafka\\Producer",
        &["metadata", "outqlen", "setloglevel", "setlogger"],
    ),
    (
        "RdKafka\\Consumer",
        &["metadata", "outqlen", "setloglevel", "setlogger"],
    ),
    ("RdKafka\\Conf", &["setdefaulttopicconf"]),
];

fn deprecate(class: &str, method: &str) {
    let Some(ce) = ClassEntry::try_find(class) else {
        return;
    };
    // SAFETY: as in `widen_first_param`; only the flags word changes.
    unsafe {
        let func =
            zend_hash_str_find_ptr_lc(&ce.function_table, method.as_ptr().cast(), method.len())
                .cast::<zend_function>();
        if !func.is_null() {
            (*func).common.fn_flags |= ACC_DEPRECATED;
        }
    }
}

/// Functions php-rdkafka 6 marks `@deprecated`.
const DEPRECATED_FUNCTIONS: &[&str] = &["rd_kafka_errno2err", "rd_kafka_errno"];

fn deprecate_function(name: &str) {
    let table = ExecutorGlobals::get().function_table;
    if table.is_null() {
        return;
    }
    // SAFETY: the engine's function table is live during a request; only the
    // flags word of our own internal function changes, as in `deprecate`.
    unsafe {
        let func = zend_hash_str_find_ptr_lc(table, name.as_ptr().cast(), name.len())
            .cast::<zend_function>();
        if !func.is_null() {
            (*func).common.fn_flags |= ACC_DEPRECATED;
        }
    }
}

/// `ZEND_ACC_NOT_SERIALIZABLE`, which ext-php-rs sets on every `#[php_class]`.
const ACC_NOT_SERIALIZABLE: u32 = ext_php_rs::ffi::ZEND_ACC_NOT_SERIALIZABLE;

/// php-rdkafka's classes without properties serialize as empty objects
/// (`O:12:"RdKafka\Conf":0:{}`) instead of throwing; unserialized, they are
/// objects whose constructor never ran, and their methods refuse to work.
/// (`TopicPartition` stays unserializable: its properties would be written.)
const SERIALIZABLE: &[&str] = &[
    "RdKafka",
    "RdKafka\\Producer",
    "RdKafka\\Consumer",
    "RdKafka\\KafkaConsumer",
    "RdKafka\\Conf",
    "RdKafka\\TopicConf",
    "RdKafka\\Queue",
    "RdKafka\\ProducerTopic",
    "RdKafka\\ConsumerTopic",
    "RdKafka\\KafkaConsumerTopic",
    "RdKafka\\Metadata",
    "RdKafka\\Metadata\\Broker",
    "RdKafka\\Metadata\\Topic",
    "RdKafka\\Metadata\\Partition",
    "RdKafka\\Metadata\\Collection",
];

fn allow_serialize(class: &str) {
    let Some(ce) = ClassEntry::try_find(class) else {
        return;
    };
    let ce = std::ptr::from_ref(ce).cast_mut();
    // SAFETY: one of our internal classes, live for the process; only its flags word
    // changes, once, before any request (and so before any subclass inherits it).
    unsafe {
        (*ce).ce_flags &= !ACC_NOT_SERIALIZABLE;
    }
}

/// Request startup hook: patches the declarations once per process.
pub extern "C" fn request_startup(_type: i32, _module_number: i32) -> i32 {
    PATCHED.call_once(|| {
        for method in ["commit", "commitasync"] {
            widen_first_param("RdKafka\\KafkaConsumer", method, may_be::ARRAY);
        }
        for (class, methods) in DEPRECATED {
            for method in *methods {
                deprecate(class, method);
            }
        }
        for name in DEPRECATED_FUNCTIONS {
            deprecate_function(name);
        }
        for class in SERIALIZABLE {
            allow_serialize(class);
        }
    });
    0
}
