//! Parameter and return types whose PHP declaration ext-php-rs cannot derive
//! from a Rust type: by-reference `int &$x`, arrays, and objects declared as a
//! base class (`RdKafka\Topic`) or as a hand-registered class (`RdKafka\Message`).

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::{FromZval, FromZvalMut, IntoZval};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, ZendObject, Zval};

/// `int &$name`: an out parameter.
pub struct IntRef<'a>(&'a mut Zval);

impl<'a> FromZvalMut<'a> for IntRef<'a> {
    const TYPE: DataType = DataType::Long;
    const BY_REF: bool = true;

    fn from_zval_mut(zval: &'a mut Zval) -> Option<Self> {
        Some(IntRef(zval))
    }
}

impl IntRef<'_> {
    /// Assigns to the caller's variable.
    pub fn set(self, value: i64) {
        self.0.dereference_mut().set_long(value);
    }
}

/// An `array` parameter (borrowed).
pub struct PhpArray<'a>(pub &'a ZendHashTable);

impl<'a> FromZval<'a> for PhpArray<'a> {
    const TYPE: DataType = DataType::Array;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        zval.array().map(PhpArray)
    }
}

/// An object returned as `RdKafka\Message`.
pub struct MessageRet(pub ZBox<ZendObject>);

impl IntoZval for MessageRet {
    const TYPE: DataType = DataType::object("RdKafka\\Message");
    const NULLABLE: bool = false;

    fn set_zval(self, zv: &mut Zval, persistent: bool) -> ext_php_rs::error::Result<()> {
        self.0.set_zval(zv, persistent)
    }
}
