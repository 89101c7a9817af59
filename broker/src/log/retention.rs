//! (scaffold, issue #2)
