//! Human rendering of an [`Analysis`]: sites grouped by function with a source snippet, the
//! problems found, and a one-line summary.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::style::{DIM, ERROR, GUARD, HEADING, ID, PANIC, WARNING, paint};
use crate::analyze::{Analysis, Site, SiteKind};

/// Longest snippet shown per site, in characters.
const SNIPPET_WIDTH: usize = 96;

/// Render `analysis` for a terminal. Source lines are read from under `workspace_root`.
pub fn render_human(
    analysis: &Analysis,
    workspace_root: &Path,
    elapsed: Option<Duration>,
) -> String {
    let mut sources = SourceCache::new(workspace_root);
    let mut out = String::new();
    for function in &analysis.functions {
        let guards = function.sites.iter().filter(|s| s.guard).count();
        let _ = writeln!(
            out,
            "{}  {}  {}  {}",
            paint(HEADING, &function.path),
            paint(DIM, &function.visibility),
            paint(
                DIM,
                &format!("{}:{}-{}", function.file, function.line, function.end_line)
            ),
            paint(
                DIM,
                &format!(
                    "{} {}, {guards} {}",
                    function.sites.len(),
                    plural(function.sites.len(), "site", "sites"),
                    plural(guards, "guard", "guards")
                )
            ),
        );
        let id_width = function
            .sites
            .iter()
            .map(|s| local_id(s).len())
            .max()
            .unwrap_or(0);
        let pos_width = function
            .sites
            .iter()
            .map(|s| format!("{}:{}", s.line, s.column).len())
            .max()
            .unwrap_or(0);
        let marker_width = function
            .sites
            .iter()
            .map(|s| site_marker(s).0.chars().count())
            .max()
            .unwrap_or(0);
        for site in &function.sites {
            let position = format!("{}:{}", site.line, site.column);
            let (marker, style) = site_marker(site);
            let marker = paint(style, &format!("{marker:<marker_width$}"));
            let snippet = sources
                .line(&site.file, site.line)
                .map(|line| clip(line.trim(), SNIPPET_WIDTH));
            let _ = writeln!(
                out,
                "  {}  {}  {}  {}",
                paint(DIM, &format!("{position:>pos_width$}")),
                paint(ID, &format!("{:<id_width$}", local_id(site))),
                marker,
                snippet.unwrap_or_else(|| site.text.clone()),
            );
        }
        out.push('\n');
    }
    for error in &analysis.errors {
        let _ = writeln!(
            out,
            "{} {}:{}:{}: {}",
            paint(ERROR, "error:"),
            error.file,
            error.line,
            error.column,
            error.message
        );
        // The line, with a caret at the column, as rustc shows it.
        let line = std::fs::read_to_string(workspace_root.join(&error.file))
            .ok()
            .and_then(|text| {
                text.lines()
                    .nth((error.line as usize).saturating_sub(1))
                    .map(str::to_owned)
            });
        if let Some(line) = line.filter(|l| !l.trim().is_empty()) {
            let caret = " ".repeat((error.column as usize).saturating_sub(1));
            let _ = writeln!(out, "    | {line}\n    | {caret}{}", paint(ERROR, "^"));
        }
    }
    for file in &analysis.unreachable_files {
        let _ = writeln!(
            out,
            "{} {file}: no module declaration reaches this file; it is not analyzed",
            paint(WARNING, "warning:")
        );
    }
    if !analysis.errors.is_empty() || !analysis.unreachable_files.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary_line(analysis, elapsed));
    out.push('\n');
    out
}

/// `12 functions, 48 sites (if 10, ...), 9 guards, 4 panic sites, 3 files, 12 ms`
pub fn summary_line(analysis: &Analysis, elapsed: Option<Duration>) -> String {
    let by_kind: Vec<String> = analysis
        .count_by_kind()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{} {n}", kind.as_str()))
        .collect();
    let sites = analysis.sites().count();
    let guards = analysis.sites().filter(|s| s.guard).count();
    let panics = analysis
        .sites()
        .filter(|s| s.kind == SiteKind::Panic)
        .count();
    let mut line = format!(
        "{} {}, {} {}",
        analysis.functions.len(),
        plural(analysis.functions.len(), "function", "functions"),
        sites,
        plural(sites, "site", "sites"),
    );
    if !by_kind.is_empty() {
        let _ = write!(line, " ({})", by_kind.join(", "));
    }
    let _ = write!(
        line,
        ", {guards} {}, {panics} panic {}, {} {}",
        plural(guards, "guard", "guards"),
        plural(panics, "site", "sites"),
        analysis.files.len(),
        plural(analysis.files.len(), "file", "files"),
    );
    if !analysis.errors.is_empty() {
        let n = analysis.errors.len();
        let _ = write!(line, ", {n} {}", plural(n, "error", "errors"));
    }
    if !analysis.unreachable_files.is_empty() {
        let _ = write!(line, ", {} unreachable", analysis.unreachable_files.len());
    }
    if let Some(elapsed) = elapsed {
        let _ = write!(line, ", {} ms", elapsed.as_millis());
    }
    line
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The part of a site id after the function path: `if2`.
fn local_id(site: &Site) -> &str {
    site.id
        .rsplit_once('#')
        .map_or(site.id.as_str(), |(_, local)| local)
}

/// The marker column: `guard(params)` for guards, how a panic site panics, else nothing.
fn site_marker(site: &Site) -> (String, anstyle::Style) {
    if site.guard {
        (format!("guard({})", site.params.join(",")), GUARD)
    } else if site.kind == SiteKind::Panic {
        let via = site
            .via
            .map(|v| format!("{v:?}").to_lowercase())
            .unwrap_or_default();
        (via, PANIC)
    } else {
        (String::new(), anstyle::Style::new())
    }
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut clipped: String = text.chars().take(width - 1).collect();
        clipped.push('…');
        clipped
    }
}

/// Source lines read once per file.
struct SourceCache<'r> {
    root: &'r Path,
    files: HashMap<String, Option<Vec<String>>>,
}

impl<'r> SourceCache<'r> {
    fn new(root: &'r Path) -> SourceCache<'r> {
        SourceCache {
            root,
            files: HashMap::new(),
        }
    }

    fn line(&mut self, file: &str, line: u32) -> Option<String> {
        let root = self.root;
        let lines = self.files.entry(file.to_owned()).or_insert_with(|| {
            std::fs::read_to_string(root.join(file))
                .ok()
                .map(|text| text.lines().map(str::to_owned).collect())
        });
        lines.as_ref()?.get(line.checked_sub(1)? as usize).cloned()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn clip_keeps_short_text_and_marks_cut_text() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("ééééé", 3), "éé…");
    }

    #[test]
    fn summary_line_counts_and_pluralizes() {
        let analysis = Analysis {
            schema: crate::analyze::ANALYZE_SCHEMA.into(),
            functions: Vec::new(),
            files: vec!["src/lib.rs".into()],
            unreachable_files: vec!["src/x.rs".into()],
            errors: Vec::new(),
            file_modules: Default::default(),
            module_dirs: Default::default(),
        };
        assert_eq!(
            summary_line(&analysis, None),
            "0 functions, 0 sites, 0 guards, 0 panic sites, 1 file, 1 unreachable"
        );
    }
}
