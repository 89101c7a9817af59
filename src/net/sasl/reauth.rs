//! Authenticating a new connection, and re-authenticating it before its session expires
//! (KIP-368): a broker with `connections.max.reauth.ms` (or an OAUTHBEARER token's expiry)
//! tells the client its session lifetime, and closes a connection used after that.

use super::Sasl;
use crate::error::Result;
use crate::net::Connection;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often a waiting re-authentication task checks that its connection still exists.
const CHECK_ALIVE: Duration = Duration::from_secs(10);

/// When to re-authenticate: at 90% of the session lifetime, as librdkafka does.
fn reauth_after(lifetime: Duration) -> Duration {
    lifetime.mul_f64(0.9)
}

/// Authenticates `conn` (nothing else uses it yet) and schedules its re-authentication.
///
/// # Errors
/// As [`Sasl::authenticate`].
pub(crate) async fn authenticate(conn: &Arc<Connection>, sasl: Arc<Sasl>) -> Result<()> {
    let lifetime = {
        let mut ex = conn.exclusive().await;
        sasl.authenticate(&mut ex, conn.setup_timeout()).await?
    };
    if let Some(l) = lifetime {
        tokio::spawn(reauthenticate(Arc::downgrade(conn), sasl, l));
    }
    Ok(())
}

/// Re-authenticates while the connection lives. Requests wait (the write side is held)
/// during the exchange, then go on over the same connection.
async fn reauthenticate(conn: Weak<Connection>, sasl: Arc<Sasl>, mut lifetime: Duration) {
    loop {
        // Sleep in slices so the task ends soon after its connection does, even with
        // hour-long sessions (a PHP-FPM worker may open many short-lived clients).
        let due = tokio::time::Instant::now() + reauth_after(lifetime);
        loop {
            let now = tokio::time::Instant::now();
            if now >= due {
                break;
            }
            tokio::time::sleep_until(due.min(now + CHECK_ALIVE)).await;
            if conn.upgrade().is_none_or(|c| c.is_closed()) {
                return;
            }
        }
        let Some(c) = conn.upgrade() else { return };
        if c.is_closed() {
            return;
        }
        let r = {
            let mut ex = c.exclusive().await;
            sasl.authenticate(&mut ex, c.setup_timeout()).await
        };
        match r {
            Ok(Some(l)) => lifetime = l,
            Ok(None) => return,
            Err(_) => {
                // The broker closes the connection at expiry; make sure nobody picks it
                // again. A new connection authenticates afresh and reports its own error.
                c.mark_closed();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reauth_point() {
        assert_eq!(
            reauth_after(Duration::from_secs(10)),
            Duration::from_secs(9)
        );
        assert_eq!(
            reauth_after(Duration::from_millis(100)),
            Duration::from_millis(90)
        );
    }
}
