//! `RdKafka\Queue`: a consume queue of the low-level consumer, fed by
//! `ConsumerTopic::consumeQueueStart()`.

use std::sync::atomic::{AtomicU64, Ordering};

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};

use crate::exception::rdkafka_exception;
use crate::kafka::{ClientOps, Consumer};
use crate::ops;
use crate::returns::MessageRet;
use crate::weak_typing::PhpInt;

static NEXT_QUEUE_ID: AtomicU64 = AtomicU64::new(1);

#[php_class]
#[php(name = "RdKafka\\Queue")]
pub struct Queue {
    owner: Zval,
    id: u64,
}

impl Queue {
    pub fn new(owner: Zval) -> Self {
        Queue {
            owner,
            id: NEXT_QUEUE_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Identifies the queue to the consumer.
    pub fn id(&self) -> u64 {
        self.id
    }
}

#[php_impl]
impl Queue {
    #[php(vis = "private")]
    pub fn __construct() -> Self {
        Queue {
            owner: Zval::null(),
            id: 0,
        }
    }

    pub fn consume(&self, timeout_ms: PhpInt) -> PhpResult<Option<MessageRet>> {
        let uninit = || rdkafka_exception("RdKafka\\Queue::__construct() has not been called", 0);
        let obj = self.owner.object().ok_or_else(uninit)?;
        let consumer = ZendClassObject::<Consumer>::from_zend_obj(obj).ok_or_else(uninit)?;
        let state = consumer.state()?;
        state.check_process()?;
        ops::consume_queue(&self.owner, state, self.id, timeout_ms.0)
    }
}
