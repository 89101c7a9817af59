//! PHP callables registered on a `Conf` and carried into the clients.
//!
//! Callables are kept as refcounted zvals (`shallow_clone`) and called only on
//! the PHP thread, from inside `poll()`/`flush()`/`consume()`/`close()`. If the
//! callable throws, the exception stays pending and the call that ran it
//! returns `Err`, which the method hands back unchanged to PHP.

use ext_php_rs::convert::{FromZval, IntoZvalDyn};
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendCallable, Zval};

use crate::exception::rdkafka_exception;

/// A `callable` parameter, kept alive past the call.
pub struct PhpCallable(pub Zval);

impl<'a> FromZval<'a> for PhpCallable {
    const TYPE: DataType = DataType::Callable;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        zval.is_callable()
            .then(|| PhpCallable(zval.shallow_clone()))
    }
}

/// Which callback; the `Conf::dump()` key librdkafka shows once it is set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CallbackKind {
    Error,
    DrMsg,
    Stats,
    Rebalance,
    Consume,
    OffsetCommit,
    Log,
    OauthbearerTokenRefresh,
}

impl CallbackKind {
    pub const ALL: [CallbackKind; 8] = [
        CallbackKind::Error,
        CallbackKind::DrMsg,
        CallbackKind::Stats,
        CallbackKind::Rebalance,
        CallbackKind::Consume,
        CallbackKind::OffsetCommit,
        CallbackKind::Log,
        CallbackKind::OauthbearerTokenRefresh,
    ];

    pub fn dump_key(self) -> &'static str {
        match self {
            CallbackKind::Error => "error_cb",
            CallbackKind::DrMsg => "dr_msg_cb",
            CallbackKind::Stats => "stats_cb",
            CallbackKind::Rebalance => "rebalance_cb",
            CallbackKind::Consume => "consume_cb",
            CallbackKind::OffsetCommit => "offset_commit_cb",
            CallbackKind::Log => "log_cb",
            CallbackKind::OauthbearerTokenRefresh => "oauthbearer_token_refresh_cb",
        }
    }
}

/// The callables of one `Conf` (or of the client built from it).
#[derive(Default)]
pub struct Callbacks {
    slots: [Option<Zval>; 8],
}

impl Clone for Callbacks {
    fn clone(&self) -> Self {
        Callbacks {
            slots: std::array::from_fn(|i| self.slots[i].as_ref().map(Zval::shallow_clone)),
        }
    }
}

impl Callbacks {
    fn index(kind: CallbackKind) -> usize {
        CallbackKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0)
    }

    pub fn set(&mut self, kind: CallbackKind, callable: PhpCallable) {
        self.slots[Self::index(kind)] = Some(callable.0);
    }

    pub fn get(&self, kind: CallbackKind) -> Option<&Zval> {
        self.slots[Self::index(kind)].as_ref()
    }

    pub fn is_set(&self, kind: CallbackKind) -> bool {
        self.get(kind).is_some()
    }
}

/// Calls `callable` with `args`. `Err` when it threw (the exception stays
/// pending and propagates) or is no longer callable.
pub fn invoke(callable: &Zval, args: Vec<&dyn IntoZvalDyn>) -> PhpResult<Zval> {
    let callable = ZendCallable::new(callable)
        .map_err(|_| rdkafka_exception("Callback is not callable", 0))?;
    callable
        .try_call(args)
        .map_err(|_| rdkafka_exception("Callback failed", 0))
}
