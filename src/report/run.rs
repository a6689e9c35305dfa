//! The terminal report of a test run (`run-tests`, and `review -v`): a line per test, then the
//! counts.

use std::fmt::Write as _;

use crate::report::style::{DIM, ERROR, HEADING, paint};
use crate::scratch::RunReport;

pub fn render_human(report: &RunReport) -> String {
    let mut out = String::new();
    for result in &report.results {
        let outcome = result.outcome.as_str();
        let styled = if result.outcome.is_failure() {
            paint(ERROR, &format!("{outcome:<9}"))
        } else {
            format!("{outcome:<9}")
        };
        let _ = writeln!(
            out,
            "{styled} {}  {}",
            paint(HEADING, &result.name),
            paint(DIM, &result.function)
        );
        if !result.message.is_empty() {
            let first = result.message.lines().next().unwrap_or_default();
            let location = result
                .location
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            let _ = writeln!(out, "          {first}{location}");
            if result.outcome.is_failure()
                && let Some(input) = &result.input
            {
                let _ = writeln!(out, "          {}", paint(DIM, &format!("input: {input}")));
            }
        }
        if let Some(error) = result.compile_errors.first() {
            for line in error.lines().take(6) {
                let _ = writeln!(out, "          {}", paint(DIM, line));
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} ({}, build {} ms, run {} ms)",
        crate::report::review::counts_line(&crate::document::Counts::of(report)),
        crate::output::plural(report.build_rounds as usize, "build round"),
        report.timings.build_ms,
        report.timings.run_ms
    );
    out
}
