//! The `reformer` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use reformer_train::commands::{check_hf, demo};

/// Reformer language models on Burn.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a small Reformer on random tokens (the default).
    Demo(demo::DemoArgs),
    /// Compare the model with a HuggingFace fixture; exits non-zero above 1e-4.
    CheckHf(check_hf::CheckHfArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => demo::run(&demo::DemoArgs {
            device: None,
            seq_len: 1024,
            seed: 0,
        }),
        Some(Command::Demo(args)) => demo::run(&args),
        Some(Command::CheckHf(args)) => check_hf::run(&args)
            .map(|(json, passed)| {
                println!("{json}");
                if !passed {
                    eprintln!(
                        "parity check failed: an error exceeds {}",
                        check_hf::TOLERANCE
                    );
                }
                passed
            })
            .and_then(|passed| {
                if passed {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!("parity above tolerance"))
                }
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
