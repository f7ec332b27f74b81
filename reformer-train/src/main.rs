//! The `reformer` command.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};
use reformer_train::commands::{check_hf, eval, generate, train};

/// Reformer language models on Burn.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a Reformer (the default: the duplication task on the CPU), or resume a run.
    Train(train::TrainArgs),
    /// Evaluate a checkpoint on held-out data.
    Eval(eval::EvalArgs),
    /// Sample text from a checkpoint.
    Generate(generate::GenerateArgs),
    /// Compare the model with a HuggingFace fixture; exits non-zero above 1e-4.
    CheckHf(check_hf::CheckHfArgs),
}

/// Exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT).
const INTERRUPTED: u8 = 130;

/// The first Ctrl-C (or SIGTERM) asks the training loop to checkpoint and stop; a second one
/// exits at once (checkpoints are atomic, so the last complete one survives).
fn interrupt_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(INTERRUPTED));
        }
        eprintln!(
            "\ninterrupt: finishing the current step and writing a checkpoint (again to quit now)"
        );
    })?;
    Ok(flag)
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Train(args) => {
            let completed = train::main(&args, &interrupt_flag()?)?;
            Ok(if completed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(INTERRUPTED)
            })
        }
        Command::Eval(args) => eval::run(&args).map(|_| ExitCode::SUCCESS),
        Command::Generate(args) => generate::run(&args).map(|_| ExitCode::SUCCESS),
        Command::CheckHf(args) => {
            let (json, passed) = check_hf::run(&args)?;
            println!("{json}");
            if !passed {
                anyhow::bail!(
                    "parity check failed: an error exceeds {}",
                    check_hf::TOLERANCE
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Settles the device a command runs on (its `--device`, else `BURN_DEVICE`, else the
/// first CPU backend) and points Burn's own default device (`BURN_DEVICE`, where Burn puts
/// restored optimizer state) at the same backend, so that a CPU run never starts wgpu.
fn settle_device(command: &mut Command) {
    let flag = match command {
        Command::Train(args) => &mut args.device,
        Command::Eval(args) => &mut args.device,
        Command::Generate(args) => &mut args.device,
        Command::CheckHf(args) => &mut args.device,
    };
    let name = flag
        .take()
        .unwrap_or_else(reformer_core::device::default_device_name);
    let burn_name = if name.starts_with("wgpu") {
        "wgpu"
    } else {
        name.as_str()
    };
    // SAFETY: called first thing in `main`, before any other thread exists.
    unsafe { std::env::set_var("BURN_DEVICE", burn_name) };
    *flag = Some(name);
}

fn main() -> ExitCode {
    reformer_core::allocator::reuse_freed_memory();
    let mut command = Cli::parse()
        .command
        .unwrap_or_else(|| Command::Train(train::TrainArgs::default()));
    settle_device(&mut command);
    run(command).unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::FAILURE
    })
}
