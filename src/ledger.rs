//! `.dualtrack/ledger.csv`, the team's memory: one row per review (what it cost, how long it
//! took, what it found) and one per decision on a finding, appended under a file lock, never
//! edited; and `stats`, which reads it back per engine, model or task.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Deserializer, Serialize};

/// The columns, in order. A row of either kind fills the ones that apply to it.
pub const COLUMNS: [&str; 30] = [
    "kind",
    "run_id",
    "timestamp",
    "task",
    "engine",
    "model",
    "functions",
    "sites",
    "generated",
    "compiled_first_pass",
    "compiled",
    "passed",
    "failed",
    "flaky",
    "findings",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "cost_usd",
    "wall_ms",
    "generate_ms",
    "sync_ms",
    "baseline_ms",
    "build_ms",
    "run_ms",
    "repair_rounds",
    "finding",
    "decision",
    "function",
    "reason",
];

/// One row: a `review`, or a `decision` on one finding of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Row {
    pub kind: String,
    pub run_id: String,
    /// UTC, `2026-12-02T15:42:15Z`.
    pub timestamp: String,
    pub task: String,
    pub engine: String,
    pub model: String,
    #[serde(deserialize_with = "number")]
    pub functions: u64,
    #[serde(deserialize_with = "number")]
    pub sites: u64,
    #[serde(deserialize_with = "number")]
    pub generated: u64,
    /// Tests that compiled before any repair round: the engine's own first-pass rate.
    #[serde(deserialize_with = "number")]
    pub compiled_first_pass: u64,
    #[serde(deserialize_with = "number")]
    pub compiled: u64,
    #[serde(deserialize_with = "number")]
    pub passed: u64,
    /// Failed, panicked, timed out or crashed.
    #[serde(deserialize_with = "number")]
    pub failed: u64,
    #[serde(deserialize_with = "number")]
    pub flaky: u64,
    #[serde(deserialize_with = "number")]
    pub findings: u64,
    #[serde(deserialize_with = "number")]
    pub input_tokens: u64,
    #[serde(deserialize_with = "number")]
    pub cached_input_tokens: u64,
    #[serde(deserialize_with = "number")]
    pub output_tokens: u64,
    /// Empty when the model has no price.
    #[serde(deserialize_with = "cost")]
    pub cost_usd: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub wall_ms: u64,
    /// Asking the engine for tests.
    #[serde(deserialize_with = "number")]
    pub generate_ms: u64,
    /// Copying the workspace to the scratch directory.
    #[serde(deserialize_with = "number")]
    pub sync_ms: u64,
    /// Building the crate as it is (cached after the first review).
    #[serde(deserialize_with = "number")]
    pub baseline_ms: u64,
    /// Building the generated tests, repair rounds included.
    #[serde(deserialize_with = "number")]
    pub build_ms: u64,
    #[serde(deserialize_with = "number")]
    pub run_ms: u64,
    #[serde(deserialize_with = "number")]
    pub repair_rounds: u64,
    pub finding: String,
    pub decision: String,
    pub function: String,
    pub reason: String,
}

impl Row {
    fn fields(&self) -> Vec<String> {
        // A decision has no counts or times: its numbers are left empty, not 0, so a sum or
        // an average over a column in a spreadsheet sees the reviews only.
        let review = self.kind != "decision";
        let n = |v: u64| if review { v.to_string() } else { String::new() };
        vec![
            self.kind.clone(),
            self.run_id.clone(),
            self.timestamp.clone(),
            self.task.clone(),
            self.engine.clone(),
            self.model.clone(),
            n(self.functions),
            n(self.sites),
            n(self.generated),
            n(self.compiled_first_pass),
            n(self.compiled),
            n(self.passed),
            n(self.failed),
            n(self.flaky),
            n(self.findings),
            n(self.input_tokens),
            n(self.cached_input_tokens),
            n(self.output_tokens),
            self.cost_usd.map(|c| format!("{c:.6}")).unwrap_or_default(),
            n(self.wall_ms),
            n(self.generate_ms),
            n(self.sync_ms),
            n(self.baseline_ms),
            n(self.build_ms),
            n(self.run_ms),
            n(self.repair_rounds),
            self.finding.clone(),
            self.decision.clone(),
            self.function.clone(),
            self.reason.clone(),
        ]
    }

    /// The row's values in the order of `header`: empty for a column it does not know.
    fn fields_under(&self, header: &[String]) -> Vec<String> {
        let fields = self.fields();
        header
            .iter()
            .map(|name| {
                COLUMNS
                    .iter()
                    .position(|c| c == name)
                    .map(|i| fields[i].clone())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// The ledger of the workspace at `root`.
pub fn path(root: &Path) -> PathBuf {
    root.join(".dualtrack").join("ledger.csv")
}

/// Append `rows` to the ledger at `path` under an exclusive lock (parallel CI shards write
/// the same file), writing the header first when the file is new or empty.
pub fn append(path: &Path, rows: &[Row]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        crate::output::refuse_linked_dir(dir)?;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
    }
    crate::output::refuse_link(path, "the ledger is not written through links")?;
    let mut file = crate::input::open_append(path)
        .with_context(|| format!("failed to open {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Another name of the file may be outside the tree: writing would change it there.
        if file.metadata().is_ok_and(|m| m.nlink() > 1) {
            anyhow::bail!(
                "{} has other names (a hard link): it is not written; copy it to make it \
                 the tree's own",
                path.display()
            );
        }
    }
    file.lock()
        .with_context(|| format!("failed to lock {}", path.display()))?;
    let mut text = String::new();
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut records: Vec<Vec<String>> = Vec::new();
    let header: Vec<String> = if length == 0 {
        records.push(COLUMNS.iter().map(|c| c.to_string()).collect());
        COLUMNS.iter().map(|c| c.to_string()).collect()
    } else {
        if !ends_with_newline(path, length) {
            // A hand edit without a final line break: the row must not join its last line.
            text.push('\n');
        }
        // Rows follow the file's own header: one written by another version of the tool
        // gets its columns, and never a row that does not fit it. A file without one is not
        // a ledger, and gets nothing.
        header_of(path).ok_or_else(|| {
            anyhow::anyhow!(
                "{} is not a ledger (its first line is no CSV header with a `run_id` column): \
                 nothing was appended; move it away to start a new ledger",
                path.display()
            )
        })?
    };
    records.extend(rows.iter().map(|row| row.fields_under(&header)));
    text.push_str(&csv_text(records));
    // One write: a reader never sees half a row. No secret of the environment lands in it.
    let text = crate::secrets::redact(&text);
    file.write_all(text.as_bytes())
        .with_context(|| format!("failed to append to {}", path.display()))?;
    file.unlock().ok();
    Ok(())
}

/// Whether the file at `path`, `length` bytes long, ends with a line break.
/// The column names of the ledger at `path`, from its first line.
fn header_of(path: &Path) -> Option<Vec<String>> {
    use std::io::BufRead as _;
    let file = crate::input::open(path).ok()?;
    let mut line = String::new();
    std::io::BufReader::new(file).read_line(&mut line).ok()?;
    let names: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes())
        .records()
        .next()?
        .ok()?
        .iter()
        .map(str::to_owned)
        .collect();
    let has = |column: &str| names.iter().any(|n| n == column);
    (has("kind") && has("run_id")).then_some(names)
}

fn ends_with_newline(path: &Path, length: u64) -> bool {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let Ok(mut file) = crate::input::open(path) else {
        return true;
    };
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(length - 1)).is_ok()
        && file.read_exact(&mut last).is_ok()
        && last[0] == b'\n'
}

/// Every row of the ledger at `path`; none when it does not exist. A line that is not a
/// record of the header's columns is an error naming the file and line.
pub fn read(path: &Path) -> anyhow::Result<Vec<Row>> {
    let file = match crate::input::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) if err.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(crate::error::InputError::new(format!(
                "{err}: the ledger cannot be read; move it away"
            ))
            .into());
        }
        Err(err) => return Err(err).with_context(|| format!("failed to read {}", path.display())),
    };
    let mut reader = csv::Reader::from_reader(std::io::BufReader::new(file));
    let malformed = |err: csv::Error| -> anyhow::Error {
        let line = err.position().map_or(1, |p| p.line());
        let what = match err.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!(
                "{len} fields where the header has {expected_len} (an unclosed quote, or a \
                 comma too many or too few?)"
            ),
            csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
            csv::ErrorKind::Io(err) => {
                return anyhow::anyhow!("failed to read {}: {err}", path.display());
            }
            _ => err.to_string(),
        };
        crate::error::InputError::new(format!(
            "{}:{line}: not a ledger row: {what}; fix or remove that line",
            path.display()
        ))
        .into()
    };
    let header = reader.headers().map_err(malformed)?.clone();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(malformed)? {
        let row: Row = record.deserialize(Some(&header)).map_err(malformed)?;
        rows.push(row);
    }
    Ok(rows)
}

/// A number of the ledger; empty (a column the row's version did not have) or unreadable
/// reads as 0.
fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    Ok(text.trim().parse().unwrap_or(0))
}

/// A cost; empty (no price known) or unreadable reads as none.
fn cost<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    Ok(text.trim().parse().ok())
}

/// `records` as CSV: fields quoted when they hold a comma, quote or line break.
fn csv_text(records: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for record in records {
        writer
            .write_record(&record)
            .expect("writing to memory does not fail");
    }
    let bytes = writer
        .into_inner()
        .expect("writing to memory does not fail");
    String::from_utf8(bytes).expect("the fields were UTF-8")
}

/// Now, as `2026-12-02T15:42:15Z`.
pub fn now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    timestamp(seconds)
}

/// Seconds since the epoch as a UTC timestamp.
fn timestamp(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 as (year, month, day): Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// What `stats` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Engine,
    Model,
    Task,
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub group: String,
    pub reviews: usize,
    /// Mean over the reviews with a known cost; `None` when none has one.
    pub cost_per_review: Option<f64>,
    pub total_cost: Option<f64>,
    /// Tests that compiled before any repair, over tests generated.
    pub first_pass_compile_rate: Option<f64>,
    pub findings_per_review: f64,
    /// Decisions on this group's findings: kept, accepted, deferred.
    pub kept: usize,
    pub accepted: usize,
    pub deferred: usize,
    /// Kept over kept and accepted: the findings the team judged real.
    pub kept_share: Option<f64>,
    pub median_wall_ms: u64,
}

/// The figures per group of the review rows from `since` (a `YYYY-MM-DD` date, compared with
/// the timestamps' date) on, and the decisions on those reviews' findings.
pub fn stats(rows: &[Row], since: Option<&str>, by: GroupBy) -> Vec<Stats> {
    // A timestamp that is no date (a hand edit) is in no range.
    let in_range = |row: &Row| {
        since.is_none_or(|date| {
            row.timestamp
                .as_bytes()
                .first()
                .is_some_and(u8::is_ascii_digit)
                && row.timestamp.as_str() >= date
        })
    };
    let reviews: Vec<&Row> = rows
        .iter()
        .filter(|r| r.kind == "review" && in_range(r))
        .collect();
    let key = |row: &Row| -> String {
        let value = match by {
            GroupBy::Engine => &row.engine,
            GroupBy::Model => &row.model,
            GroupBy::Task => &row.task,
        };
        if value.is_empty() {
            "(none)".to_owned()
        } else {
            value.clone()
        }
    };
    let group_of_run: BTreeMap<&str, String> = reviews
        .iter()
        .map(|r| (r.run_id.as_str(), key(r)))
        .collect();
    let mut groups: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for row in &reviews {
        groups.entry(key(row)).or_default().push(row);
    }
    // The latest decision on each finding counts, in the group of the run it was made on.
    let mut decisions: BTreeMap<(String, String), String> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.kind == "decision") {
        if let Some(group) = group_of_run.get(row.run_id.as_str()) {
            decisions.insert((group.clone(), row.finding.clone()), row.decision.clone());
        }
    }
    groups
        .into_iter()
        .map(|(group, rows)| {
            let priced: Vec<f64> = rows.iter().filter_map(|r| r.cost_usd).collect();
            let total_cost = (!priced.is_empty()).then(|| priced.iter().sum::<f64>());
            let generated: u64 = rows.iter().map(|r| r.generated).sum();
            let first_pass: u64 = rows.iter().map(|r| r.compiled_first_pass).sum();
            let count = |what: &str| {
                decisions
                    .iter()
                    .filter(|((g, _), d)| *g == group && d.as_str() == what)
                    .count()
            };
            let (kept, accepted, deferred) = (count("kept"), count("accepted"), count("deferred"));
            let mut walls: Vec<u64> = rows.iter().map(|r| r.wall_ms).collect();
            walls.sort_unstable();
            Stats {
                reviews: rows.len(),
                cost_per_review: total_cost.map(|t| t / priced.len() as f64),
                total_cost,
                first_pass_compile_rate: (generated > 0)
                    .then(|| first_pass as f64 / generated as f64),
                findings_per_review: rows.iter().map(|r| r.findings).sum::<u64>() as f64
                    / rows.len() as f64,
                kept,
                accepted,
                deferred,
                kept_share: (kept + accepted > 0).then(|| kept as f64 / (kept + accepted) as f64),
                // The mean of the two middle ones for an even count.
                median_wall_ms: match walls.len() {
                    n if n % 2 == 0 => (walls[n / 2 - 1] + walls[n / 2]) / 2,
                    n => walls[n / 2],
                },
                group,
            }
        })
        .collect()
}

/// The figures as CSV, one line per group.
pub fn stats_csv(stats: &[Stats]) -> String {
    let header = [
        "group",
        "reviews",
        "cost_per_review",
        "total_cost",
        "first_pass_compile_rate",
        "findings_per_review",
        "kept",
        "accepted",
        "deferred",
        "kept_share",
        "median_wall_ms",
    ];
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    let rows = stats.iter().map(|s| {
        vec![
            s.group.clone(),
            s.reviews.to_string(),
            opt(s.cost_per_review),
            opt(s.total_cost),
            opt(s.first_pass_compile_rate),
            format!("{:.2}", s.findings_per_review),
            s.kept.to_string(),
            s.accepted.to_string(),
            s.deferred.to_string(),
            opt(s.kept_share),
            s.median_wall_ms.to_string(),
        ]
    });
    csv_text(std::iter::once(header.map(str::to_owned).to_vec()).chain(rows))
}

/// The figures as a table.
pub fn stats_human(stats: &[Stats], by: GroupBy) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:>7} {:>10} {:>10} {:>9} {:>9} {:>6} {:>8} {:>9}",
        match by {
            GroupBy::Engine => "engine",
            GroupBy::Model => "model",
            GroupBy::Task => "task",
        },
        "reviews",
        "cost/rev",
        "cost",
        "compiled",
        "find/rev",
        "kept",
        "accepted",
        "median s"
    );
    let money = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("${v:.4}"));
    let share = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.0}%", v * 100.0));
    for s in stats {
        let _ = writeln!(
            out,
            "{:<24} {:>7} {:>10} {:>10} {:>9} {:>9.1} {:>6} {:>8} {:>9.1}",
            s.group,
            s.reviews,
            money(s.cost_per_review),
            money(s.total_cost),
            share(s.first_pass_compile_rate),
            s.findings_per_review,
            s.kept,
            s.accepted,
            s.median_wall_ms as f64 / 1000.0
        );
    }
    if stats.is_empty() {
        out.push_str("no reviews in the ledger yet\n");
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    fn review(run: &str, engine: &str, cost: Option<f64>, findings: u64, wall_ms: u64) -> Row {
        Row {
            kind: "review".into(),
            run_id: run.into(),
            timestamp: "2026-12-02T10:00:00Z".into(),
            task: "feature/x".into(),
            engine: engine.into(),
            generated: 10,
            compiled_first_pass: 8,
            compiled: 9,
            findings,
            cost_usd: cost,
            wall_ms,
            ..Row::default()
        }
    }

    fn decision(run: &str, finding: &str, what: &str) -> Row {
        Row {
            kind: "decision".into(),
            run_id: run.into(),
            finding: finding.into(),
            decision: what.into(),
            reason: "because, \"quoted\"\nand two lines".into(),
            ..Row::default()
        }
    }

    #[test]
    fn rows_are_appended_under_one_header_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = path(dir.path());
        append(&path, &[review("r1", "offline", None, 2, 1000)]).unwrap();
        append(&path, &[decision("r1", "F-1", "kept")]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("kind,run_id").count(), 1);
        // A decision's counts and times are empty, not 0.
        assert!(
            text.contains("\ndecision,r1,,,,,,,,,,,,,,,,,,,,,,,,,F-1,kept,"),
            "{text}"
        );
        let rows = read(&path).unwrap();
        assert_eq!(
            rows,
            [
                review("r1", "offline", None, 2, 1000),
                decision("r1", "F-1", "kept")
            ]
        );
        std::fs::write(&path, format!("{text}review,\"r2\n")).unwrap();
        let err = read(&path).unwrap_err();
        assert!(
            err.is::<crate::error::InputError>(),
            "exit 2, not an internal error"
        );
        let err = err.to_string();
        // The decision row takes lines 3 and 4 (its reason has a line break).
        assert!(
            err.contains(":5: not a ledger row: 2 fields where the header has 30"),
            "{err}"
        );
        // A ledger edited by hand without its last line break: the next row starts a line.
        let dir = tempfile::tempdir().unwrap();
        let path = super::path(dir.path());
        append(&path, &[review("r1", "offline", None, 2, 1000)]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.trim_end()).unwrap();
        append(&path, &[decision("r1", "F-1", "deferred")]).unwrap();
        assert_eq!(read(&path).unwrap().len(), 2);
    }

    #[test]
    fn a_ledger_with_another_header_gets_rows_that_fit_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // As an older version wrote it: fewer columns, in another order.
        std::fs::write(&path, "run_id,kind,engine,wall_ms\nr0,review,offline,5\n").unwrap();
        let mut row = review("r1", "offline", None, 2, 1000);
        row.generate_ms = 7;
        append(&path, &[row]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("\nr1,review,offline,1000\n"), "{text}");
        let rows = read(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[1].run_id.as_str(), rows[1].wall_ms), ("r1", 1000));
    }

    #[test]
    fn a_newer_or_hand_edited_ledger_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // A column this version does not know, a number it cannot read, CRLF line breaks.
        std::fs::write(
            &path,
            "kind,run_id,energy_kwh,wall_ms,cost_usd\r\nreview,r1,0.3,12s,\r\nreview,r2,,7,0.25\r\n",
        )
        .unwrap();
        let rows = read(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].run_id.as_str(), rows[0].wall_ms, rows[0].cost_usd),
            ("r1", 0, None)
        );
        assert_eq!((rows[1].wall_ms, rows[1].cost_usd), (7, Some(0.25)));
        // A row appended follows that header.
        append(&path, &[review("r3", "offline", Some(1.0), 0, 9)]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("\r\nreview,r3,,9,1.000000\n"), "{text:?}");
        assert_eq!(read(&path).unwrap().len(), 3);
    }

    #[test]
    fn a_link_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.csv");
        std::fs::write(&target, "").unwrap();
        std::fs::create_dir_all(dir.path().join(".dualtrack")).unwrap();
        std::os::unix::fs::symlink(&target, path(dir.path())).unwrap();
        assert!(append(&path(dir.path()), &[Row::default()]).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
        // Nor through a linked `.dualtrack` directory.
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join(".dualtrack")).unwrap();
        let err = append(&path(dir.path()), &[Row::default()]).unwrap_err();
        assert!(err.is::<crate::error::InputError>(), "{err:?}");
        assert!(!elsewhere.path().join("ledger.csv").exists());
    }

    #[test]
    fn what_is_not_a_ledger_file_gets_nothing_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Garbage, and a CSV without the `run_id` column.
        for text in ["\u{1}\u{2} not, csv \"at all\n", "name,size\nx,1\n"] {
            std::fs::write(&path, text).unwrap();
            let err = append(&path, &[review("r1", "offline", None, 0, 1)]).unwrap_err();
            assert!(err.to_string().contains("is not a ledger"), "{err}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
        // A directory, a FIFO: refused at once.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(append(&path, &[Row::default()]).is_err());
        let err = read(&path).unwrap_err();
        assert!(err.is::<crate::error::InputError>(), "{err:?}");
        std::fs::remove_dir(&path).unwrap();
        let name = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        assert!(append(&path, &[Row::default()]).is_err());
        assert!(read(&path).is_err());
        std::fs::remove_file(&path).unwrap();
        // A hard link to a file outside the tree.
        let outside = dir.path().join("elsewhere.csv");
        std::fs::write(&outside, "").unwrap();
        std::fs::hard_link(&outside, &path).unwrap();
        let err = append(&path, &[Row::default()]).unwrap_err();
        assert!(err.to_string().contains("hard link"), "{err}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "");
    }

    #[test]
    fn interrupted_reviews_are_left_out_of_stats() {
        let mut interrupted = review("r2", "offline", None, 0, 10);
        interrupted.kind = "interrupted".into();
        let stats = stats(
            &[review("r1", "offline", None, 2, 1000), interrupted],
            None,
            GroupBy::Engine,
        );
        assert_eq!(stats[0].reviews, 1);
    }

    #[test]
    fn stats_group_reviews_and_count_the_latest_decisions() {
        let rows = vec![
            review("r1", "offline", None, 2, 1000),
            review("r2", "openai", Some(0.5), 4, 3000),
            review("r3", "openai", Some(1.5), 0, 5000),
            review("r4", "openai", None, 1, 9000),
            decision("r2", "F-1", "accepted"),
            decision("r2", "F-1", "kept"),
            decision("r2", "F-2", "accepted"),
            decision("r1", "F-9", "deferred"),
            decision("r-unknown", "F-3", "kept"),
        ];
        let stats = stats(&rows, None, GroupBy::Engine);
        assert_eq!(stats.len(), 2);
        let openai = &stats[1];
        assert_eq!(openai.group, "openai");
        assert_eq!(openai.reviews, 3);
        assert_eq!(openai.cost_per_review, Some(1.0));
        assert_eq!(openai.total_cost, Some(2.0));
        assert_eq!(openai.first_pass_compile_rate, Some(0.8));
        assert!((openai.findings_per_review - 5.0 / 3.0).abs() < 1e-9);
        assert_eq!((openai.kept, openai.accepted), (1, 1));
        assert_eq!(openai.kept_share, Some(0.5));
        assert_eq!(openai.median_wall_ms, 5000);
        assert_eq!((stats[0].deferred, stats[0].cost_per_review), (1, None));
        let csv = stats_csv(&stats);
        assert!(csv.starts_with("group,reviews,"), "{csv}");
        assert!(
            csv.contains("\nopenai,3,1.0000,2.0000,0.8000,1.67,1,1,0,0.5000,5000\n"),
            "{csv}"
        );
        // Two reviews: the median is between them.
        let two = super::stats(&rows[..2], None, GroupBy::Task);
        assert_eq!(two[0].median_wall_ms, 2000);
        let mut garbled = rows.clone();
        garbled[1].timestamp = "not-a-time".into();
        let since = super::stats(&garbled, Some("2026-01-01"), GroupBy::Engine);
        assert_eq!(since.iter().map(|s| s.reviews).sum::<usize>(), 3);
        let later = super::stats(&rows, Some("2026-12-03"), GroupBy::Engine);
        assert!(later.is_empty());
        assert!(stats_human(&later, GroupBy::Task).contains("no reviews"));
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp(1_796_230_241), "2026-12-02T16:50:41Z");
    }
}
