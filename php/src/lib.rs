//! # kafkars.so — the php-rdkafka 6 compatible PHP extension
//!
//! A thin binding over the Rust client core (crate `kafkars`): argument
//! conversion, PHP objects, exceptions, and PHP callbacks run on the PHP
//! thread inside `poll()`/`flush()`/`consume()`/`close()`. No logic lives here
//! that PHP does not force us to write.
//!
//! # Layout
//! - `lib.rs` — module identity (`rdkafka`, php-rdkafka version), MINIT
//!   order, `phpinfo()`.
//! - `constants.rs`, `functions.rs` — `RD_KAFKA_*` constants, `rd_kafka_*`.
//! - `exception.rs` — `RdKafka\Exception`, `KafkaErrorException`; the one
//!   place errors become PHP exceptions.
//! - `class_registry.rs` — hand-registered classes' entries, typed properties.
//! - `conf.rs` — `RdKafka\Conf`, `RdKafka\TopicConf` over the core's config.
//! - `callbacks.rs` — PHP callables kept by `Conf` and run on the PHP thread.
//! - `message.rs` — `RdKafka\Message` (plain object, typed properties).
//! - `metadata.rs` — `RdKafka\Metadata` and its `Metadata\*` classes.
//! - `topic_partition.rs` — `RdKafka\TopicPartition` and array conversions.
//! - `weak_typing.rs` — PHP weak-mode coercion for `string`/`int` parameters.
//! - `errors.rs` — error names/texts from the core's table.
//! - `kafka.rs` — `RdKafka`, `RdKafka\Producer`, `RdKafka\Consumer`.
//! - `kafka_consumer.rs` — `RdKafka\KafkaConsumer`.
//! - `topic.rs` — `RdKafka\Topic` and Producer/Consumer/KafkaConsumer topics.
//! - `queue.rs` — `RdKafka\Queue`.
//! - `client.rs` — per-client state: config, callables, owner process, opaques.
//! - `ops.rs` — every call into the core client, and event → callback dispatch.
//! - `declarations.rs` — union types and deprecations (patched at first RINIT).
//! - `returns.rs` — PHP types ext-php-rs cannot derive (`int &$x`, `RdKafka\Message`).
//! - `throw_hook.rs` — php-rdkafka's texts for errors ext-php-rs raises itself
//!   (unconstructed `$this`, argument of the wrong class).
//!
//! A call's path: PHP method (`kafka.rs`, `topic.rs` …) validates arguments like
//! php-rdkafka → `ops.rs` calls the core → core events come back through
//! `ops.rs`, which runs the PHP callbacks → errors become exceptions in
//! `exception.rs`.
//!
//! MINIT registers classes and constants only: no thread, no runtime (fork
//! and FPM safety, DESIGN.md decision 12).

#![allow(clippy::needless_pass_by_value)]

pub mod callbacks;
pub mod class_registry;
pub mod client;
pub mod conf;
pub mod constants;
pub mod declarations;
pub mod errors;
pub mod exception;
pub mod functions;
pub mod kafka;
pub mod kafka_consumer;
pub mod message;
pub mod metadata;
pub mod oauthbearer;
pub mod ops;
pub mod queue;
pub mod returns;
pub mod throw_hook;
pub mod topic;
pub mod topic_partition;
pub mod weak_typing;

use std::ffi::CString;

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;

/// The version `phpversion('rdkafka')` reports: the php-rdkafka release whose
/// API this extension presents (DESIGN.md decision 11).
pub const PHP_RDKAFKA_COMPAT_VERSION: &str = "6.0.5";

fn startup(_ty: i32, module_number: i32) -> i32 {
    throw_hook::install();
    let result = constants::register(module_number)
        .and_then(|()| exception::register())
        .and_then(|()| message::register())
        .and_then(|()| topic::register_topic_class());
    match result {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

extern "C" fn module_info(_module: *mut ModuleEntry) {
    let rows = [
        ("rdkafka support", "enabled".to_owned()),
        ("version", PHP_RDKAFKA_COMPAT_VERSION.to_owned()),
        (
            "implementation",
            "kafkars (pure Rust, no librdkafka)".to_owned(),
        ),
        ("kafkars version", constants::KAFKARS_VERSION.to_owned()),
        (
            "librdkafka version (runtime)",
            constants::LIBRDKAFKA_VERSION_STR.to_owned(),
        ),
        (
            "librdkafka version (build)",
            constants::LIBRDKAFKA_VERSION_STR.to_owned(),
        ),
    ];
    // SAFETY: called by the engine during phpinfo(); the C strings outlive each call.
    unsafe {
        ext_php_rs::ffi::php_info_print_table_start();
        for (name, value) in rows {
            let (Ok(name), Ok(value)) = (CString::new(name), CString::new(value)) else {
                continue;
            };
            ext_php_rs::ffi::php_info_print_table_row(2, name.as_ptr(), value.as_ptr());
        }
        ext_php_rs::ffi::php_info_print_table_end();
    }
}

#[php_module]
#[php(startup = startup)]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    let module = module
        .name("rdkafka")
        .version(PHP_RDKAFKA_COMPAT_VERSION)
        .info_function(module_info)
        .request_startup_function(declarations::request_startup)
        .class::<kafka::RdKafka>()
        .class::<kafka::Producer>()
        .class::<kafka::Consumer>()
        .class::<kafka_consumer::KafkaConsumer>()
        .class::<topic::ProducerTopic>()
        .class::<topic::ConsumerTopic>()
        .class::<topic::KafkaConsumerTopic>()
        .class::<queue::Queue>()
        .class::<conf::Conf>()
        .class::<conf::TopicConf>()
        .class::<topic_partition::TopicPartition>()
        .class::<metadata::Metadata>()
        .class::<metadata::Broker>()
        .class::<metadata::Topic>()
        .class::<metadata::Partition>()
        .class::<metadata::Collection>();
    functions::add_to(module)
}
