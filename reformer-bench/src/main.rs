//! `reformer-bench`: benchmarks of the Reformer's time and memory claims.

mod attention;
mod chart;
mod compare;
mod memory_depth;
mod process;
mod reference;
mod throughput;

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
    /// Time and peak memory of one attention layer (LSH, local, full) as the length grows.
    Attention(attention::AttentionArgs),
    /// Our throughput and memory against HuggingFace's and reformer-pytorch's, alternating.
    Compare(compare::CompareArgs),
    /// Peak memory and time of a training step at several depths, reversible and plain.
    MemoryDepth(memory_depth::MemoryDepthArgs),
    /// Tokens per second of full training steps of the reference model, per device.
    Throughput(throughput::ThroughputArgs),
    /// One attention measurement in this process (used by `attention`).
    #[command(hide = true)]
    AttentionStep(attention::StepArgs),
    /// One memory-depth measurement in this process (used by `memory-depth`).
    #[command(hide = true)]
    MemoryDepthStep(memory_depth::StepArgs),
    /// One throughput measurement in this process (used by `throughput`).
    #[command(hide = true)]
    ThroughputStep(throughput::StepArgs),
}

fn main() -> anyhow::Result<()> {
    reformer_core::allocator::reuse_freed_memory();
    match Cli::parse().command {
        Command::Attention(args) => attention::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::MemoryDepth(args) => memory_depth::run(&args),
        Command::Throughput(args) => throughput::run(&args),
        Command::AttentionStep(args) => attention::step(&args),
        Command::MemoryDepthStep(args) => memory_depth::step(&args),
        Command::ThroughputStep(args) => throughput::step(&args),
    }
}
