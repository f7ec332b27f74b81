//! Training library and the `reformer` command.
//!
//! Each subcommand of `reformer` lives in [`commands`], so that tests can run it in-process.

pub mod commands;
