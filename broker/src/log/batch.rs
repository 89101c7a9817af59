//! (scaffold, issue #2)
pub struct BatchHeader;
