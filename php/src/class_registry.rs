//! Classes registered by hand with `ClassBuilder` (exceptions, `Message`):
//! their class entries, and typed property declarations.
//!
//! Subclassing rule (ext-php-rs 0.16): a `#[php_class]` struct must not
//! implement `Default` (ext-php-rs then creates every object, a user
//! subclass's too, with the parent's class entry, so `new MySubclass()` was a
//! plain `RdKafka\Conf`) nor `Clone` (which makes it cloneable, unlike
//! php-rdkafka). Its object handler table is ext-php-rs' and stays untouched:
//! `clone` errors name the Rust class, `var_dump()` shows declared properties.
//!
//! ext-php-rs' `#[php_class]` cannot give us what php-rdkafka has here:
//! exception subclasses constructible from PHP, and plain objects with typed
//! public properties (`public int $err;`). These classes are ordinary Zend
//! classes; the statics below keep their entries for `new` and `instanceof`.

use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::ffi::{zend_class_entry, zend_property_info, zend_string, zend_type, zval};
use ext_php_rs::flags::PropertyFlags;
use ext_php_rs::types::{ZendStr, Zval};
use ext_php_rs::zend::{ClassEntry, ExecutorGlobals};

unsafe extern "C" {
    // Exported by the PHP binary (Zend/zend_API.h); not in ext-php-rs' allow list.
    fn zend_declare_typed_property(
        ce: *mut zend_class_entry,
        name: *mut zend_string,
        property: *mut zval,
        access_type: c_int,
        doc_comment: *mut zend_string,
        type_: zend_type,
    ) -> *mut zend_property_info;
}

/// `MAY_BE_*` bits of a `zend_type` mask (Zend/zend_type_info.h).
pub mod may_be {
    pub const NULL: u32 = 1 << 1;
    pub const BOOL: u32 = (1 << 2) | (1 << 3);
    pub const LONG: u32 = 1 << 4;
    pub const STRING: u32 = 1 << 6;
    pub const ARRAY: u32 = 1 << 7;
}

/// A class entry kept for the process lifetime (set once in MINIT).
pub struct ClassSlot(AtomicPtr<ClassEntry>);

impl Default for ClassSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl ClassSlot {
    pub const fn new() -> Self {
        ClassSlot(AtomicPtr::new(std::ptr::null_mut()))
    }

    pub fn set(&self, ce: &'static mut ClassEntry) {
        self.0.store(ce, Ordering::Release);
    }

    /// # Panics
    /// If read before module startup registered the class (a bug in MINIT order).
    pub fn get(&self) -> &'static ClassEntry {
        let ptr = self.0.load(Ordering::Acquire);
        // SAFETY: the pointer is a registered internal class entry, which lives
        // until module shutdown; null is excluded below.
        unsafe { ptr.as_ref() }.expect("class used before module startup")
    }
}

/// Default of a typed property: none (uninitialized) or a value.
pub enum PropDefault {
    Uninit,
    Null,
    EmptyArray,
}

/// Declares `name` on `ce` with a PHP type. Must run in MINIT. Returns the
/// property's byte offset in the object (`zend_property_info.offset`), or 0
/// if the engine refused the declaration.
pub fn declare_typed_property(
    ce: &mut ClassEntry,
    name: &str,
    type_mask: u32,
    default: PropDefault,
    flags: PropertyFlags,
) -> u32 {
    let mut value = match default {
        PropDefault::Null => Zval::null(),
        PropDefault::EmptyArray => {
            // Internal classes need persistent, immutable defaults: the engine's
            // shared empty array qualifies.
            let mut z = Zval::new();
            z.value.arr = std::ptr::addr_of!(ext_php_rs::ffi::zend_empty_array).cast_mut();
            z.u1.type_info = ext_php_rs::ffi::IS_ARRAY;
            z
        }
        PropDefault::Uninit => {
            let mut z = Zval::new();
            z.u1.type_info = 0; // IS_UNDEF: "must not be accessed before initialization"
            z
        }
    };
    let name = ZendStr::new_interned(name, true).into_raw();
    let ty = zend_type {
        ptr: std::ptr::null_mut(),
        type_mask,
    };
    // SAFETY: MINIT context, `ce` is a registered internal class, `name` is an
    // interned persistent string the property table keeps, `value` is copied.
    let info = unsafe {
        zend_declare_typed_property(
            std::ptr::from_mut(ce).cast(),
            name,
            &raw mut value,
            flags.bits() as c_int,
            std::ptr::null_mut(),
            ty,
        )
    };
    std::mem::forget(value);
    // SAFETY: a non-null result is the engine's property info for this class.
    unsafe { info.as_ref() }.map_or(0, |info| info.offset)
}

/// Runs `f` with `ce` as the property-access scope, the way Zend's
/// `zend_update_property()` writes private and protected properties.
pub fn with_scope<R>(ce: &'static ClassEntry, f: impl FnOnce() -> R) -> R {
    let previous = {
        let mut globals = ExecutorGlobals::get_mut();
        std::mem::replace(
            &mut globals.fake_scope,
            std::ptr::from_ref(ce).cast_mut().cast(),
        )
    };
    let result = f();
    ExecutorGlobals::get_mut().fake_scope = previous;
    result
}
