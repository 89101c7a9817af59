//! `kafkars`: one command line for the broker and the client tools (like Redpanda's `rpk`).
//!
//! Each subcommand lives in its own file; `main` only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod broker;
mod connect;
mod consume;
mod groups;
mod perf;
mod produce;
mod topics;

#[derive(Parser)]
#[command(
    name = "kafkars",
    version,
    about = "Pure-Rust Kafka: broker and client tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Kafka-wire-compatible broker.
    Broker(broker::BrokerArgs),
    /// Create, list, describe, delete topics and add partitions.
    Topics(topics::TopicsArgs),
    /// Console producer: one message per stdin line.
    Produce(produce::ProduceArgs),
    /// Console consumer: one message per stdout line.
    Consume(consume::ConsumeArgs),
    /// List and describe consumer groups (with lag), reset their offsets.
    Groups(groups::GroupsArgs),
    /// Load generators: perf produce, perf consume.
    Perf(perf::PerfArgs),
}

fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| connect::parse_error(e));
    match cli.command {
        Command::Broker(args) => broker::run(args),
        Command::Topics(args) => topics::run(args),
        Command::Produce(args) => produce::run(args),
        Command::Consume(args) => consume::run(args),
        Command::Groups(args) => groups::run(args),
        Command::Perf(args) => perf::run(args),
    }
}
