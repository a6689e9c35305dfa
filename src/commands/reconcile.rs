//! `cargo dualtrack reconcile [RUN]`: the human's step. A review's failures listed with their
//! status; accepted or deferred ones recorded in `.dualtrack/decisions.toml` (with what the
//! finding id was made of, the failure's message and the reason) and as `decision` rows in the
//! ledger. The work is `reconcile`'s; this reads the flags, walks the terminal when nothing is
//! asked, and prints the result.

use std::io::IsTerminal as _;

use serde_json::json;

use crate::cli::{GlobalArgs, ReconcileArgs, ReconcileFormat};
use crate::config::Config;
use crate::decisions::Decisions;
use crate::error::{ExitCode, InputError};
use crate::output::Styling;
use crate::progress::Progress;
use crate::reconcile::keys::Keys;
use crate::reconcile::run_dir::{lock_reconcile, read_run};
use crate::reconcile::walk::walk;
use crate::reconcile::{Reconcile, Requested, failures, normal_id, reconcile};
use crate::workspace::Workspace;

pub fn run(global: &GlobalArgs, args: &ReconcileArgs) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&global.package_selection(true))?;
    workspace.check_features(&global.feature_selection())?;
    let config = Config::load(&workspace.root)?;
    check_flags(args)?;
    // Found out before a test is checked in, not after.
    crate::output::refuse_linked_dir(&workspace.root.join(".dualtrack"))?;
    // One reconcile at a time: decisions and checked-in files are read, changed and written.
    let _lock = lock_reconcile(&workspace.target_directory)?;
    let runs = workspace.target_directory.join("dualtrack").join("runs");
    let run = read_run(&runs, args.run.as_deref())?;
    let mut decisions = Decisions::load(&workspace.root)?;
    let mut requested = Requested::from(args);
    // Nothing asked on the command line, at a terminal: walk the undecided failures.
    if !decides(args)
        && !args.list
        && args.format == ReconcileFormat::Human
        && std::io::stderr().is_terminal()
        && let Some(mut keys) = Keys::stdin()
    {
        let mut open = failures(&run.report);
        open.retain(|f| decisions.decision(&f.id).is_none());
        requested.add_choices(walk(&open, &run.report, &mut keys, &mut std::io::stderr())?);
    }
    // Ctrl-C while the tests build stops the build, and what was written is rolled back.
    // Not before: during the walk Ctrl-C ends the process with nothing written.
    crate::interrupt::install();
    let at = Reconcile {
        workspace: &workspace,
        config: &config,
        run: &run,
        features: &global.feature_selection(),
        progress: &Progress::new("reconcile", global.quiet),
    };
    let reconciled = reconcile(&at, &mut decisions, &requested)?;
    let text = match args.format {
        ReconcileFormat::Json => {
            let mut text = serde_json::to_string_pretty(&json!({
                "schema": "dualtrack.reconcile/v1",
                "run_id": run.id,
                "decided": reconciled.decided.iter().map(|d| json!({"id": d.id, "decision": d.verdict.status()})).collect::<Vec<_>>(),
                "checked_in": reconciled.checked_in.as_ref().map(|w| json!({"files": w.files, "tests": w.tests})),
                "findings": reconciled.listed,
            }))?;
            text.push('\n');
            text
        }
        ReconcileFormat::Human => {
            crate::report::reconcile::render_human(&run.id, &reconciled, &workspace.root)
        }
    };
    super::emit(global, &text, Styling::Plain)?;
    Ok(ExitCode::Clean)
}

/// Whether the command line records decisions itself (no walk).
fn decides(args: &ReconcileArgs) -> bool {
    args.accept_all
        || args.keep_all_passing
        || !(args.keep.is_empty()
            && args.accept.is_empty()
            && args.defer.is_empty()
            && args.apply.is_empty())
}

/// Options that contradict each other: an error rather than one silently winning.
fn check_flags(args: &ReconcileArgs) -> Result<(), InputError> {
    if args.list && decides(args) {
        return Err(InputError::new(
            "--list only lists: drop it to record decisions, or drop the decisions to list",
        ));
    }
    if args.reason.is_some() && args.accept.is_empty() && !args.accept_all {
        return Err(InputError::new(
            "--reason goes with --accept ID or --accept-all: say which findings it is for",
        ));
    }
    // `--apply` keeps the test too, so with `--keep` it agrees.
    let kept = [args.keep.clone(), args.apply.clone()].concat();
    let lists = [
        ("--keep/--apply", &kept),
        ("--accept", &args.accept),
        ("--defer", &args.defer),
    ];
    for (n, (one, ids)) in lists.iter().enumerate() {
        for (other, others) in &lists[n + 1..] {
            if let Some(id) = ids
                .iter()
                .find(|id| others.iter().any(|o| normal_id(o) == normal_id(id)))
            {
                return Err(InputError::new(format!(
                    "{id} is given to both {one} and {other}: choose one decision for it"
                )));
            }
        }
    }
    Ok(())
}
