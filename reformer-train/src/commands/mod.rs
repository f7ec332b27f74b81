//! The `reformer` subcommands.

pub mod check_hf;
pub mod demo;
