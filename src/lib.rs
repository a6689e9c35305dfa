//! cargo-dualtrack: the adversarial second track for Rust code.
//!
//! The binary is a thin shell over this library: `analyze` enumerates sites, and later stages
//! (score, generate, run, review) take its plain data types.

pub mod analyze;
pub mod checkin;
pub mod cli;
pub mod commands;
pub mod config;
pub mod decisions;
pub mod document;
pub mod effects;
pub mod error;
pub mod evidence;
pub mod generate;
pub mod input;
pub mod interrupt;
pub mod ledger;
pub mod output;
pub mod progress;
pub mod reconcile;
pub mod report;
pub mod review;
pub mod schema;
pub mod scratch;
pub mod secrets;
pub mod setup;
pub mod spec;
pub mod syntax;
pub mod testfile;
pub mod workspace;
