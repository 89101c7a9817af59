//! `kafkars`: one command line for the broker and the client tools (like Redpanda's `rpk`).
//!
//! Each subcommand lives in its own file; `main` only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod broker;

#[derive(Parser)]
#[command(name = "kafkars", version, about = "Pure-Rust Kafka: broker and client tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Kafka-wire-compatible broker.
    Broker(broker::BrokerArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Broker(args) => broker::run(args),
    }
}
