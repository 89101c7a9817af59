//! The global `rd_kafka_*` functions.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use kafkars::error::err_descs;

use crate::constants::OFFSET_TAIL_BASE;
use crate::errors;
use crate::weak_typing::PhpInt;

/// `rd_kafka_get_err_descs()`: `[['code' => int, 'name' => string, 'desc' => string], ...]`.
#[php_function]
pub fn rd_kafka_get_err_descs() -> PhpResult<ZBox<ZendHashTable>> {
    let mut list = ZendHashTable::new();
    let mut seen_zero = false;
    for desc in err_descs() {
        if desc.code.0 == 0 {
            if seen_zero {
                continue;
            }
            seen_zero = true;
        }
        let mut row = ZendHashTable::with_capacity(3);
        row.insert("code", i64::from(desc.code.0))?;
        row.insert("name", desc.name)?;
        row.insert("desc", desc.desc)?;
        list.push(row)?;
    }
    Ok(list)
}

#[php_function]
#[php(name = "rd_kafka_err2name")]
pub fn rd_kafka_err2name(err: PhpInt) -> Option<String> {
    Some(errors::err2name(clamp_code(err.0)))
}

#[php_function]
#[php(name = "rd_kafka_err2str")]
pub fn rd_kafka_err2str(err: PhpInt) -> Option<String> {
    Some(errors::err2str(clamp_code(err.0)))
}

/// librdkafka's `rd_kafka_errno2err()` (Linux errno values).
#[php_function]
#[php(name = "rd_kafka_errno2err")]
pub fn rd_kafka_errno2err(errnox: PhpInt) -> i64 {
    match errnox.0 {
        22 => -186,  // EINVAL -> _INVALID_ARG
        16 => -173,  // EBUSY -> _CONFLICT
        2 => -156,   // ENOENT -> _NOENT
        3 => -188,   // ESRCH -> _UNKNOWN_TOPIC
        110 => -185, // ETIMEDOUT -> _TIMED_OUT
        90 => 10,    // EMSGSIZE -> MSG_SIZE_TOO_LARGE
        105 => -184, // ENOBUFS -> _QUEUE_FULL
        125 => -150, // ECANCELED -> _FATAL
        _ => -196,   // _FAIL
    }
}

/// librdkafka sets `errno` on legacy API failures; kafkars reports errors by
/// exception and return code instead, so this is always 0.
#[php_function]
pub fn rd_kafka_errno() -> i64 {
    0
}

#[php_function]
pub fn rd_kafka_offset_tail(cnt: PhpInt) -> i64 {
    OFFSET_TAIL_BASE - cnt.0
}

/// Background threads of this process besides the PHP thread (kafkars'
/// runtime: 0 until the first client is created, then a fixed small number).
#[php_function]
pub fn rd_kafka_thread_cnt() -> i64 {
    std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count() as i64 - 1)
}

fn clamp_code(code: i64) -> i32 {
    i32::try_from(code).unwrap_or(i32::MIN)
}

/// Adds the functions to the module.
pub fn add_to(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(rd_kafka_get_err_descs))
        .function(wrap_function!(rd_kafka_err2name))
        .function(wrap_function!(rd_kafka_err2str))
        .function(wrap_function!(rd_kafka_errno2err))
        .function(wrap_function!(rd_kafka_errno))
        .function(wrap_function!(rd_kafka_offset_tail))
        .function(wrap_function!(rd_kafka_thread_cnt))
}
