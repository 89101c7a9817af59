//! `RdKafka\Conf` and `RdKafka\TopicConf` over the core's `Config` /
//! `TopicConfig` (librdkafka names, aliases, validation and texts).

use std::borrow::Cow;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::FromZval;
use ext_php_rs::error::php_error;
use ext_php_rs::flags::{DataType, ErrorType};
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use indexmap::IndexMap;
use kafkars::{Config, ConfigError, Partitioner, TopicConfig};

use crate::callbacks::{CallbackKind, Callbacks, PhpCallable};
use crate::exception::{invalid_argument, rdkafka_exception};
use crate::weak_typing::{PhpBytes, PhpInt};

/// `string $value` of `Conf::set()` / `TopicConf::set()`: `null` passes with
/// PHP 8.1's deprecation and becomes "", as `zend_parse_parameters` treats an
/// internal function's non-nullable string (configs built from `env()` values
/// that are `null` keep working, as with php-rdkafka).
pub struct ConfValue<'a>(PhpBytes<'a>);

impl<'a> FromZval<'a> for ConfValue<'a> {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        if zval.is_null() {
            php_error(
                &ErrorType::Deprecated,
                "Passing null to parameter #2 ($value) of type string is deprecated",
            );
            return Some(ConfValue(PhpBytes(Cow::Borrowed(b""))));
        }
        PhpBytes::from_zval(zval).map(ConfValue)
    }
}

fn config_exception(err: ConfigError) -> PhpException {
    rdkafka_exception(err.to_string(), i64::from(err.code()))
}

fn dump_array(
    dump: IndexMap<String, String>,
    extra: impl Iterator<Item = &'static str>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let mut array = ZendHashTable::with_capacity(dump.len() as u32);
    for (name, value) in dump {
        array.insert(name.as_str(), value)?;
    }
    for key in extra {
        // librdkafka dumps a set callback as its function pointer.
        array.insert(key, "0x1")?;
    }
    Ok(array)
}

/// No `Default`/`Clone` on the PHP classes (see `class_registry`): user
/// subclasses keep their class, and `clone` fails as with php-rdkafka.
#[php_class]
#[php(name = "RdKafka\\Conf")]
pub struct Conf {
    pub config: Config,
    pub callbacks: Callbacks,
}

#[php_impl]
impl Conf {
    pub fn __construct() -> Self {
        Conf {
            config: Config::default(),
            callbacks: Callbacks::default(),
        }
    }

    pub fn dump(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let callbacks = &self.callbacks;
        let set = CallbackKind::ALL
            .into_iter()
            .filter(|k| callbacks.is_set(*k))
            .map(CallbackKind::dump_key);
        dump_array(self.config.dump(), set)
    }

    pub fn set(&mut self, name: PhpBytes, value: ConfValue) -> PhpResult<()> {
        self.config
            .set(&name.to_text(), &value.0.to_text())
            .map_err(config_exception)
    }

    pub fn set_default_topic_conf(&mut self, topic_conf: &TopicConf) {
        self.config
            .set_default_topic_config(topic_conf.config.clone());
    }

    pub fn set_error_cb(&mut self, callback: PhpCallable) {
        self.callbacks.set(CallbackKind::Error, callback);
    }

    pub fn set_dr_msg_cb(&mut self, callback: PhpCallable) {
        self.callbacks.set(CallbackKind::DrMsg, callback);
    }

    pub fn set_stats_cb(&mut self, callback: PhpCallable) {
        self.callbacks.set(CallbackKind::Stats, callback);
    }

    pub fn set_rebalance_cb(&mut self, callback: PhpCallable) {
        self.callbacks.set(CallbackKind::Rebalance, callback);
    }

    pub fn set_consume_cb(&mut self, callback: PhpCallable) {
        self.callbacks.set(CallbackKind::Consume, callback);
    }

    pub fn set_offset_commit_cb(&mut self, callback: PhpCallable) {
        self.callbacks.set(CallbackKind::OffsetCommit, callback);
    }

    pub fn set_log_cb(&mut self, callback: PhpCallable) {
        self.callbacks.set(CallbackKind::Log, callback);
    }

    pub fn set_oauthbearer_token_refresh_cb(&mut self, callback: PhpCallable) {
        self.callbacks
            .set(CallbackKind::OauthbearerTokenRefresh, callback);
    }
}

#[php_class]
#[php(name = "RdKafka\\TopicConf")]
pub struct TopicConf {
    pub config: TopicConfig,
}

#[php_impl]
impl TopicConf {
    pub fn __construct() -> Self {
        TopicConf {
            config: TopicConfig::default(),
        }
    }

    pub fn dump(&self) -> PhpResult<ZBox<ZendHashTable>> {
        dump_array(self.config.dump(), std::iter::empty())
    }

    pub fn set(&mut self, name: PhpBytes, value: ConfValue) -> PhpResult<()> {
        self.config
            .set(&name.to_text(), &value.0.to_text())
            .map_err(config_exception)
    }

    pub fn set_partitioner(&mut self, partitioner: PhpInt) -> PhpResult<()> {
        let partitioner = Partitioner::from_php_constant(partitioner.0)
            .ok_or_else(|| invalid_argument("Invalid partitioner given"))?;
        self.config
            .set("partitioner", partitioner.name())
            .map_err(config_exception)
    }
}
