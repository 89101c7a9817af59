//! What every client subcommand shares: the `--bootstrap-server` flag, the client
//! configuration built from it, a way to run async work on the core's runtime, and the one
//! place where errors become a single readable line and an exit code.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use kafka_protocol::messages::{FindCoordinatorRequest, GroupId};
use kafka_protocol::protocol::StrBytes;
use kafkars::cluster::Cluster;
use kafkars::net::Connection;
use kafkars::Config;

/// Exit code for a failed operation (broker error, unreachable broker, unknown topic).
pub const EXIT_FAILURE: u8 = 1;

/// Connection flags of every client subcommand.
#[derive(Args, Debug, Clone)]
pub struct ConnectArgs {
    /// Broker list, HOST:PORT[,HOST:PORT…].
    #[arg(
        short = 'b',
        long = "bootstrap-server",
        env = "KAFKARS_BROKERS",
        default_value = "127.0.0.1:9092",
        global = true
    )]
    pub bootstrap: String,
    /// Longest wait for one broker operation, in milliseconds.
    #[arg(long = "request-timeout-ms", default_value_t = 15_000, global = true)]
    pub request_timeout_ms: u64,
    /// Extra client properties (librdkafka names), repeatable: `-X linger.ms=20`.
    #[arg(
        short = 'X',
        long = "property",
        value_name = "KEY=VALUE",
        global = true
    )]
    pub properties: Vec<String>,
}

impl ConnectArgs {
    /// The operation timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.max(1))
    }

    /// A client configuration pointing at the bootstrap servers, with short timeouts so a
    /// dead broker is reported in seconds, not minutes.
    ///
    /// # Errors
    /// A property that librdkafka would reject (text as librdkafka's).
    pub fn config(&self) -> Result<Config> {
        let mut conf = Config::new();
        let t = self
            .request_timeout_ms
            .clamp(1000, i32::MAX as u64)
            .to_string();
        set(&mut conf, "metadata.broker.list", &self.bootstrap)?;
        set(&mut conf, "client.id", "kafkars-cli")?;
        set(&mut conf, "socket.connection.setup.timeout.ms", &t)?;
        set(&mut conf, "socket.timeout.ms", &t)?;
        // Commands name their topics: a mistyped name is an error, not a new topic (a
        // producer's default would let the broker create it). `-X` can still allow it.
        set(&mut conf, "allow.auto.create.topics", "false")?;
        for kv in &self.properties {
            let (k, v) = split_kv(kv)?;
            set(&mut conf, k, v)?;
        }
        Ok(conf)
    }

    /// A bare cluster view (for requests the core's admin API does not wrap).
    ///
    /// # Errors
    /// As [`ConnectArgs::config`].
    pub fn cluster(&self) -> Result<Arc<Cluster>> {
        Ok(Cluster::new(&self.config()?))
    }
}

/// Sets one property, with librdkafka's error text on failure.
///
/// # Errors
/// Unknown property or invalid value.
pub fn set(conf: &mut Config, key: &str, value: &str) -> Result<()> {
    conf.set(key, value).map_err(|e| anyhow!("{e}"))
}

/// Splits `KEY=VALUE`.
///
/// # Errors
/// When there is no `=` or the key is empty.
pub fn split_kv(s: &str) -> Result<(&str, &str)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k, v)),
        _ => Err(anyhow!("expected KEY=VALUE, got {s:?}")),
    }
}

/// Runs `f` on the client core's background runtime and waits for it.
///
/// # Errors
/// Whatever `f` returns, or a runtime start failure.
pub fn block_on<T, F>(f: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let handle = kafkars::runtime::handle().map_err(|e| anyhow!("{e}"))?;
    handle.block_on(f)
}

/// Turns a core error into an `anyhow` error that reads well on one line.
pub fn kerr(e: kafkars::KafkaError) -> anyhow::Error {
    let name = e.name();
    if e.message.is_empty() || e.message == e.description() {
        anyhow!("{} ({name})", e.description())
    } else {
        anyhow!("{} ({name})", e.message)
    }
}

/// The coordinator of `group`, connected.
///
/// # Errors
/// Unreachable brokers, `COORDINATOR_NOT_AVAILABLE` and other broker errors.
pub async fn coordinator(cluster: &Cluster, group: &str) -> Result<Arc<Connection>> {
    let (conn, _) = cluster.any_connection().await.map_err(kerr)?;
    let mut req = FindCoordinatorRequest::default();
    req.key = StrBytes::from_string(group.to_string());
    req.key_type = 0;
    let v = conn.version::<FindCoordinatorRequest>(3).map_err(kerr)?;
    if v >= 4 {
        req.coordinator_keys = vec![StrBytes::from_string(group.to_string())];
    }
    let resp = conn
        .send_versioned(&req, v, cluster.request_timeout())
        .await
        .map_err(kerr)?;
    let (code, host, port) = match resp.coordinators.first() {
        Some(c) => (c.error_code, c.host.to_string(), c.port),
        None => (resp.error_code, resp.host.to_string(), resp.port),
    };
    broker_error(code).with_context(|| format!("finding the coordinator of group {group:?}"))?;
    cluster
        .connect_addr(&format!("{host}:{port}"))
        .await
        .map_err(kerr)
}

/// `Ok` for Kafka error code 0, else the error's librdkafka text and name.
///
/// # Errors
/// Any non-zero code.
pub fn broker_error(code: i16) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    Err(kerr(kafkars::KafkaError::new(
        kafkars::ErrorCode::from_kafka(code),
    )))
}

/// A group id for requests.
pub fn group_id(g: &str) -> GroupId {
    GroupId(StrBytes::from_string(g.to_string()))
}

/// Prints `kafkars: error: …` on one line and maps to an exit code.
pub fn exit(r: Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut line = e.to_string();
            for cause in e.chain().skip(1) {
                line.push_str(": ");
                line.push_str(&cause.to_string());
            }
            eprintln!("kafkars: error: {}", line.replace('\n', " "));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Exit code for bad flags (as clap uses).
pub const EXIT_USAGE: i32 = 2;

/// Bad flags: one line `kafkars: error: …` and exit code 2; help and version print as usual.
pub fn parse_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || matches!(
            e.kind(),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        e.exit();
    }
    let text = e.render().to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments");
    let first = first.trim_start_matches("error: ");
    eprintln!("kafkars: error: {first} (see --help)");
    std::process::exit(EXIT_USAGE);
}

/// Restores the default SIGPIPE action, so `kafkars … | head` ends quietly like other Unix
/// tools instead of panicking in `println!` (Rust ignores SIGPIPE by default).
pub fn default_sigpipe() {
    // SAFETY: called at the start of a subcommand, before any thread of ours writes to a
    // pipe; setting a signal's disposition to SIG_DFL has no other preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
