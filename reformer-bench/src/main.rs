//! `reformer-bench`: benchmarks of the Reformer's time and memory claims.

mod memory_depth;
mod process;
mod reference;

use clap::{Parser, Subcommand};

/// Benchmarks of the Reformer's time and memory claims.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Peak memory and time of a training step at several depths, reversible and plain.
    MemoryDepth(memory_depth::MemoryDepthArgs),
    /// One memory-depth measurement in this process (used by `memory-depth`).
    #[command(hide = true)]
    MemoryDepthStep(memory_depth::StepArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::MemoryDepth(args) => memory_depth::run(&args),
        Command::MemoryDepthStep(args) => memory_depth::step(&args),
    }
}
