//! The scratch stage: a synced copy of the workspace under the target directory, generated
//! test modules injected into it, built, and each test run in its own process.

pub mod build;
pub mod copy;
pub mod execute;
pub mod inject;
pub mod manifest;
pub mod process;
