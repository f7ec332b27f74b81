//! The `reformer` subcommands.

pub mod check_hf;
pub mod eval;
pub mod generate;
pub mod train;
