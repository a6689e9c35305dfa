//! The reconcile step (`cargo dualtrack reconcile`) as a function over typed data: the decisions
//! asked for, checked against a run's failures and recorded in `.dualtrack/decisions.toml`;
//! verified fixes applied; kept tests checked in; `decision` rows appended to the ledger.
//! `commands/reconcile.rs` reads the flags, walks the terminal and prints the result.

pub mod apply;
pub mod keys;
pub mod run_dir;
pub mod walk;

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::analyze::Analysis;
use crate::checkin::Written;
use crate::cli::ReconcileArgs;
use crate::config::Config;
use crate::decisions::{Decision, Decisions, Verdict};
use crate::document::{Finding, ReviewDocument, Status};
use crate::error::InputError;
use crate::ledger::Row;
use crate::progress::Progress;
use crate::scratch::execute::Outcome;
use crate::workspace::{FeatureSelection, Workspace};

use apply::{apply_fix, kept_tests, restore};
use run_dir::Run;
use walk::Choice;

/// The decisions asked for, on the command line or in the terminal walk. Ids are as the user
/// typed them; `normal_id` reads them.
#[derive(Debug, Clone, Default)]
pub struct Requested {
    /// Findings whose test is checked in as a regression test.
    pub keep: Vec<String>,
    /// Findings whose implementation is right.
    pub accept: Vec<String>,
    /// Findings to fix later.
    pub defer: Vec<String>,
    /// Findings whose verified fix is put in place, their test kept.
    pub apply: Vec<String>,
    /// Accept every undecided failure (needs `reason`).
    pub accept_all: bool,
    /// Check in every test of the run that passed.
    pub keep_all_passing: bool,
    /// Why, stored with every decision made.
    pub reason: Option<String>,
    /// Why, per finding id, as given in the walk (over `reason`).
    pub reasons: HashMap<String, String>,
}

impl From<&ReconcileArgs> for Requested {
    /// What the command line asks for (the walk's reasons come later, with its choices).
    fn from(args: &ReconcileArgs) -> Requested {
        Requested {
            keep: args.keep.clone(),
            accept: args.accept.clone(),
            defer: args.defer.clone(),
            apply: args.apply.clone(),
            accept_all: args.accept_all,
            keep_all_passing: args.keep_all_passing,
            reason: args.reason.clone(),
            reasons: HashMap::new(),
        }
    }
}

impl Requested {
    /// Add what the human chose in the walk, in the walk's order.
    pub fn add_choices(&mut self, choices: Vec<(String, Choice)>) {
        for (id, choice) in choices {
            match choice {
                Choice::Keep => self.keep.push(id),
                Choice::Accept(reason) => {
                    if !reason.is_empty() {
                        self.reasons.insert(id.clone(), reason);
                    }
                    self.accept.push(id);
                }
                Choice::Apply => self.apply.push(id),
                Choice::Later => self.defer.push(id),
            }
        }
    }
}

/// What a reconcile works on.
pub struct Reconcile<'a> {
    pub workspace: &'a Workspace,
    pub config: &'a Config,
    pub run: &'a Run,
    /// The features the check-in build turns on.
    pub features: &'a FeatureSelection,
    pub progress: &'a Progress,
}

/// A decision made by this reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The finding's id, normalized.
    pub id: String,
    pub verdict: Verdict,
    pub function: String,
}

/// What a reconcile did.
#[derive(Debug)]
pub struct Reconciled {
    /// The decisions made, in the order asked (the last one per finding).
    pub decided: Vec<Decided>,
    /// What the check-in wrote, when tests were kept.
    pub checked_in: Option<Written>,
    /// The run's failures with their status after the decisions.
    pub listed: Vec<Listed>,
}

/// Record the decisions `requested` asks for on `at.run`'s failures into `decisions` (saved
/// when any was made), apply the verified fixes, check the kept tests in and append the
/// ledger's rows. A fix or a check-in that fails puts the applied fixes back.
pub fn reconcile(
    at: &Reconcile,
    decisions: &mut Decisions,
    requested: &Requested,
) -> anyhow::Result<Reconciled> {
    let run = at.run;
    let failures = failures(&run.report);
    let wanted = wanted(requested, &failures, decisions)?;
    let decided = record(&wanted, requested, run, &failures, decisions)?;
    // The whole tree's functions, read once, when a fix or a test goes into it.
    let whole_tree = OnceCell::new();
    let tree = || whole_tree.get_or_init(|| crate::analyze::analyze_all(at.workspace));
    let applied = apply_fixes(at, &requested.apply, &failures, tree)?;
    let checked_in = check_in_kept(at, &decided, requested, &failures, tree).or_else(|err| {
        // Nothing half done: the applied fixes go too.
        restore(&applied)?;
        Err(err)
    })?;
    if !decided.is_empty() {
        decisions.save(&at.workspace.root)?;
        if at.config.ledger != Some(false) {
            append_ledger(at, &decided, decisions);
        }
    }
    Ok(Reconciled {
        listed: listing(&failures, decisions),
        decided,
        checked_in,
    })
}

/// The decisions asked for, one per finding: the last one asked for wins.
fn wanted(
    requested: &Requested,
    failures: &[&Finding],
    decisions: &Decisions,
) -> anyhow::Result<Vec<(String, Verdict)>> {
    let mut wanted: Vec<(String, Verdict)> = Vec::new();
    if requested.accept_all {
        if requested
            .reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
        {
            return Err(InputError::new(
                "--accept-all needs --reason TEXT: say why every finding is accepted",
            )
            .into());
        }
        for finding in failures {
            if decisions.decision(&finding.id).is_none() {
                wanted.push((finding.id.clone(), Verdict::Accepted));
            }
        }
    }
    // A verified fix applied: the finding's test is kept too, as the regression test it now
    // passes. Applied last, once every id is known good.
    for (ids, verdict) in [
        (&requested.keep, Verdict::Kept),
        (&requested.accept, Verdict::Accepted),
        (&requested.defer, Verdict::Deferred),
        (&requested.apply, Verdict::Kept),
    ] {
        wanted.extend(ids.iter().map(|id| (id.clone(), verdict)));
    }
    let mut seen = HashSet::new();
    let mut last: Vec<(String, Verdict)> = wanted
        .into_iter()
        .rev()
        .filter(|(id, _)| seen.insert(normal_id(id)))
        .collect();
    last.reverse();
    Ok(last)
}

/// Put each wanted decision in `decisions` (not yet saved), with what the finding id was made
/// of, the failure's message and the reason; an id that is no failure of the run is an error.
fn record(
    wanted: &[(String, Verdict)],
    requested: &Requested,
    run: &Run,
    failures: &[&Finding],
    decisions: &mut Decisions,
) -> anyhow::Result<Vec<Decided>> {
    let run_id = &run.id;
    let mut decided = Vec::new();
    for (id, verdict) in wanted {
        let normal = normal_id(id);
        let finding = failures.iter().find(|f| f.id == normal).ok_or_else(|| {
            InputError::new(format!(
                "{id} is not a failure of run {run_id}: `cargo dualtrack reconcile {run_id} \
                     --list` shows them"
            ))
        })?;
        let test = run.report.test_of(finding);
        let reason = requested
            .reasons
            .get(&normal)
            .cloned()
            .or(requested.reason.clone())
            .unwrap_or_else(|| {
                if requested.apply.iter().any(|a| normal_id(a) == normal) {
                    "the verified fix was applied".to_owned()
                } else {
                    String::new()
                }
            });
        decisions.by_id.insert(
            normal.clone(),
            Decision {
                decision: *verdict,
                function: finding.function_name().to_owned(),
                oracle: test.and_then(|t| t.oracle.clone()).unwrap_or_default(),
                input: finding.input.clone().unwrap_or_default(),
                message: first_line(&finding.message).unwrap_or_default(),
                reason,
            },
        );
        decided.push(Decided {
            id: normal,
            verdict: *verdict,
            function: finding.function_name().to_owned(),
        });
    }
    Ok(decided)
}

/// Put the verified fixes for `ids` in place, in order; the files and their text before. One
/// that fails puts back those applied before it.
fn apply_fixes<'t>(
    at: &Reconcile,
    ids: &[String],
    failures: &[&Finding],
    tree: impl Fn() -> &'t Analysis,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let report = &at.run.report;
    let mut applied: Vec<(PathBuf, String)> = Vec::new();
    for id in ids {
        match apply_fix(
            at.workspace,
            tree(),
            report,
            failures,
            &normal_id(id),
            &at.run.id,
        ) {
            Ok(done) => applied.push(done),
            Err(err) => {
                restore(&applied)?;
                return Err(err);
            }
        }
    }
    Ok(applied)
}

/// Check in the kept findings' tests, and with `keep_all_passing` every passing one; what was
/// written, or nothing when no test is to go in.
fn check_in_kept<'t>(
    at: &Reconcile,
    decided: &[Decided],
    requested: &Requested,
    failures: &[&Finding],
    tree: impl Fn() -> &'t Analysis,
) -> anyhow::Result<Option<Written>> {
    let report = &at.run.report;
    // Each test as (finding id or `passing`, test name).
    let mut names: Vec<(String, String)> = decided
        .iter()
        .filter(|made| made.verdict == Verdict::Kept)
        .filter_map(|made| {
            let finding = failures.iter().find(|f| f.id == made.id)?;
            Some((made.id.clone(), finding.test.clone()?))
        })
        .collect();
    if requested.keep_all_passing {
        for test in &report.tests {
            if test.outcome == Outcome::Passed {
                names.push(("passing".to_owned(), test.name.clone()));
            }
        }
    }
    if names.is_empty() {
        return Ok(None);
    }
    let kept = kept_tests(at.workspace, tree(), &at.run.dir, report, &names)?;
    let written =
        crate::checkin::trial::check_in(at.workspace, at.features, &kept, false, at.progress)?;
    Ok(Some(written))
}

/// A `decision` row in the ledger per decision made. The decisions are recorded: a ledger that
/// cannot take their rows is said, not fatal (as for a review).
fn append_ledger(at: &Reconcile, decided: &[Decided], decisions: &Decisions) {
    let rows: Vec<Row> = decided
        .iter()
        .map(|made| Row {
            kind: "decision".into(),
            run_id: at.run.id.clone(),
            timestamp: crate::ledger::now(),
            engine: at.run.report.engine.clone(),
            finding: made.id.clone(),
            decision: made.verdict.status().to_owned(),
            function: made.function.clone(),
            reason: decisions
                .by_id
                .get(&made.id)
                .map(|d| d.reason.clone())
                .unwrap_or_default(),
            ..Row::default()
        })
        .collect();
    let path = crate::ledger::path(&at.workspace.root);
    if let Err(err) = crate::ledger::append(&path, &rows) {
        eprintln!("warning: the ledger was not written: {err:#}");
    }
}

/// The run's failures: what a human decides on (spec gaps are the spec's business).
pub fn failures(report: &ReviewDocument) -> Vec<&Finding> {
    report.failures().collect()
}

/// A failure as `reconcile` lists it (`dualtrack.reconcile/v1`'s `findings`).
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: String,
    pub function: Option<String>,
    pub verdict: crate::document::Verdict,
    /// The message's first line.
    pub message: Option<String>,
    pub location: Option<String>,
    pub test: Option<String>,
    pub reproduce: Option<String>,
    /// As decided now: a decision removed since the review is undecided again.
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The failures as listed, with the decisions as they are now.
pub fn listing(failures: &[&Finding], decisions: &Decisions) -> Vec<Listed> {
    failures
        .iter()
        .map(|f| Listed {
            id: f.id.clone(),
            function: f.function.clone(),
            verdict: f.verdict,
            message: first_line(&f.message),
            location: f.location.clone(),
            test: f.test.clone(),
            reproduce: f.reproduce.clone(),
            // The decisions as they are now: one removed since the review is undecided.
            status: match decisions.decision(&f.id) {
                Some(decided) => decided.into(),
                None if f.status == Status::Known => Status::Known,
                None => Status::New,
            },
            fix: f.fix.clone(),
        })
        .collect()
}

/// A failure's message as listed and recorded: its first line (none for an empty message).
fn first_line(message: &str) -> Option<String> {
    message.lines().next().map(str::to_owned)
}

/// `F-` and the hex in lower case, as reports print ids.
pub fn normal_id(id: &str) -> String {
    match id
        .trim()
        .strip_prefix("F-")
        .or_else(|| id.trim().strip_prefix("f-"))
    {
        Some(hex) => format!("F-{}", hex.to_ascii_lowercase()),
        None => id.trim().to_owned(),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn the_last_decision_asked_for_a_finding_wins() {
        let requested = Requested {
            keep: vec!["F-0a".to_owned(), "F-0b".to_owned()],
            accept: vec!["f-0A".to_owned()],
            apply: vec!["F-0c".to_owned()],
            ..Requested::default()
        };
        let wanted = wanted(&requested, &[], &Decisions::default()).unwrap();
        assert_eq!(
            wanted,
            [
                ("F-0b".to_owned(), Verdict::Kept),
                ("f-0A".to_owned(), Verdict::Accepted),
                ("F-0c".to_owned(), Verdict::Kept),
            ]
        );
    }

    #[test]
    fn accepting_every_finding_needs_a_reason() {
        let requested = Requested {
            accept_all: true,
            reason: Some("  ".to_owned()),
            ..Requested::default()
        };
        let err = wanted(&requested, &[], &Decisions::default()).unwrap_err();
        assert!(
            err.to_string().contains("--accept-all needs --reason TEXT"),
            "{err}"
        );
    }

    #[test]
    fn ids_are_read_as_reports_print_them() {
        assert_eq!(normal_id(" F-AA72606B87"), "F-aa72606b87");
        assert_eq!(normal_id("f-aa72606b87"), "F-aa72606b87");
        assert_eq!(normal_id("nonsense"), "nonsense");
    }
}
