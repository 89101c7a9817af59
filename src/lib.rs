//! # kafkars — the client core
