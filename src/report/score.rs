//! Rendering a [`ScoreReport`]: for a terminal, and as markdown for a pull-request comment.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::style::{DIM, ERROR, HEADING, ID, WARNING, paint};
use crate::analyze::{Analysis, Site};
use crate::spec::score::ScoreReport;

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn site_index(analysis: &Analysis) -> HashMap<&str, &Site> {
    analysis.sites().map(|s| (s.id.as_str(), s)).collect()
}

/// Unspecified sites listed on a terminal without `--gaps`, as `review` lists its gaps.
const GAPS_SHOWN: usize = 10;

/// The terminal rendering: coverage, per-function table, links, gaps (the first ten unless
/// `all_gaps`), warnings, and the step that fits.
pub fn render_human(report: &ScoreReport, analysis: &Analysis, all_gaps: bool) -> String {
    let sites = site_index(analysis);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} site coverage {} ({} of {} sites), item coverage {} ({} of {} items) from {}",
        paint(HEADING, "score:"),
        percent(report.site_coverage),
        report.linked_site_count(),
        report.site_count(),
        percent(report.item_coverage),
        report.promise_count() - report.unimplemented_items.len(),
        report.promise_count(),
        report.specs.join(", "),
    );
    if let Some(run) = &report.evidence {
        let _ = writeln!(
            out,
            "{}",
            paint(
                DIM,
                &match &run.why_not {
                    None => format!(
                        "links by execution from run {}: {}",
                        run.run,
                        crate::output::plural(run.links, "link")
                    ),
                    Some(why) => format!("run {} not used: {why}", run.run),
                }
            )
        );
    }
    out.push('\n');
    for function in &report.functions {
        let _ = writeln!(
            out,
            "  {:>6}  {:>3}/{:<3}  {}",
            percent(function.site_coverage),
            function.linked_sites,
            function.sites,
            function.path
        );
    }
    if !report.links.is_empty() {
        let _ = writeln!(out, "\n{}", paint(HEADING, "Links"));
        for link in &report.links {
            let _ = writeln!(
                out,
                "  {:<10} {}  {}",
                link.item,
                paint(ID, &link.site),
                paint(DIM, &link.reason)
            );
        }
    }
    if !report.unimplemented_items.is_empty() {
        let _ = writeln!(
            out,
            "\n{} (no site backs them)",
            paint(HEADING, "Unimplemented items")
        );
        for id in &report.unimplemented_items {
            if let Some(item) = report.items.iter().find(|i| &i.id == id) {
                let _ = writeln!(
                    out,
                    "  {}:{}  {}  {}",
                    item.file,
                    item.line,
                    paint(ERROR, id),
                    item.text
                );
            }
        }
    }
    if !report.unspecified_sites.is_empty() {
        let _ = writeln!(
            out,
            "\n{} (no item speaks to them)",
            paint(HEADING, "Unspecified sites")
        );
        let shown = if all_gaps {
            report.unspecified_sites.len()
        } else {
            GAPS_SHOWN
        };
        for id in report.unspecified_sites.iter().take(shown) {
            match sites.get(id.as_str()) {
                Some(site) => {
                    let _ = writeln!(
                        out,
                        "  {}:{}:{}  {}  {}",
                        site.file,
                        site.line,
                        site.column,
                        paint(ID, id),
                        site.text.lines().next().unwrap_or("")
                    );
                }
                None => {
                    let _ = writeln!(out, "  {id}");
                }
            }
        }
        if report.unspecified_sites.len() > shown {
            let _ = writeln!(
                out,
                "  {}",
                paint(
                    DIM,
                    &format!(
                        "... and {} more: --gaps lists them all, --format json too",
                        report.unspecified_sites.len() - shown
                    )
                )
            );
        }
    }
    if !report.warnings.is_empty() {
        out.push('\n');
        for warning in &report.warnings {
            let _ = writeln!(
                out,
                "{} {}:{}: {}",
                paint(WARNING, "warning:"),
                warning.file,
                warning.line,
                warning.message
            );
        }
    }
    if let Some(next) = next_step(report) {
        let _ = writeln!(out, "\n{} {next}", paint(HEADING, "next:"));
    }
    out
}

/// What to do about the score: target functions, write items, or cover the gaps.
fn next_step(report: &ScoreReport) -> Option<&'static str> {
    if report.site_count() == 0 {
        Some(
            "no function is in scope: name them on the spec's `Target:` line (or pass \
             --all-functions)",
        )
    } else if report.promise_count() == 0 {
        Some("the spec has no items yet: fill in its sections, then score again")
    } else if !report.unspecified_sites.is_empty() {
        Some(
            "write items for the unspecified sites, then `cargo dualtrack review` attacks what \
             the spec promises",
        )
    } else {
        None
    }
}

/// Markdown that fits a pull-request comment.
pub fn render_markdown(report: &ScoreReport, analysis: &Analysis) -> String {
    let sites = site_index(analysis);
    let mut out = String::new();
    let _ = writeln!(out, "### Spec coverage\n");
    let _ = writeln!(
        out,
        "**Sites:** {} ({} of {}) · **Items:** {} ({} of {}) · specs: {}\n",
        percent(report.site_coverage),
        report.linked_site_count(),
        report.site_count(),
        percent(report.item_coverage),
        report.promise_count() - report.unimplemented_items.len(),
        report.promise_count(),
        report
            .specs
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "| function | sites linked | coverage |\n|---|---:|---:|"
    );
    for function in &report.functions {
        let _ = writeln!(
            out,
            "| `{}` | {}/{} | {} |",
            function.path,
            function.linked_sites,
            function.sites,
            percent(function.site_coverage)
        );
    }
    if !report.unimplemented_items.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>Unimplemented items ({})</summary>\n",
            report.unimplemented_items.len()
        );
        for id in &report.unimplemented_items {
            if let Some(item) = report.items.iter().find(|i| &i.id == id) {
                let _ = writeln!(
                    out,
                    "- **{id}** ({}:{}): {}",
                    item.file, item.line, item.text
                );
            }
        }
        let _ = writeln!(out, "\n</details>");
    }
    if !report.unspecified_sites.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>Unspecified sites ({})</summary>\n",
            report.unspecified_sites.len()
        );
        for id in &report.unspecified_sites {
            let location = sites
                .get(id.as_str())
                .map(|s| {
                    format!(
                        " ({}:{}) `{}`",
                        s.file,
                        s.line,
                        s.text.lines().next().unwrap_or("").replace('`', "'")
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(out, "- `{id}`{location}");
        }
        let _ = writeln!(out, "\n</details>");
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "\n**Warnings**\n");
        for warning in &report.warnings {
            let _ = writeln!(
                out,
                "- {}:{}: {}",
                warning.file, warning.line, warning.message
            );
        }
    }
    out
}
