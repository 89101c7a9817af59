//! `kafkars broker`: load settings (file, then flags), start the server, stop on SIGINT or
//! SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use kafkars_broker::{BrokerConfig, Server};

/// Exit code for configuration errors (bad flags or settings).
const EXIT_CONFIG: u8 = 2;

#[derive(Args, Debug)]
pub struct BrokerArgs {
    /// Address to listen on, HOST:PORT [default: 127.0.0.1:9092, or `listeners` from --config].
    #[arg(long)]
    listen: Option<String>,
    /// Address clients are told to connect to, HOST:PORT [default: the listen address].
    #[arg(long)]
    advertise: Option<String>,
    /// Data directory [default: ./kafkars-data, or `log.dirs` from --config].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A Kafka server.properties file (listeners, log.dirs, num.partitions, log.retention.* …).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs the broker until a signal; exit code 0 on a clean shutdown, 2 on bad settings.
pub fn run(args: BrokerArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = match &args.config {
        Some(path) => match BrokerConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("kafkars broker: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        None => BrokerConfig::default(),
    };
    // Flags win over the file, and are checked like the file's settings.
    let flags = [
        ("listeners", args.listen),
        ("advertised.listeners", args.advertise),
    ];
    for (key, value) in flags {
        if let Some(value) = value {
            if let Err(e) = config.set(key, &value) {
                eprintln!("kafkars broker: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        }
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kafkars broker: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        // Signal handlers go in before the port opens: a supervisor may signal us as soon as
        // it can connect.
        let signals = match Signals::install() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("kafkars broker: cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        };
        let server = match Server::bind(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("kafkars broker: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("kafkars broker listening on {}", server.local_addr());
        let token = server.shutdown_token();
        tokio::spawn(async move {
            signals.wait().await;
            tracing::info!("signal received, shutting down");
            token.cancel();
        });
        server.run().await;
        ExitCode::SUCCESS
    })
}

struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
