//! `reformer-bench`: benchmarks of the Reformer's time and memory claims.
//!
//! The subcommands (attention complexity, memory in depth, throughput, peers) arrive with the
//! benchmark issues; `reformer-bench --help` lists those present.

use clap::Parser;

/// Benchmarks of the Reformer's time and memory claims.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    Cli::parse();
    println!("no benchmarks yet: they arrive with the benchmark issues");
}
