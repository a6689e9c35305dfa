//! Rendering a `dualtrack.review/v1` document: for a terminal, as markdown for a pull-request
//! comment, and as JUnit XML for CI test views.

use std::fmt::Write as _;
use std::path::Path;

use crate::document::{Counts, Finding, FindingKind, ReviewDocument, Verdict};
use crate::scratch::execute::Outcome;

/// Where a finding sorts in the human report: likely bugs first, spec gaps last.
fn severity(finding: &Finding) -> u8 {
    match (finding.kind, finding.verdict) {
        (FindingKind::Failure, Verdict::LikelyBug) => 0,
        (FindingKind::Failure, _) => 1,
        (FindingKind::DroppedTest, _) => 2,
        _ => 3,
    }
}

/// Spec gaps listed one per line with `--gaps`, up to this many; the rest are in the reports.
const GAPS_SHOWN: usize = 10;

/// Findings by severity (failures with their message, place, snippet, input and the command
/// that reproduces them; then dropped tests; then spec gaps), then a table per function and
/// the totals.
pub fn render_human(document: &ReviewDocument, run_dir: &Path, show_gaps: bool) -> String {
    use crate::report::style::{DIM, ERROR, HEADING, WARNING, paint};
    let mut out = String::new();
    let mut findings: Vec<&Finding> = document
        .findings
        .iter()
        .filter(|f| !f.status.is_decided())
        .collect();
    findings.sort_by_key(|f| severity(f));
    let mut gaps_shown = 0;
    for finding in &findings {
        let location = finding.location.as_deref();
        if severity(finding) == 3 {
            gaps_shown += 1;
            if show_gaps && gaps_shown <= GAPS_SHOWN {
                let what = finding
                    .site
                    .as_deref()
                    .or(finding.item.as_deref())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{} {what}{}  {}",
                    paint(WARNING, &finding.kind.as_str().replace('_', " ")),
                    location.map(|l| format!(" at {l}")).unwrap_or_default(),
                    paint(DIM, &finding.message)
                );
            }
            continue;
        }
        if finding.kind == FindingKind::DroppedTest {
            let _ = writeln!(
                out,
                "{} {}: {}  {}",
                paint(WARNING, "dropped"),
                paint(HEADING, finding.function_name()),
                finding.message.lines().next().unwrap_or_default(),
                paint(DIM, finding.test.as_deref().unwrap_or_default())
            );
            continue;
        }
        let test = document.test_of(finding);
        let known = if finding.status == crate::document::Status::Known {
            " (seen before)"
        } else {
            ""
        };
        let reached = finding
            .reached
            .as_deref()
            .map(|f| format!(" (in {f})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {}{reached}  {}{known}",
            paint(ERROR, finding.verdict.as_str()),
            paint(HEADING, finding.function_name()),
            paint(DIM, &finding.id)
        );
        let message = &finding.message;
        let first = shorten(message.lines().next().unwrap_or_default(), HUMAN_MESSAGE);
        match location {
            Some(location) => {
                let _ = writeln!(out, "    {first} at {location}");
            }
            None => {
                let _ = writeln!(out, "    {first}");
            }
        }
        if let Some(snippet) = &finding.snippet {
            let _ = writeln!(out, "    | {snippet}");
        }
        if let Some(input) = test.and_then(|t| t.input.as_deref()) {
            let _ = writeln!(out, "    {}", paint(DIM, &format!("input: {input}")));
        }
        if let Some(more) = Some(&finding.duplicates).filter(|d| !d.is_empty()) {
            let _ = writeln!(
                out,
                "    {}",
                paint(
                    DIM,
                    &match more.len() {
                        1 => "and 1 more test fails the same way".to_owned(),
                        n => format!("and {n} more tests fail the same way"),
                    }
                )
            );
        }
        if let Some(patch) = &finding.fix {
            let _ = writeln!(
                out,
                "    {}",
                paint(HEADING, &format!("verified fix: git apply {patch}"))
            );
        }
        match &finding.reproduce {
            Some(command) => {
                let _ = writeln!(out, "    {}", paint(DIM, &format!("rerun: {command}")));
            }
            None => {
                if let Some(name) = &finding.test {
                    let _ = writeln!(out, "    {}", paint(DIM, &format!("test: {name}")));
                }
            }
        }
    }
    // Fixes the model proposed that did not hold: a human may still want to see why.
    for fix in document.fixes.iter().filter(|f| !f.verified) {
        let _ = writeln!(
            out,
            "{} {}: {}",
            paint(DIM, "no fix offered for"),
            fix.function,
            paint(
                DIM,
                &shorten(fix.reason.as_deref().unwrap_or_default(), HUMAN_MESSAGE)
            )
        );
    }
    if show_gaps && gaps_shown > GAPS_SHOWN {
        let _ = writeln!(
            out,
            "{}",
            paint(
                DIM,
                &format!(
                    "... and {} more spec gaps in report.md",
                    gaps_shown - GAPS_SHOWN
                )
            )
        );
    }
    let decided = document
        .findings
        .iter()
        .filter(|f| f.status.is_decided())
        .count();
    if decided > 0 {
        let _ = writeln!(
            out,
            "{}",
            paint(
                DIM,
                &format!(
                    "{} decided in .dualtrack/decisions.toml, not shown",
                    plural(decided, "finding")
                )
            )
        );
    }
    // Per function, those with something failing or dropped (all of them when few).
    let rows = &document.per_function;
    let shown: Vec<_> = rows
        .iter()
        .filter(|r| rows.len() <= 10 || r.failing != 0 || r.dropped != 0)
        .collect();
    if !shown.is_empty() {
        // A model's cost per function, when a model wrote tests.
        let costs = shown.iter().any(|row| row.usage.is_some());
        // The sites each reached, when the run had probes.
        let reached = shown.iter().any(|row| row.evidence.is_some());
        let _ = writeln!(
            out,
            "\n{:>6} {:>8} {:>8}{}{}  function",
            "tests",
            "failing",
            "dropped",
            if reached { "  reached" } else { "" },
            if costs { "     cost" } else { "" }
        );
        for row in shown {
            let cost = match (costs, row.usage.map(|u| u.cost_usd)) {
                (false, _) => String::new(),
                (true, Some(Some(cost))) => format!(" {:>8}", format!("${cost:.4}")),
                (true, Some(None)) => format!(" {:>8}", "?"),
                (true, None) => format!(" {:>8}", "-"),
            };
            let sites = match (&row.evidence, reached) {
                (_, false) => String::new(),
                (Some(evidence), true) => format!(
                    " {:>8}",
                    format!("{}/{}", evidence.reached.len(), evidence.sites)
                ),
                (None, true) => format!(" {:>8}", "-"),
            };
            let _ = writeln!(
                out,
                "{:>6} {:>8} {:>8}{sites}{cost}  {}",
                row.tests, row.failing, row.dropped, row.function
            );
        }
    }
    let counts = &document.counts;
    let gaps = document.count_of(&[FindingKind::UnspecifiedSite, FindingKind::UnimplementedItem]);
    let _ = writeln!(
        out,
        "\n{}: {}; {}; {}",
        paint(HEADING, "review"),
        plural(
            findings.iter().filter(|f| severity(f) < 3).count(),
            "finding"
        ),
        counts_line(counts),
        plural(gaps, "spec gap")
    );
    if let Some(line) = coverage_line(document) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = evidence_line(document) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = fuzz_line(document) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = usage_line(document) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "{}",
        paint(DIM, &format!("reports and tests: {}", run_dir.display()))
    );
    if gaps > 0 && !show_gaps {
        let _ = writeln!(
            out,
            "{}",
            paint(
                DIM,
                "the spec gaps are listed in report.md, and here with --gaps or -v"
            )
        );
    }
    if let Some(next) = next_step(
        document,
        findings.iter().filter(|f| severity(f) < 3).count(),
        gaps,
    ) {
        let _ = writeln!(out, "{} {next}", paint(HEADING, "next:"));
    }
    out
}

/// The one step that fits what the review found: decide on the findings, else write a spec,
/// else fill its gaps.
fn next_step(document: &ReviewDocument, undecided: usize, gaps: usize) -> Option<String> {
    if undecided > 0 {
        return Some(format!(
            "`cargo dualtrack reconcile` walks the {}: keep the test that caught it, accept the \
             code, or fix it later",
            plural(undecided, "finding")
        ));
    }
    if document.site_coverage.is_none() && document.item_coverage.is_none() {
        return Some(
            "no spec was read: `cargo dualtrack init` writes a SPEC.md to fill in, and the next \
             review checks the code against it"
                .to_owned(),
        );
    }
    (gaps > 0).then(|| {
        "say in the spec what the gaps do (`--gaps` lists them), then `cargo dualtrack score`"
            .to_owned()
    })
}

/// The tests as JUnit XML for CI test views: failures and panics as `failure`, time-outs and
/// crashes as `error`, dropped tests as `skipped`.
pub fn render_junit(document: &ReviewDocument) -> String {
    let tests = &document.tests;
    let failures = tests
        .iter()
        .filter(|t| {
            matches!(
                t.outcome,
                Outcome::Failed | Outcome::Panicked | Outcome::Flaky
            )
        })
        .count();
    let errors = tests
        .iter()
        .filter(|t| matches!(t.outcome, Outcome::TimedOut | Outcome::Crashed))
        .count();
    let skipped = tests
        .iter()
        .filter(|t| t.outcome == Outcome::Dropped)
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    let _ = writeln!(
        out,
        "  <testsuite name=\"cargo-dualtrack\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        tests.len()
    );
    for test in tests {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(&test.function),
            xml_escape(&test.name)
        );
        let message = xml_escape(&test.message);
        let location = xml_escape(test.location.as_deref().unwrap_or_default());
        let input = xml_escape(test.input.as_deref().unwrap_or_default());
        let kind = test.outcome.as_str();
        match test.outcome {
            Outcome::Passed => out.push_str("/>\n"),
            Outcome::Failed | Outcome::Panicked | Outcome::Flaky => {
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{kind}\" message=\"{message}\">{location}\ninput: {input}</failure>\n    </testcase>"
                );
            }
            Outcome::Dropped => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{message}\"/>\n    </testcase>"
                );
            }
            Outcome::TimedOut | Outcome::Crashed => {
                let _ = writeln!(
                    out,
                    ">\n      <error type=\"{kind}\" message=\"{message}\">input: {input}</error>\n    </testcase>"
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `84 tests, 68 passed, 16 failing (16 panicked), 0 dropped` from a document's `counts`:
/// "failing" is what the per-function table counts, and its parts are the kinds there were.
pub fn counts_line(counts: &Counts) -> String {
    let kinds = [
        (counts.failed, "failed"),
        (counts.panicked, "panicked"),
        (counts.timed_out, "timed out"),
        (counts.crashed, "crashed"),
        (counts.flaky, "flaky"),
    ];
    let failing: usize = kinds.iter().map(|(n, _)| n).sum();
    let parts: Vec<String> = kinds
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{n} {kind}"))
        .collect();
    let mut line = format!(
        "{}, {} passed, {failing} failing{}, {} dropped",
        plural(counts.generated, "test"),
        counts.passed,
        if failing > 0 {
            format!(" ({})", parts.join(", "))
        } else {
            String::new()
        },
        counts.dropped
    );
    if counts.cut > 0 {
        line.push_str(&format!(
            ", {} not run (the time budget ran out)",
            counts.cut
        ));
    }
    line
}

/// Characters of a message on a terminal; the reports keep it whole.
const HUMAN_MESSAGE: usize = 300;

use crate::output::{plural, shorten};

/// `spec coverage: sites 45.0%, items 80.0%`, when a spec was scored.
fn coverage_line(document: &ReviewDocument) -> Option<String> {
    let percent = |share: Option<f64>| share.map(|v| format!("{:.1}%", v * 100.0));
    let sites = percent(document.site_coverage);
    let items = percent(document.item_coverage);
    if sites.is_none() && items.is_none() {
        return None;
    }
    let na = || "n/a".to_owned();
    Some(format!(
        "spec coverage: sites {}, items {}",
        sites.unwrap_or_else(na),
        items.unwrap_or_else(na)
    ))
}

/// `sites reached: 82.5% (33 of 40, by the probes); targeted 37.5%`, when the run had probes;
/// why not, when they were taken out.
fn evidence_line(document: &ReviewDocument) -> Option<String> {
    let evidence = document.evidence.as_ref()?;
    if let Some(why) = &evidence.disabled {
        return Some(format!(
            "sites reached: unknown, the probes were off ({why})"
        ));
    }
    let percent = |share: f64| format!("{:.1}%", share * 100.0);
    Some(format!(
        "sites reached: {} ({} of {}, by the probes); targeted {}",
        percent(evidence.coverage?),
        evidence.reached,
        evidence.sites,
        percent(evidence.targeted.unwrap_or(0.0))
    ))
}

/// `fuzz: 45,000 inputs to 9 functions (38,000/s), 3 crashes confirmed, seed 0`, when the fuzz
/// stage ran.
fn fuzz_line(document: &ReviewDocument) -> Option<String> {
    let fuzz = document.fuzz.as_ref()?;
    let runs: u64 = fuzz.harnesses.iter().map(|h| h.runs).sum();
    let ms: u64 = fuzz.harnesses.iter().map(|h| h.elapsed_ms).sum();
    let confirmed = document
        .tests
        .iter()
        .filter(|t| t.category.as_deref() == Some("fuzz"))
        .count();
    let mut line = format!(
        "fuzz: {} to {} ({}/s), {} confirmed",
        plural(runs as usize, "input"),
        plural(fuzz.harnesses.len(), "function"),
        runs * 1000 / ms.max(1),
        plural(confirmed, "crash"),
    );
    if fuzz.unconfirmed > 0 {
        line.push_str(&format!(" ({} did not reproduce alone)", fuzz.unconfirmed));
    }
    line.push_str(&format!(", seed {}", fuzz.seed));
    Some(line)
}

/// Untested edges listed in report.md, at most.
const EDGES_SHOWN: usize = 30;

/// What the model took: `model: 1200 input tokens (200 cached), 300 output tokens (40
/// reasoning), $0.0123`; `None` for the offline engine.
fn usage_line(document: &ReviewDocument) -> Option<String> {
    // The offline engine's usage is all zeros, and says nothing.
    if document.engine == "offline" {
        return None;
    }
    let usage = &document.usage;
    let cost = match usage.cost_usd {
        Some(cost) => format!("${cost:.4}"),
        None => crate::generate::llm::cost::no_cost(&document.engine).to_owned(),
    };
    let mut reasoning = String::new();
    if let Some(tokens) = usage.reasoning_tokens.filter(|&n| n > 0) {
        reasoning = format!(" ({tokens} reasoning)");
    }
    Some(format!(
        "model: {} input tokens ({} cached), {} output tokens{reasoning}, {cost}",
        usage.input_tokens, usage.cached_input_tokens, usage.output_tokens,
    ))
}

/// The report as markdown, short enough for a pull-request comment.
pub fn render_markdown(document: &ReviewDocument) -> String {
    let mut out = String::from("## cargo dualtrack review\n\n");
    let _ = writeln!(
        out,
        "{}.\n",
        counts_line(&document.counts).replacen(',', ":", 1)
    );
    if let Some(line) = coverage_line(document) {
        let _ = writeln!(out, "{line}.\n");
    }
    if let Some(line) = evidence_line(document) {
        let _ = writeln!(out, "{line}.\n");
    }
    if let Some(line) = fuzz_line(document) {
        let _ = writeln!(out, "{line}.\n");
    }
    if let Some(line) = usage_line(document) {
        let _ = writeln!(out, "{line}.\n");
    }
    out.push_str(&model_sections(document));
    let edges: Vec<_> = document.untested_edges().collect();
    if !edges.is_empty() {
        out.push_str(
            "### Edges no test reached\n\nGuards and panic sites of the functions in scope \
             that no test's run reached.\n\n| site | where | code |\n|---|---|---|\n",
        );
        for (_, site) in edges.iter().take(EDGES_SHOWN) {
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` |",
                site.site,
                site.location,
                site.snippet.replace('|', "\\|").replace('`', "'")
            );
        }
        if edges.len() > EDGES_SHOWN {
            let _ = writeln!(
                out,
                "\n... and {} more in report.json.",
                edges.len() - EDGES_SHOWN
            );
        }
        out.push('\n');
    }
    let mut findings: Vec<&Finding> = document.findings.iter().collect();
    if findings.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    findings.sort_by_key(|f| severity(f));
    out.push_str(
        "| finding | kind | status | function | where | message |\n|---|---|---|---|---|---|\n",
    );
    let code = |v: &str| match markdown_cell(v) {
        text if text.is_empty() => text,
        text => format!("`{}`", text.replace('`', "'")),
    };
    let mut rows = 0;
    for finding in &findings {
        // Every failure; spec gaps only while the comment stays short.
        if severity(finding) == 3 && rows >= MARKDOWN_ROWS {
            break;
        }
        rows += 1;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            code(&finding.id),
            markdown_cell(finding.kind.as_str()),
            markdown_cell(finding.status.as_str()),
            code(finding.function_name()),
            markdown_cell(finding.location.as_deref().unwrap_or_default()),
            markdown_cell(&finding.message)
        );
    }
    if rows < findings.len() {
        let _ = writeln!(
            out,
            "\n{} more spec gaps are in `report.json`.",
            findings.len() - rows
        );
    }
    let verified: Vec<_> = document.fixes.iter().filter(|f| f.verified).collect();
    if !verified.is_empty() {
        out.push_str(
            "\n### Verified fixes\n\nEach passes the failing tests and the crate's own.\n",
        );
        for fix in verified {
            let diff = fix.diff.as_deref().unwrap_or_default();
            let diff = match diff.char_indices().nth(MARKDOWN_DIFF) {
                Some((at, _)) => format!(
                    "{}\n... (the whole patch is in the run directory)",
                    &diff[..at]
                ),
                None => diff.to_owned(),
            };
            let _ = writeln!(
                out,
                "\n<details><summary><code>{}</code>: {}</summary>\n\n```diff\n{}\n```\n</details>",
                markdown_cell(&fix.function).replace('`', ""),
                markdown_cell(fix.explanation.as_deref().unwrap_or_default()),
                diff.trim_end().replace("```", "` ` `")
            );
        }
    }
    out
}

/// What a model engine spent per function, the tests of its that were refused, and its repair
/// rounds, as markdown sections; empty for the offline engine.
fn model_sections(document: &ReviewDocument) -> String {
    let mut out = String::new();
    // Each table at most as long as the findings' own: the report must fit a PR comment.
    let more = |shown: usize, all: usize, out: &mut String| {
        if all > shown {
            let _ = writeln!(out, "\n... and {} more in report.json.", all - shown);
        }
    };
    let costed: Vec<_> = document
        .per_function
        .iter()
        .filter_map(|row| Some((row, row.usage.as_ref()?)))
        .collect();
    if !costed.is_empty() {
        out.push_str(
            "### What the model cost, per function\n\n| function | input tokens (cached) | \
             output tokens | cost |\n|---|---|---|---|\n",
        );
        for (row, usage) in costed.iter().take(MARKDOWN_ROWS) {
            let _ = writeln!(
                out,
                "| `{}` | {} ({}) | {} | {} |",
                row.function,
                usage.input_tokens,
                usage.cached_input_tokens,
                usage.output_tokens,
                usage
                    .cost_usd
                    .map_or_else(|| "unknown".to_owned(), |c| format!("${c:.4}"))
            );
        }
        more(MARKDOWN_ROWS, costed.len(), &mut out);
        out.push('\n');
    }
    let Some(account) = &document.model else {
        return out;
    };
    if !account.refused.is_empty() {
        out.push_str(
            "### Model tests refused\n\nWritten by the model, never built: a generated test may \
             not do these.\n\n| function | test | round | why |\n|---|---|---|---|\n",
        );
        for refused in account.refused.iter().take(MARKDOWN_ROWS) {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} |",
                refused.function,
                refused.test,
                refused.round,
                markdown_cell(&refused.reason)
            );
        }
        more(MARKDOWN_ROWS, account.refused.len(), &mut out);
        out.push('\n');
    }
    if !account.repairs.is_empty() {
        out.push_str(
            "### Repair rounds\n\nTests that did not compile went back to the model with the \
             compiler's errors.\n\n| round | function | test | first error sent | came back |\n\
             |---|---|---|---|---|\n",
        );
        for repair in account.repairs.iter().take(MARKDOWN_ROWS) {
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}` | {} | {} |",
                repair.round,
                repair.function,
                repair.test,
                markdown_cell(repair.errors.first().map_or("", String::as_str)).replace('`', "'"),
                repair.outcome
            );
        }
        more(MARKDOWN_ROWS, account.repairs.len(), &mut out);
        out.push('\n');
    }
    out
}

/// `text` as one markdown table cell: its first line, cut short, its control bytes (a panic
/// message may carry the input's) and pipes made harmless.
fn markdown_cell(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(MARKDOWN_CELL)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect::<String>()
        .replace('|', "\\|")
}

/// Characters of one fix's diff in a markdown report.
const MARKDOWN_DIFF: usize = 3000;

/// Rows of a markdown report before spec gaps are only counted: a pull-request comment holds
/// 65,536 characters.
const MARKDOWN_ROWS: usize = 50;
/// Characters of a message in a markdown cell.
const MARKDOWN_CELL: usize = 200;

#[cfg(test)]
mod test {
    use super::*;
    use serde_json::{Value, json};

    /// A document from the parts of it a test needs.
    fn document(value: Value) -> ReviewDocument {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn junit_counts_and_escapes() {
        let document = json!({"tests": [
            {"name": "t1", "function": "c::f", "outcome": "passed"},
            {"name": "t2", "function": "c::f", "outcome": "panicked", "message": "a < b & \"c\"",
             "location": "src/lib.rs:3", "input": "f(\"\\0\")"},
            {"name": "t3", "function": "c::g", "outcome": "timed_out", "message": "", "input": "g()"},
            {"name": "t4", "function": "c::g", "outcome": "dropped", "message": "does not compile"},
        ]});
        let xml = render_junit(&self::document(document));
        assert!(
            xml.contains("tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("message=\"a &lt; b &amp; &quot;c&quot;\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase classname=\"c::f\" name=\"t1\"/>"),
            "{xml}"
        );
        assert_eq!(xml_escape("\u{1}x"), "\\u{1}x");
    }

    #[test]
    fn markdown_escapes_table_cells() {
        let document = json!({
            "counts": {"generated": 1, "passed": 0, "failed": 0, "panicked": 1, "timed_out": 0,
                       "crashed": 0, "flaky": 0, "dropped": 0},
            "findings": [{"id": "F-1", "kind": "failure", "status": "new", "function": "c::f",
                          "verdict": "likely_bug", "location": "src/lib.rs:3",
                          "message": "a | b\nmore"}]
        });
        let text = render_markdown(&self::document(document.clone()));
        assert!(
            text.contains("| `F-1` | failure | new | `c::f` | src/lib.rs:3 | a \\| b |"),
            "{text}"
        );
        let mut control = document.clone();
        control["findings"][0]["message"] = json!("bad \u{1b}[31mbyte\u{0}");
        control["findings"][0]["function"] = Value::Null;
        let text = render_markdown(&self::document(control));
        assert!(text.contains("| bad \u{fffd}[31mbyte\u{fffd} |"), "{text}");
        assert!(!text.contains("``"), "{text}");
        // Hundreds of spec gaps: counted past the first rows, failures all shown.
        let mut many = document.clone();
        let findings = many["findings"].as_array_mut().unwrap();
        for n in 0..300 {
            findings.insert(
                0,
                json!({"id": format!("F-g{n}"), "kind": "unspecified_site",
                       "verdict": "check_spec", "status": "new", "message": "no spec item"}),
            );
        }
        let text = render_markdown(&self::document(many));
        assert!(text.contains("`F-1`"), "{text}");
        assert!(text.contains("251 more spec gaps"), "{text}");
        assert!(text.len() < 65_536);
    }

    #[test]
    fn a_model_s_tokens_and_cost_are_shown_in_all_and_per_function() {
        let document = json!({
            "counts": {"generated": 2, "passed": 1, "failed": 0, "panicked": 1, "timed_out": 0,
                       "crashed": 0, "flaky": 0, "dropped": 0},
            "findings": [],
            "usage": {"input_tokens": 700, "cached_input_tokens": 500, "output_tokens": 80,
                      "reasoning_tokens": 0, "cost_usd": 0.00125},
            "per_function": [
                {"function": "c::f", "tests": 2, "passed": 1, "failing": 1, "dropped": 0,
                 "usage": {"input_tokens": 700, "cost_usd": 0.00125}},
                {"function": "c::g", "tests": 1, "passed": 1, "failing": 0, "dropped": 0}
            ]
        });
        let human = render_human(
            &self::document(document.clone()),
            Path::new("/runs/r1"),
            false,
        );
        assert!(
            human.contains("model: 700 input tokens (500 cached), 80 output tokens, $0.0013"),
            "{human}"
        );
        assert!(human.contains("   cost  function"), "{human}");
        assert!(human.contains("  $0.0013  c::f"), "{human}");
        assert!(human.contains("        -  c::g"), "{human}");
        let markdown = render_markdown(&self::document(document.clone()));
        assert!(markdown.contains("model: 700 input tokens"), "{markdown}");
        let mut offline = document.clone();
        offline["engine"] = json!("offline");
        offline["usage"] = json!({"input_tokens": 0, "cached_input_tokens": 0,
                                  "output_tokens": 0, "cost_usd": 0.0});
        offline["per_function"][0]["usage"] = Value::Null;
        let human = render_human(&self::document(offline), Path::new("/runs/r1"), false);
        assert!(
            !human.contains("model:") && !human.contains("cost"),
            "{human}"
        );
    }

    #[test]
    fn report_md_shows_the_cost_per_function_the_refused_tests_and_the_repair_rounds() {
        let document = json!({
            "engine": "claude",
            "findings": [],
            "usage": {"input_tokens": 2400, "cached_input_tokens": 1500, "output_tokens": 420,
                      "cost_usd": null},
            "per_function": [
                {"function": "c::f", "tests": 2, "passed": 1, "failing": 1, "dropped": 0,
                 "usage": {"input_tokens": 2400, "cached_input_tokens": 1500,
                           "output_tokens": 420, "cost_usd": 0.0187}}
            ],
            "model": {
                "refused": [{"function": "c::f", "test": "spawns", "round": "generate",
                             "reason": "spawns a process (`Command`)"}],
                "repairs": [{"round": 1, "function": "c::f", "test": "f_of_nothing",
                             "errors": ["error[E0308]: mismatched types | here"],
                             "outcome": "compiled (panicked)"}]
            }
        });
        let markdown = render_markdown(&self::document(document));
        assert!(
            markdown.contains("| `c::f` | 2400 (1500) | 420 | $0.0187 |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| `c::f` | `spawns` | generate | spawns a process (`Command`) |"),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "| 1 | `c::f` | `f_of_nothing` | error[E0308]: mismatched types \\| here | \
                 compiled (panicked) |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("no cost reported (billed to the Claude subscription"),
            "{markdown}"
        );
    }

    /// `text` without its ANSI colours.
    fn plain(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('\u{1b}') {
            out.push_str(&rest[..at]);
            rest = rest[at..].find('m').map_or("", |end| &rest[at + end + 1..]);
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn verified_fixes_are_offered_and_the_others_explained() {
        let document = json!({
            "counts": {"generated": 1, "passed": 0, "failed": 0, "panicked": 1, "timed_out": 0,
                       "crashed": 0, "flaky": 0, "dropped": 0},
            "findings": [{"id": "F-1", "kind": "failure", "status": "new", "function": "c::f",
                          "verdict": "likely_bug", "message": "attempt to divide by zero",
                          "fix": "/runs/r1/fixes/c_f.patch"}],
            "fixes": [
                {"function": "c::f", "verified": true, "explanation": "guard zero",
                 "diff": "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-x\n+y\n",
                 "patch": "/runs/r1/fixes/c_f.patch"},
                {"function": "c::g", "verified": false, "reason": "the model judges the tests wrong: no"}
            ]
        });
        let document = self::document(document);
        let human = plain(&render_human(&document, Path::new("/runs/r1"), false));
        assert!(
            human.contains("verified fix: git apply /runs/r1/fixes/c_f.patch"),
            "{human}"
        );
        assert!(
            human.contains("no fix offered for c::g: the model judges"),
            "{human}"
        );
        let markdown = render_markdown(&document);
        assert!(markdown.contains("### Verified fixes"), "{markdown}");
        assert!(
            markdown.contains("<code>c::f</code>: guard zero"),
            "{markdown}"
        );
        assert!(markdown.contains("```diff\n--- a/src/lib.rs"), "{markdown}");
        assert!(!markdown.contains("c::g"), "{markdown}");
    }

    #[test]
    fn the_summary_s_failing_count_is_the_table_s() {
        let counts = Counts {
            generated: 84,
            compiled: 84,
            passed: 67,
            panicked: 16,
            flaky: 1,
            ..Counts::default()
        };
        assert_eq!(
            counts_line(&counts),
            "84 tests, 67 passed, 17 failing (16 panicked, 1 flaky), 0 dropped"
        );
        let clean = Counts {
            generated: 1,
            compiled: 1,
            passed: 1,
            ..Counts::default()
        };
        assert_eq!(
            counts_line(&clean),
            "1 test, 1 passed, 0 failing, 0 dropped"
        );
    }
}
