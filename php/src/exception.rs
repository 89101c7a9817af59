//! `RdKafka\Exception` and `RdKafka\KafkaErrorException`, and the one place
//! where errors become PHP exceptions.
//!
//! Both are registered with `ClassBuilder` (a `#[php_class]` extending
//! `\Exception` refuses `new` from PHP): `KafkaErrorException` is constructible,
//! with php-rdkafka's private typed properties and getters.

use std::panic::AssertUnwindSafe;

use ext_php_rs::args::Arg;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::builders::{ClassBuilder, FunctionBuilder};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::{DataType, MethodFlags, PropertyFlags};
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ce, run_handler, ClassEntry, ExecuteData};

use crate::class_registry::{declare_typed_property, may_be, with_scope, ClassSlot, PropDefault};
use crate::errors;

static EXCEPTION_CE: ClassSlot = ClassSlot::new();
static KAFKA_ERROR_CE: ClassSlot = ClassSlot::new();

fn exception_ce() -> &'static ClassEntry {
    EXCEPTION_CE.get()
}

/// `RdKafka\Exception` with a message and code.
pub fn rdkafka_exception(message: impl Into<String>, code: i64) -> PhpException {
    PhpException::new(message.into(), code as i32, exception_ce())
}

/// `RdKafka\Exception` for a librdkafka error code, text from the error table
/// (what php-rdkafka throws after a failed librdkafka call).
pub fn from_code(code: i32) -> PhpException {
    rdkafka_exception(errors::err2str(code), i64::from(code))
}

/// `\InvalidArgumentException` (php-rdkafka's choice for bad arguments).
pub fn invalid_argument(message: impl Into<String>) -> PhpException {
    let ce = ClassEntry::try_find("InvalidArgumentException").unwrap_or_else(ce::exception);
    PhpException::new(message.into(), 0, ce)
}

/// `RdKafka\KafkaErrorException` built like php-rdkafka's `create_kafka_error`:
/// message `"<text> (RD_KAFKA_RESP_ERR_<name>)"`.
pub fn kafka_error(
    code: i32,
    fatal: bool,
    retriable: bool,
    txn_requires_abort: bool,
) -> PhpException {
    kafka_error_with_text(
        code,
        &errors::err2str(code),
        fatal,
        retriable,
        txn_requires_abort,
    )
}

/// `RdKafka\KafkaErrorException` with a specific error string
/// (librdkafka's `rd_kafka_error_string()`).
pub fn kafka_error_with_text(
    code: i32,
    text: &str,
    fatal: bool,
    retriable: bool,
    txn_requires_abort: bool,
) -> PhpException {
    let message = format!("{text} (RD_KAFKA_RESP_ERR_{})", errors::err2name(code));
    match new_kafka_error_object(
        &message,
        i64::from(code),
        text,
        fatal,
        retriable,
        txn_requires_abort,
    ) {
        Some(obj) => match obj.into_zval(false) {
            Ok(zv) => PhpException::new(message, code, KAFKA_ERROR_CE.get()).with_object(zv),
            Err(_) => rdkafka_exception(message, i64::from(code)),
        },
        None => rdkafka_exception(message, i64::from(code)),
    }
}

fn new_kafka_error_object(
    message: &str,
    code: i64,
    error_string: &str,
    fatal: bool,
    retriable: bool,
    txn_requires_abort: bool,
) -> Option<ZBox<ZendObject>> {
    let ce = KAFKA_ERROR_CE.get();
    let mut obj = ZendObject::new(ce);
    let ok = with_scope(ce, || {
        obj.set_property("message", message).is_ok()
            && obj.set_property("code", code).is_ok()
            && obj.set_property("error_string", error_string).is_ok()
            && obj.set_property("isFatal", fatal).is_ok()
            && obj.set_property("isRetriable", retriable).is_ok()
            && obj
                .set_property("transactionRequiresAbort", txn_requires_abort)
                .is_ok()
    });
    ok.then_some(obj)
}

extern "C" fn kafka_error_construct(ex: &mut ExecuteData, _retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| {
        let mut message = Arg::new("message", DataType::String);
        let mut code = Arg::new("code", DataType::Long);
        let mut error_string = Arg::new("error_string", DataType::String);
        let mut is_fatal = Arg::new("isFatal", DataType::Bool);
        let mut is_retriable = Arg::new("isRetriable", DataType::Bool);
        let mut txn_abort = Arg::new("transactionRequiresAbort", DataType::Bool);
        let (parser, this) = ex.parser_object();
        let parsed = parser
            .arg(&mut message)
            .arg(&mut code)
            .not_required()
            .arg(&mut error_string)
            .arg(&mut is_fatal)
            .arg(&mut is_retriable)
            .arg(&mut txn_abort)
            .parse();
        let Some(this) = this else { return };
        if parsed.is_err() {
            return;
        }
        let text = |a: &mut Arg| {
            a.zval()
                .and_then(|z| crate::weak_typing::scalar_to_string(z))
                .unwrap_or_default()
        };
        let flag = |a: &mut Arg| a.zval().is_some_and(|z| z.coerce_to_bool());
        let message = text(&mut message);
        let code = code
            .zval()
            .and_then(|z| crate::weak_typing::scalar_to_long(z))
            .unwrap_or(0);
        let error_string = text(&mut error_string);
        let (fatal, retriable, abort) = (
            flag(&mut is_fatal),
            flag(&mut is_retriable),
            flag(&mut txn_abort),
        );
        with_scope(KAFKA_ERROR_CE.get(), || {
            let _ = this.set_property("message", message);
            let _ = this.set_property("code", code);
            let _ = this.set_property("error_string", error_string);
            let _ = this.set_property("isFatal", fatal);
            let _ = this.set_property("isRetriable", retriable);
            let _ = this.set_property("transactionRequiresAbort", abort);
        });
    }));
}

fn read_private(ex: &mut ExecuteData, retval: &mut Zval, name: &str) {
    let Some(this) = ex.get_self() else { return };
    with_scope(KAFKA_ERROR_CE.get(), || {
        if let Ok(value) = this.get_property::<&Zval>(name) {
            *retval = value.shallow_clone();
        }
    });
}

extern "C" fn kafka_error_get_error_string(ex: &mut ExecuteData, retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| {
        read_private(ex, retval, "error_string")
    }));
}
extern "C" fn kafka_error_is_fatal(ex: &mut ExecuteData, retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| read_private(ex, retval, "isFatal")));
}
extern "C" fn kafka_error_is_retriable(ex: &mut ExecuteData, retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| read_private(ex, retval, "isRetriable")));
}
extern "C" fn kafka_error_txn_requires_abort(ex: &mut ExecuteData, retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| {
        read_private(ex, retval, "transactionRequiresAbort")
    }));
}

fn exception_ce_info() -> &'static ClassEntry {
    EXCEPTION_CE.get()
}

/// Registers both exception classes. MINIT only.
pub fn register() -> ext_php_rs::error::Result<()> {
    ClassBuilder::new("RdKafka\\Exception")
        .extends((ce::exception, "\\Exception"))
        .registration(|ce, _| EXCEPTION_CE.set(ce))
        .register()?;

    let getter = |name: &str, handler, ty: DataType| {
        (
            FunctionBuilder::new(name.to_owned(), handler).returns(ty, false, false),
            MethodFlags::Public,
        )
    };
    let constructor = FunctionBuilder::new("__construct", kafka_error_construct)
        .arg(Arg::new("message", DataType::String))
        .arg(Arg::new("code", DataType::Long))
        .arg(Arg::new("error_string", DataType::String))
        .arg(Arg::new("isFatal", DataType::Bool))
        .arg(Arg::new("isRetriable", DataType::Bool))
        .arg(Arg::new("transactionRequiresAbort", DataType::Bool));
    let mut builder = ClassBuilder::new("RdKafka\\KafkaErrorException")
        .extends((exception_ce_info, "\\RdKafka\\Exception"))
        .method(constructor, MethodFlags::Public);
    for (method, flags) in [
        getter(
            "getErrorString",
            kafka_error_get_error_string,
            DataType::String,
        ),
        getter("isFatal", kafka_error_is_fatal, DataType::Bool),
        getter("isRetriable", kafka_error_is_retriable, DataType::Bool),
        getter(
            "transactionRequiresAbort",
            kafka_error_txn_requires_abort,
            DataType::Bool,
        ),
    ] {
        builder = builder.method(method, flags);
    }
    builder
        .registration(|ce, _| {
            let private = PropertyFlags::Private;
            let _ = declare_typed_property(
                ce,
                "error_string",
                may_be::STRING,
                PropDefault::Uninit,
                private,
            );
            let _ =
                declare_typed_property(ce, "isFatal", may_be::BOOL, PropDefault::Uninit, private);
            let _ = declare_typed_property(
                ce,
                "isRetriable",
                may_be::BOOL,
                PropDefault::Uninit,
                private,
            );
            let _ = declare_typed_property(
                ce,
                "transactionRequiresAbort",
                may_be::BOOL,
                PropDefault::Uninit,
                PropertyFlags::Private,
            );
            KAFKA_ERROR_CE.set(ce);
        })
        .register()
}

/// `RdKafka\Exception` for a core error from a method call: librdkafka's
/// text for the code and the code, exactly as php-rdkafka
/// (`zend_throw_exception(ce_kafka_exception, rd_kafka_err2str(err), err)`);
/// the core's detailed message is not part of it there.
pub fn from_kafka(err: kafkars::KafkaError) -> PhpException {
    rdkafka_exception(crate::errors::err2str(err.code.0), i64::from(err.code.0))
}

/// `RdKafka\Exception` with the core's own message: where php-rdkafka shows
/// librdkafka's `errstr` (a constructor's `rd_kafka_new()` failure) or the
/// error is kafkars' own (a client used in a forked child).
pub fn from_kafka_detailed(err: kafkars::KafkaError) -> PhpException {
    rdkafka_exception(err.message, i64::from(err.code.0))
}

/// `RdKafka\KafkaErrorException` for a core error (transactions API).
pub fn kafka_error_from(err: &kafkars::KafkaError) -> PhpException {
    kafka_error_with_text(
        err.code.0,
        &err.message,
        err.fatal,
        err.retriable,
        err.txn_requires_abort,
    )
}
