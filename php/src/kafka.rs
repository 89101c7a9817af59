//! `RdKafka` (abstract), `RdKafka\Producer` and `RdKafka\Consumer`.
//!
//! ext-php-rs dispatches a method on the Rust type that declared it, so the
//! methods php-rdkafka declares once on `RdKafka` are generated on each class
//! by `rdkafka_impl!` and forwarded to [`ClientOps`]. The abstract base keeps
//! them for reflection only: it cannot be instantiated.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable};

use crate::callbacks::Callbacks;
use crate::client::{ClientKind, ClientState};
use crate::conf::{Conf, TopicConf};
use crate::exception::{self, rdkafka_exception};
use crate::metadata::Metadata;
use crate::ops;
use crate::queue::Queue;
use crate::returns::{IntRef, PhpArray};
use crate::topic::{ConsumerTopic, ProducerTopic, TopicRet};
use crate::topic_partition;
use crate::weak_typing::{PhpBool, PhpBytes, PhpInt};

/// What the shared `RdKafka` methods need from a class.
pub trait ClientOps {
    fn state(&self) -> PhpResult<&ClientState>;
}

fn uninitialized() -> PhpException {
    rdkafka_exception("RdKafka\\Kafka::__construct() has not been called", 0)
}

/// Builds the client state from an optional `Conf` (copied, like php-rdkafka's
/// `rd_kafka_conf_dup`: later changes to the Conf do not affect the client).
fn new_state(kind: ClientKind, conf: Option<&Conf>) -> PhpResult<ClientState> {
    match conf {
        Some(conf) => ClientState::new(kind, conf.config.clone(), conf.callbacks.clone()),
        None => ClientState::new(kind, kafkars::Config::new(), Callbacks::default()),
    }
}

macro_rules! rdkafka_impl {
    ($ty:ident { $($extra:tt)* }) => {
        #[php_impl]
        impl $ty {
            $($extra)*

            pub fn add_brokers(&self, broker_list: PhpBytes) -> PhpResult<i64> {
                let state = self.state()?;
                state.check_process()?;
                Ok(ops::add_brokers(state, &broker_list.to_text()))
            }

            pub fn get_metadata(
                &self,
                all_topics: PhpBool,
                only_topic: Option<crate::topic::AnyTopic>,
                timeout_ms: PhpInt,
            ) -> PhpResult<Metadata> {
                let state = self.state()?;
                state.check_process()?;
                ops::metadata(state, all_topics.0, only_topic.as_ref().map(|t| t.0.as_str()), timeout_ms.0)
            }

            pub fn metadata(
                &self,
                all_topics: PhpBool,
                only_topic: Option<crate::topic::AnyTopic>,
                timeout_ms: PhpInt,
            ) -> PhpResult<Metadata> {
                self.get_metadata(all_topics, only_topic, timeout_ms)
            }

            pub fn get_controller_id(&self, timeout_ms: PhpInt) -> PhpResult<i64> {
                let state = self.state()?;
                state.check_process()?;
                ops::controller_id(state, timeout_ms.0)
            }

            pub fn get_out_q_len(&self) -> PhpResult<i64> {
                Ok(ops::out_q_len(self.state()?))
            }

            pub fn outq_len(&self) -> PhpResult<i64> {
                self.get_out_q_len()
            }

            /// Deprecated in php-rdkafka; sets `log_level`.
            pub fn set_log_level(&self, level: PhpInt) -> PhpResult<()> {
                let state = self.state()?;
                state.client().logger().set_level(level.0.clamp(0, 7) as i32);
                Ok(())
            }

            /// Deprecated in php-rdkafka; accepted and ignored: lines go to the log callback,
            /// else to stderr (what php-rdkafka shows here, even after `RD_KAFKA_LOG_SYSLOG`).
            pub fn set_logger(&self, logger: PhpInt) -> PhpResult<()> {
                self.state()?;
                match logger.0 {
                    100..=102 => Ok(()),
                    _ => Err(rdkafka_exception("Invalid logger", 0)),
                }
            }
            pub fn new_topic(
                self_: &mut ZendClassObject<Self>,
                topic_name: PhpBytes,
                topic_conf: Option<&TopicConf>,
            ) -> PhpResult<TopicRet> {
                let state = self_.state()?;
                state.check_process()?;
                let name = topic_name.to_text();
                let conf = state.topic_config(topic_conf.map(|c| &c.config));
                Self::make_topic(self_, name, conf)
            }

            pub fn poll(self_: &mut ZendClassObject<Self>, timeout_ms: PhpInt) -> PhpResult<i64> {
                let this = ops::this_zval(self_);
                let state = self_.state()?;
                state.check_process()?;
                ops::poll(&this, state, timeout_ms.0)
            }

            pub fn flush(self_: &mut ZendClassObject<Self>, timeout_ms: PhpInt) -> PhpResult<i64> {
                let this = ops::this_zval(self_);
                let state = self_.state()?;
                state.check_process()?;
                ops::flush(&this, state, timeout_ms.0)
            }

            pub fn purge(&self, purge_flags: PhpInt) -> PhpResult<i64> {
                let state = self.state()?;
                state.check_process()?;
                Ok(ops::purge(state, purge_flags.0))
            }

            pub fn query_watermark_offsets(
                &self,
                topic: PhpBytes,
                partition: PhpInt,
                low: IntRef,
                high: IntRef,
                timeout_ms: PhpInt,
            ) -> PhpResult<()> {
                let state = self.state()?;
                state.check_process()?;
                let (lo, hi) = ops::watermarks(state, &topic.to_text(), partition.0, timeout_ms.0)?;
                low.set(lo);
                high.set(hi);
                Ok(())
            }

            pub fn offsets_for_times(&self, topic_partitions: PhpArray, timeout_ms: PhpInt) -> PhpResult<ZBox<ZendHashTable>> {
                let state = self.state()?;
                state.check_process()?;
                let list = topic_partition::list_from_array(topic_partitions.0)?;
                topic_partition::list_to_array(ops::offsets_for_times(state, list, timeout_ms.0)?)
            }

            pub fn pause_partitions(&self, topic_partitions: PhpArray) -> PhpResult<ZBox<ZendHashTable>> {
                let state = self.state()?;
                state.check_process()?;
                let list = topic_partition::list_from_array(topic_partitions.0)?;
                topic_partition::list_to_array(ops::pause_resume(state, list, true)?)
            }

            pub fn resume_partitions(&self, topic_partitions: PhpArray) -> PhpResult<ZBox<ZendHashTable>> {
                let state = self.state()?;
                state.check_process()?;
                let list = topic_partition::list_from_array(topic_partitions.0)?;
                topic_partition::list_to_array(ops::pause_resume(state, list, false)?)
            }

            #[php(defaults(extensions = std::collections::HashMap::<String, String>::new()))]
            pub fn oauthbearer_set_token(
                &self,
                token_value: PhpBytes,
                lifetime_ms: PhpInt,
                principal_name: PhpBytes,
                extensions: std::collections::HashMap<String, String>,
            ) -> PhpResult<()> {
                let state = self.state()?;
                state.check_process()?;
                crate::oauthbearer::set_token(
                    state,
                    &token_value.to_text(),
                    lifetime_ms.0,
                    &principal_name.to_text(),
                    extensions.into_iter().collect(),
                )
            }

            pub fn oauthbearer_set_token_failure(&self, error: PhpBytes) -> PhpResult<()> {
                let state = self.state()?;
                state.check_process()?;
                crate::oauthbearer::set_token_failure(state, &error.to_text())
            }
        }
    };
}

/// `abstract class RdKafka`: the common base; never instantiated.
#[php_class]
#[php(name = "RdKafka")]
#[php(flags = ClassFlags::Abstract)]
pub struct RdKafka;

impl ClientOps for RdKafka {
    fn state(&self) -> PhpResult<&ClientState> {
        Err(uninitialized())
    }
}

impl RdKafka {
    fn make_topic(
        _: &mut ZendClassObject<Self>,
        _: String,
        _: kafkars::TopicConfig,
    ) -> PhpResult<TopicRet> {
        Err(uninitialized())
    }
}

rdkafka_impl!(RdKafka {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        RdKafka
    }
});

/// `RdKafka\Producer`.
#[php_class]
#[php(name = "RdKafka\\Producer")]
#[php(extends(RdKafka))]
pub struct Producer {
    state: ClientState,
}

impl ClientOps for Producer {
    fn state(&self) -> PhpResult<&ClientState> {
        Ok(&self.state)
    }
}

impl Producer {
    fn make_topic(
        self_: &mut ZendClassObject<Self>,
        name: String,
        conf: kafkars::TopicConfig,
    ) -> PhpResult<TopicRet> {
        if let Some(producer) = self_.state.producer() {
            producer.set_topic_config(&name, &conf);
        }
        let owner = ops::this_zval(self_);
        TopicRet::new(ProducerTopic::new(owner, name, conf))
    }

    /// The core producer (a Producer always has one).
    fn core(&self) -> PhpResult<&kafkars::Producer> {
        self.state.check_process()?;
        self.state
            .producer()
            .ok_or_else(|| exception::from_code(kafkars::ErrorCode::STATE.0))
    }
}

/// php-rdkafka's timeouts: -1 waits without a limit (the core caps it).
fn txn_timeout(timeout_ms: i64) -> std::time::Duration {
    if timeout_ms < 0 {
        std::time::Duration::MAX
    } else {
        std::time::Duration::from_millis(timeout_ms as u64)
    }
}

/// The `flush` of commit/abort: php's own flush, so delivery-report callbacks run inside
/// `commitTransaction()` as they do inside librdkafka's.
fn txn_flush(
    this: &ext_php_rs::types::Zval,
    state: &ClientState,
    t: std::time::Duration,
) -> kafkars::producer::FlushResult<PhpException> {
    let code = ops::flush(this, state, t.as_millis().min(i64::MAX as u128) as i64)?;
    Ok(if code == 0 {
        Ok(())
    } else {
        Err(kafkars::KafkaError::new(kafkars::ErrorCode(code as i32)))
    })
}

rdkafka_impl!(Producer {
    pub fn __construct(conf: Option<&Conf>) -> PhpResult<Self> {
        Ok(Producer { state: new_state(ClientKind::Producer, conf)? })
    }

    pub fn init_transactions(&self, timeout_ms: PhpInt) -> PhpResult<()> {
        self.core()?
            .init_transactions(txn_timeout(timeout_ms.0))
            .map_err(|e| exception::kafka_error_from(&e))
    }

    pub fn begin_transaction(&self) -> PhpResult<()> {
        self.core()?
            .begin_transaction()
            .map_err(|e| exception::kafka_error_from(&e))
    }

    pub fn commit_transaction(self_: &mut ZendClassObject<Self>, timeout_ms: PhpInt) -> PhpResult<()> {
        let this = ops::this_zval(self_);
        let state = &self_.state;
        let core = self_.core()?;
        core.commit_transaction_with(txn_timeout(timeout_ms.0), |t| txn_flush(&this, state, t))?
            .map_err(|e| exception::kafka_error_from(&e))
    }

    pub fn abort_transaction(self_: &mut ZendClassObject<Self>, timeout_ms: PhpInt) -> PhpResult<()> {
        let this = ops::this_zval(self_);
        let state = &self_.state;
        let core = self_.core()?;
        core.abort_transaction_with(txn_timeout(timeout_ms.0), |t| txn_flush(&this, state, t))?
            .map_err(|e| exception::kafka_error_from(&e))
    }
});

/// `RdKafka\Consumer` (the low-level consumer).
#[php_class]
#[php(name = "RdKafka\\Consumer")]
#[php(extends(RdKafka))]
pub struct Consumer {
    state: ClientState,
}

impl ClientOps for Consumer {
    fn state(&self) -> PhpResult<&ClientState> {
        Ok(&self.state)
    }
}

impl Consumer {
    fn make_topic(
        self_: &mut ZendClassObject<Self>,
        name: String,
        conf: kafkars::TopicConfig,
    ) -> PhpResult<TopicRet> {
        if let Ok(consumer) = self_.state.consumer() {
            consumer.name_topic(&name);
        }
        let owner = ops::this_zval(self_);
        TopicRet::new(ConsumerTopic::new(owner, name, conf))
    }
}

rdkafka_impl!(Consumer {
    pub fn __construct(conf: Option<&Conf>) -> PhpResult<Self> {
        Ok(Consumer { state: new_state(ClientKind::Consumer, conf)? })
    }

    pub fn new_queue(self_: &mut ZendClassObject<Self>) -> PhpResult<Queue> {
        self_.state()?.check_process()?;
        Ok(Queue::new(ops::this_zval(self_)))
    }
});
