//! Networking: one [`Connection`] per broker, and the record batch codec.

pub mod connection;
pub mod records;

pub use connection::{Connection, ConnectionOptions};
