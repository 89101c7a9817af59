//! PHP weak-mode argument coercion for parameters declared `string`/`int`.
//!
//! php-rdkafka parses its arguments with `zend_parse_parameters`, which applies
//! PHP's weak typing: `$conf->set('linger.ms', 5)` passes the string `"5"`,
//! `produce("0", 0)` the int `0`. ext-php-rs' `String`/`i64` parameters refuse
//! those values, so the binding takes these newtypes instead. Each one
//! declares the PHP type php-rdkafka declares (reflection stays identical) and
//! converts like PHP does: scalars only, non-numeric strings are a `TypeError`.

use std::borrow::Cow;

use ext_php_rs::convert::FromZval;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::Zval;

/// A `string` parameter, binary safe (payloads and keys may hold NUL bytes and
/// invalid UTF-8). Borrows the PHP string when no coercion is needed.
pub struct PhpBytes<'a>(pub Cow<'a, [u8]>);

impl<'a> FromZval<'a> for PhpBytes<'a> {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        if let Some(s) = zval.zend_str() {
            return Some(PhpBytes(Cow::Borrowed(s.as_bytes())));
        }
        if zval.is_null() {
            return None; // `?string` gets None; `string` gets a TypeError
        }
        scalar_to_string(zval).map(|s| PhpBytes(Cow::Owned(s.into_bytes())))
    }
}

impl PhpBytes<'_> {
    /// The value as text, with invalid UTF-8 replaced (names, not payloads).
    pub fn to_text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// An `int` parameter accepting what PHP's weak mode accepts: ints, bools,
/// integral floats and numeric strings.
#[derive(Clone, Copy)]
pub struct PhpInt(pub i64);

impl ext_php_rs::convert::StubLiteral for PhpInt {
    fn stub_literal(&self) -> String {
        self.0.to_string()
    }
}

impl From<i64> for PhpInt {
    fn from(v: i64) -> Self {
        PhpInt(v)
    }
}

impl<'a> FromZval<'a> for PhpInt {
    const TYPE: DataType = DataType::Long;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        if zval.is_null() {
            return None; // `?int` gets None; `int` gets a TypeError
        }
        scalar_to_long(zval).map(PhpInt)
    }
}

/// A `bool` parameter accepting any scalar, like PHP's weak mode.
#[derive(Clone, Copy)]
pub struct PhpBool(pub bool);

impl<'a> FromZval<'a> for PhpBool {
    const TYPE: DataType = DataType::Bool;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        if zval.is_array() || zval.is_object() || zval.is_resource() {
            return None;
        }
        Some(PhpBool(zval.coerce_to_bool()))
    }
}

/// PHP's scalar-to-string conversion; `None` for arrays, objects, resources.
pub fn scalar_to_string(zval: &Zval) -> Option<String> {
    if let Some(s) = zval.str() {
        return Some(s.to_owned());
    }
    if let Some(s) = zval.zend_str() {
        return Some(String::from_utf8_lossy(s.as_bytes()).into_owned());
    }
    if zval.is_array() || zval.is_object() || zval.is_resource() {
        return None;
    }
    zval.coerce_to_string()
}

/// PHP's weak scalar-to-int conversion; `None` where PHP raises a TypeError.
pub fn scalar_to_long(zval: &Zval) -> Option<i64> {
    if let Some(l) = zval.long() {
        return Some(l);
    }
    if let Some(b) = zval.bool() {
        return Some(i64::from(b));
    }
    if zval.is_null() {
        return Some(0);
    }
    if let Some(d) = zval.double() {
        return float_to_long(d);
    }
    let s = zval.zend_str()?;
    let text = std::str::from_utf8(s.as_bytes()).ok()?;
    numeric_string_to_long(text)
}

fn float_to_long(d: f64) -> Option<i64> {
    if d.is_finite() && d.fract() == 0.0 && d >= i64::MIN as f64 && d < i64::MAX as f64 {
        Some(d as i64)
    } else {
        None
    }
}

/// Parses a PHP numeric string ("12", " 12", "1e3", "12.0"); leading and
/// trailing whitespace is allowed, anything else is not numeric.
fn numeric_string_to_long(text: &str) -> Option<i64> {
    let trimmed =
        text.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    if trimmed.is_empty() {
        return None;
    }
    if let Ok(v) = trimmed.parse::<i64>() {
        return Some(v);
    }
    let is_float_syntax = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
    if !is_float_syntax {
        return None;
    }
    trimmed.parse::<f64>().ok().and_then(float_to_long)
}
