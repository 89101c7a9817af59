//! php-rdkafka's texts for the errors ext-php-rs raises itself, before our
//! code runs:
//!
//! - a method called on an object whose Rust state was never built (a user
//!   subclass constructor that skipped `parent::__construct()`,
//!   `newInstanceWithoutConstructor()`): ext-php-rs throws `\Exception`
//!   "Failed to retrieve reference to `$this`"; php-rdkafka throws the same
//!   class with "RdKafka\Conf::__construct() has not been called";
//! - an argument of the wrong class (`setDefaultTopicConf($conf)`):
//!   ext-php-rs throws `TypeError` "Invalid value given for argument `x`.";
//!   php-rdkafka leaves it to the engine: "RdKafka\Conf::setDefaultTopicConf():
//!   Argument #1 ($topic_conf) must be of type RdKafka\TopicConf,
//!   RdKafka\Conf given" (for a `callable` parameter: "must be a valid
//!   callback, function \"f\" not found or invalid function name").
//!
//! Both are rewritten in `zend_throw_exception_hook`, which the engine calls
//! while the throwing method's frame is still the current one: its `$this`,
//! its declared arguments and the values passed are at hand there.

use std::ffi::{c_char, CStr};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::ffi::{
    zend_execute_data, zend_internal_arg_info, zend_is_callable_ex, zend_object, zend_string,
    zend_throw_exception_hook, zend_type, zval,
};
use ext_php_rs::types::{ZendObject, ZendStr, Zval};
use ext_php_rs::zend::{ce, ExecutorGlobals};

use crate::class_registry::with_scope;

unsafe extern "C" {
    // Exported by the PHP binary (Zend/zend_compile.h, Zend/zend_API.h); not
    // in ext-php-rs' allow list.
    fn zend_type_to_string(type_: zend_type) -> *mut zend_string;
    fn zend_zval_type_name(arg: *const zval) -> *const c_char;
}

/// ext-php-rs' message for a method call on an unconstructed object.
const NO_THIS: &str = "Failed to retrieve reference to `$this`";
/// ext-php-rs' message for an argument it could not convert.
const BAD_ARG_PREFIX: &str = "Invalid value given for argument `";
const BAD_ARG_SUFFIX: &str = "`.";

/// `ZEND_INTERNAL_FUNCTION` (Zend/zend_compile.h).
const INTERNAL_FUNCTION: u8 = 1;

type ThrowHook = unsafe extern "C" fn(*mut zend_object);
static PREVIOUS_HOOK: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

/// Installs the hook, keeping (and calling) any hook installed before.
/// MINIT only.
pub fn install() {
    // SAFETY: MINIT runs single threaded before any script runs.
    unsafe {
        if let Some(previous) = zend_throw_exception_hook {
            PREVIOUS_HOOK.store(previous as *mut (), Ordering::Release);
        }
        zend_throw_exception_hook = Some(on_throw);
    }
}

unsafe extern "C" fn on_throw(exception: *mut zend_object) {
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the engine passes the exception object it is throwing.
        if let Some(exception) = unsafe { exception.as_mut() } {
            rewrite(exception);
        }
    }));
    let previous = PREVIOUS_HOOK.load(Ordering::Acquire);
    if !previous.is_null() {
        // SAFETY: stored from a `ThrowHook` in `install`.
        let previous: ThrowHook = unsafe { std::mem::transmute(previous) };
        // SAFETY: forwards the engine's own argument.
        unsafe { previous(exception) };
    }
}

fn rewrite(exception: &mut ZendObject) {
    let class = exception.get_class_entry();
    let is_exception = std::ptr::eq(class, ce::exception());
    let is_type_error = std::ptr::eq(class, ce::type_error());
    if !is_exception && !is_type_error {
        return;
    }
    // `message` is protected: read and write it in the scope of `Exception`
    // (`TypeError` is an `Error`, whose `message` is protected there).
    let scope = if is_exception {
        ce::exception()
    } else {
        ce::error()
    };
    let Some(message) = with_scope(scope, || {
        exception
            .get_property::<String>("message")
            .ok()
            .and_then(|m| replacement(is_exception, &m))
    }) else {
        return;
    };
    with_scope(scope, || {
        let _ = exception.set_property("message", message);
    });
}

fn replacement(is_exception: bool, message: &str) -> Option<String> {
    let frame = current_frame()?;
    if is_exception {
        (message == NO_THIS).then(|| not_constructed(frame))?
    } else {
        let name = message
            .strip_prefix(BAD_ARG_PREFIX)?
            .strip_suffix(BAD_ARG_SUFFIX)?;
        wrong_argument(frame, name)
    }
}

fn current_frame() -> Option<&'static zend_execute_data> {
    let frame = ExecutorGlobals::get().current_execute_data;
    // SAFETY: while an exception is being thrown from a method, its frame is
    // the live current one.
    unsafe { frame.as_ref() }
}

/// php-rdkafka's text for the class of the running method's `$this`.
fn not_constructed(frame: &zend_execute_data) -> Option<String> {
    let this = frame.This.object()?;
    let mut class = Some(this.get_class_entry());
    while let Some(ce) = class {
        let owner = match ce.name()? {
            "RdKafka\\Producer" | "RdKafka\\Consumer" | "RdKafka" => "RdKafka\\Kafka",
            "RdKafka\\KafkaConsumer" => {
                return Some(
                    "RdKafka\\KafkaConsumer::__construct() has not been called, or RdKafka\\KafkaConsumer::close() was already called"
                        .to_owned(),
                );
            }
            "RdKafka\\Conf" | "RdKafka\\TopicConf" => "RdKafka\\Conf",
            "RdKafka\\ProducerTopic" | "RdKafka\\ConsumerTopic" | "RdKafka\\KafkaConsumerTopic" => {
                "RdKafka\\Topic"
            }
            name @ ("RdKafka\\Queue"
            | "RdKafka\\TopicPartition"
            | "RdKafka\\Metadata"
            | "RdKafka\\Metadata\\Broker"
            | "RdKafka\\Metadata\\Topic"
            | "RdKafka\\Metadata\\Partition"
            | "RdKafka\\Metadata\\Collection") => name,
            _ => {
                class = ce.parent();
                continue;
            }
        };
        return Some(format!("{owner}::__construct() has not been called"));
    }
    None
}

/// The engine's own text for an argument of the wrong type.
fn wrong_argument(frame: &zend_execute_data, name: &str) -> Option<String> {
    // SAFETY: the current frame's function is live during the call.
    let func = unsafe { frame.func.as_ref() }?;
    // SAFETY: `common` is the prefix every member of the union shares.
    let common = unsafe { &func.common };
    if common.type_ != INTERNAL_FUNCTION || common.arg_info.is_null() {
        return None;
    }
    // SAFETY: an internal function's `arg_info` holds `num_args` entries of
    // `zend_internal_arg_info` (C-string names).
    let args = unsafe {
        std::slice::from_raw_parts(
            common.arg_info.cast::<zend_internal_arg_info>(),
            common.num_args as usize,
        )
    };
    let index = args.iter().position(|arg| {
        // SAFETY: registered argument names are NUL-terminated C strings.
        !arg.name.is_null() && unsafe { CStr::from_ptr(arg.name) }.to_bytes() == name.as_bytes()
    })?;
    // SAFETY: the passed argument count is in `This.u2.num_args`.
    let passed = unsafe { frame.This.u2.num_args } as usize;
    if index >= passed {
        return None;
    }
    // SAFETY: `index` is below the number of arguments passed in this frame.
    let given = unsafe { frame.zend_call_arg(index) }?;
    // SAFETY: the engine returns a static type name or the class's name,
    // both live for the call.
    let given_name =
        unsafe { CStr::from_ptr(zend_zval_type_name(std::ptr::from_mut(&mut *given).cast())) }
            .to_string_lossy()
            .into_owned();
    // SAFETY: the argument's registered type; the engine returns a new string
    // we release below.
    let expected = unsafe { zend_type_to_string(args[index].type_) };
    // SAFETY: non-null result is an owned zend_string.
    let expected_text = unsafe { expected.as_ref() }
        .map(|s: &ZendStr| s.as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    if !expected.is_null() {
        // SAFETY: the string came from `zend_type_to_string` and is ours.
        unsafe { ext_php_rs::ffi::ext_php_rs_zend_string_release(expected) };
    }
    let function = function_name(common)?;
    if expected_text == "callable" {
        // The engine's text for a `callable` parameter (zend_parse_arg "f").
        let why = callable_error(given)?;
        return Some(format!(
            "{function}(): Argument #{} (${name}) must be a valid callback, {why}",
            index + 1
        ));
    }
    Some(format!(
        "{function}(): Argument #{} (${name}) must be of type {expected_text}, {given_name} given",
        index + 1
    ))
}

/// Why `value` is not callable, in `zend_is_callable_ex()`'s words.
fn callable_error(value: &mut Zval) -> Option<String> {
    let mut error: *mut c_char = std::ptr::null_mut();
    // SAFETY: a live argument zval; the engine allocates `error` with emalloc
    // (released below) and writes nothing else we pass.
    let callable = unsafe {
        zend_is_callable_ex(
            std::ptr::from_mut(value),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &raw mut error,
        )
    };
    if error.is_null() {
        return (!callable).then(|| "no array or string given".to_owned());
    }
    // SAFETY: a NUL-terminated string from the engine, freed once here.
    let text = unsafe { CStr::from_ptr(error) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: allocated by the engine's emalloc for this call.
    unsafe { ext_php_rs::alloc::efree(error.cast()) };
    Some(text)
}

fn function_name(common: &ext_php_rs::ffi::_zend_function__bindgen_ty_1) -> Option<String> {
    // SAFETY: function and class names are live engine strings.
    let name = unsafe { common.function_name.as_ref() }?.as_str().ok()?;
    // SAFETY: as above.
    Some(match unsafe { common.scope.as_ref() } {
        Some(scope) => format!("{}::{name}", scope.name()?),
        None => name.to_owned(),
    })
}
