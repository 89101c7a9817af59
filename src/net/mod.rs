//! Networking: one [`Connection`] per broker, what secures it ([`Security`]: TLS, SASL), and
//! the record batch codec.

pub mod connection;
pub mod records;
pub mod sasl;
pub mod security;
pub mod tls;

pub use connection::{Connection, ConnectionOptions};
pub use security::Security;
