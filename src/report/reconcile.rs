//! A reconcile for the terminal: what was checked in, the decisions made, the run's failures
//! and how to decide on those still open.

use std::fmt::Write as _;
use std::path::Path;

use crate::output::plural;
use crate::reconcile::{Listed, Reconciled};

/// The terminal's text: what was checked in, the decisions made, the run's failures and how to
/// decide on those still open.
pub fn render_human(run_id: &str, reconciled: &Reconciled, root: &Path) -> String {
    let mut out = String::new();
    if let Some(written) = &reconciled.checked_in {
        if written.tests.is_empty() {
            out.push_str("nothing new to check in: the tests are there already\n");
        } else {
            let _ = writeln!(
                out,
                "checked in {} ({}): {}",
                plural(written.tests.len(), "test"),
                written.files.join(", "),
                written.tests.join(", ")
            );
        }
        for skipped in &written.skipped {
            let _ = writeln!(out, "left out {skipped}");
        }
        out.push('\n');
    }
    for made in &reconciled.decided {
        let (id, function, status) = (&made.id, &made.function, made.verdict.status());
        let _ = writeln!(out, "{id} {function}: {status}");
    }
    if !reconciled.decided.is_empty() {
        let _ = writeln!(
            out,
            "recorded in {}\n",
            crate::decisions::decisions_path(root).display()
        );
    }
    let listed = &reconciled.listed;
    let open: Vec<&Listed> = listed.iter().filter(|f| !f.status.is_decided()).collect();
    let _ = writeln!(
        out,
        "run {run_id}: {}, {} undecided",
        plural(listed.len(), "failure"),
        open.len()
    );
    for finding in listed {
        let _ = writeln!(
            out,
            "  {} {:<9} {} {}: {}",
            finding.id,
            finding.status.as_str(),
            finding.verdict.as_str(),
            finding.function.as_deref().unwrap_or_default(),
            finding.message.as_deref().unwrap_or_default()
        );
        if let Some(fix) = &finding.fix {
            let _ = writeln!(out, "      verified fix: git apply {fix}");
        }
    }
    if !open.is_empty() {
        out.push_str(
            "\ndecide with --keep ID (check its test in), --accept ID [--reason TEXT] (the \
             implementation is right) or --defer ID (fix later)\n",
        );
    }
    out
}
