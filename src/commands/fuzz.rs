//! `cargo dualtrack fuzz`: the fuzz stage alone, for a set time or number of inputs per
//! function, on every function the filter keeps. It is a review that runs only that stage, so
//! its crashes are findings with ids, rerun commands and reports, and `reconcile` takes them.

use crate::cli::{FuzzArgs, GlobalArgs};
use crate::error::ExitCode;

pub fn run(global: &GlobalArgs, args: &FuzzArgs) -> anyhow::Result<ExitCode> {
    super::review::run(global, &args.review_args())
}
