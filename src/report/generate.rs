//! What `generate` made and what it did not, for stderr (counts, a budget note, each function
//! skipped with why), and what `--write` checked in.

use std::fmt::Write as _;

use crate::generate::Generation;

/// What was made and what was not, for stderr.
pub fn summary(generation: &Generation, max_tests: u32) -> String {
    let mut out = String::new();
    let functions: std::collections::BTreeSet<&str> = generation
        .tests
        .iter()
        .map(|t| t.test.meta.function.as_str())
        .collect();
    let _ = writeln!(
        out,
        "generated {} for {} ({}); {} skipped",
        crate::output::plural(generation.tests.len(), "test"),
        crate::output::plural(functions.len(), "function"),
        crate::output::plural(generation.candidates, "candidate"),
        crate::output::plural(generation.skipped.len(), "function")
    );
    if max_tests > 0 && generation.callable > functions.len() {
        let _ = writeln!(
            out,
            "note: {} functions could be tested but --max-tests {} spreads over {}: narrow with --fn or raise --max-tests (0 for no limit)",
            generation.callable,
            max_tests,
            functions.len()
        );
    }
    for skipped in &generation.skipped {
        let _ = writeln!(
            out,
            "skipped {}: {}",
            skipped.function,
            skipped.reasons.join("; ")
        );
    }
    out
}

/// What `--write` checked in, for the terminal.
pub fn checked_in(written: &crate::checkin::Written, already: usize) -> String {
    let mut text = if written.tests.is_empty() {
        format!(
            "nothing new to check in ({} there already)\n",
            crate::output::plural(already, "test")
        )
    } else {
        format!(
            "checked in {} ({already} there already); they have not run yet: `cargo test` \
             shows which fail, and a failing one is a finding to fix or a test to remove\n",
            crate::output::plural(written.tests.len(), "test"),
        )
    };
    for file in &written.files {
        let _ = writeln!(text, "  {file}");
    }
    if !written.skipped.is_empty() {
        let _ = writeln!(
            text,
            "left out {}:",
            crate::output::plural(written.skipped.len(), "test")
        );
        for skipped in &written.skipped {
            let _ = writeln!(text, "  {skipped}");
        }
    }
    text
}
