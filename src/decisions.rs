//! The decisions store, `.dualtrack/decisions.toml`: what a human decided about each finding
//! (keep the test, accept the implementation, defer), keyed by finding id, so the next review
//! marks decided findings and fails only on undecided ones.
//!
//! The file is committed by teams: one table per finding id, in id order, so concurrent
//! decisions merge line by line and a duplicated id (a bad merge) is a parse error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// What the human decided about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The implementation is right; the test's expectation is not wanted.
    Accepted,
    /// The test is checked in: it guards the behavior from now on.
    Kept,
    /// Not now: the finding stays out of the gate until someone decides.
    Deferred,
}

impl Verdict {
    /// The finding `status` a decision gives.
    pub fn status(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Kept => "kept",
            Verdict::Deferred => "deferred",
        }
    }
}

/// One decision, with what the finding id was computed from stored beside it so a reader can
/// tell what was decided without the run that found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub decision: Verdict,
    #[serde(default)]
    pub function: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub oracle: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub input: String,
    /// The failure's message when it was decided (its first line). A finding whose message
    /// differs now is another failure, and undecided; the same message on the same function
    /// is the same failure even when another input found it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// A message's first line with its numbers and quoted values blanked: `index out of bounds:
/// the len is 3 but the index is 5` and `... len is 0 but the index is 0` are one failure, as
/// are `... inside 'é' ... of \`é\`` and `... inside 'é' ... of \`aé\``.
pub fn message_signature(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default().trim();
    let mut out = String::with_capacity(first.len());
    let mut in_number = false;
    let mut quote: Option<char> = None;
    for c in first.chars() {
        if let Some(open) = quote {
            if c == open {
                quote = None;
                out.push(c);
            }
            continue;
        }
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
            continue;
        }
        in_number = false;
        if c == '`' || (c == '\'' && first.matches('\'').count() >= 2) {
            quote = Some(c);
            out.push(c);
            out.push('…');
            continue;
        }
        out.push(c);
    }
    out
}

/// Every decision, by finding id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decisions {
    pub by_id: BTreeMap<String, Decision>,
}

/// Where the decisions of a workspace live.
pub fn decisions_path(workspace_root: &Path) -> PathBuf {
    workspace_root.join(".dualtrack").join("decisions.toml")
}

impl Decisions {
    /// The workspace's decisions; none when the file does not exist yet.
    pub fn load(workspace_root: &Path) -> Result<Decisions, InputError> {
        let path = decisions_path(workspace_root);
        match crate::input::read_to_string(&path) {
            Ok(text) => Decisions::parse(&text, &path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Decisions::default()),
            Err(err) => Err(InputError::new(format!(
                "cannot read {}: {err}",
                path.display()
            ))),
        }
    }

    /// Parse the file; errors name the file and line.
    pub fn parse(text: &str, path: &Path) -> Result<Decisions, InputError> {
        let read: BTreeMap<String, Decision> = toml::from_str(text).map_err(|err| {
            let error = crate::config::toml_error(text, path, &err);
            if err.message().contains("duplicate key") {
                // Two tables for one finding, as a merge of two branches leaves them.
                InputError::new(format!(
                    "{error}: a finding decided twice; keep one of its tables and remove the other"
                ))
            } else {
                error
            }
        })?;
        if let Some(bad) = read.keys().find(|id| !is_finding_id(id)) {
            return Err(InputError::new(format!(
                "{}: `[{bad}]` is not a finding id (`F-` and 10 hex digits, as reports show them)",
                path.display()
            )));
        }
        // Reports print lower-case hex; an id upper-cased by hand still matches.
        let mut by_id = BTreeMap::new();
        for (id, decision) in read {
            let normal = format!("F-{}", id[2..].to_ascii_lowercase());
            if by_id.insert(normal, decision).is_some() {
                return Err(InputError::new(format!(
                    "{}: `[{id}]` is decided twice (in upper and lower case): keep one",
                    path.display()
                )));
            }
        }
        Ok(Decisions { by_id })
    }

    /// The file's text: a comment saying what it is, then one table per finding id, in id
    /// order (stable, so concurrent decisions merge line by line).
    pub fn to_text(&self) -> String {
        let mut out = String::from(HEADER);
        for (id, decision) in &self.by_id {
            out.push('\n');
            out.push_str(&table(id, decision));
        }
        out
    }

    /// The file's text rewritten from `old`, its text now: what comes before the first table
    /// and every table whose decision did not change stay as they were, comments included;
    /// a changed table keeps the comments above it. Tables in id order. When the result
    /// would not read back as these decisions (a layout this cannot follow), the plain text.
    pub fn merged_into(&self, old: &str) -> String {
        let (header, blocks) = split_tables(old);
        // A header whose last line is a comment right above the first table stays glued to it.
        let (header, glued) = if header.trim().is_empty() {
            (HEADER, false)
        } else {
            let last = header.trim_end_matches(['\n', '\r']).lines().last();
            let blank_after = header.lines().last().is_some_and(|l| l.trim().is_empty());
            (header.as_str(), last.is_some() && !blank_after)
        };
        let mut out = format!("{}\n", header.trim_end());
        for (n, (id, decision)) in self.by_id.iter().enumerate() {
            let kept = blocks.iter().find(|b| b.id == *id);
            let text = match kept {
                Some(block) if block.decision.as_ref() == Some(decision) => block.text.clone(),
                Some(block) => format!("{}{}", block.above, table(id, decision)),
                None => table(id, decision),
            };
            // One blank line before each table (and the comments above it), wherever it
            // was or goes.
            if !(n == 0 && glued) {
                out.push('\n');
            }
            out.push_str(text.trim_start_matches(['\n', '\r']).trim_end());
            out.push('\n');
        }
        let out = match Decisions::parse(&out, Path::new("")) {
            Ok(read) if read == *self => out,
            _ => self.to_text(),
        };
        // A CRLF file stays CRLF throughout, the lines written now too.
        if old.contains("\r\n") {
            out.replace("\r\n", "\n").replace('\n', "\r\n")
        } else {
            out
        }
    }

    /// Write the workspace's decisions file (atomically; never through a link), keeping what
    /// a human wrote in it.
    pub fn save(&self, workspace_root: &Path) -> anyhow::Result<()> {
        let path = decisions_path(workspace_root);
        if let Some(dir) = path.parent() {
            crate::output::refuse_linked_dir(dir)?;
            std::fs::create_dir_all(dir)?;
        }
        let text = match crate::input::read_to_string(&path) {
            Ok(old) => self.merged_into(&old),
            Err(_) => self.to_text(),
        };
        crate::output::write_record(&path, &text)
    }

    /// The finding's status from its decision, if it has one.
    /// The decision on a finding, by id.
    pub fn decision(&self, finding_id: &str) -> Option<Verdict> {
        self.by_id.get(finding_id).map(|d| d.decision)
    }

    /// The decision that covers a failure: one on any of its `ids` whose recorded message (if
    /// any) still matches, else one recorded for the same function and message.
    pub fn covering(&self, ids: &[String], function: &str, message: &str) -> Option<&Decision> {
        let signature = message_signature(message);
        // A decision recorded for another function (a hand edit, a rename) does not apply.
        let still_true = |d: &&Decision| {
            (d.function.is_empty() || d.function == function)
                && (d.message.is_empty() || message_signature(&d.message) == signature)
        };
        ids.iter()
            .filter_map(|id| self.by_id.get(id))
            .find(still_true)
            .or_else(|| {
                self.by_id.values().find(|d| {
                    !d.function.is_empty()
                        && d.function == function
                        && !d.message.is_empty()
                        && message_signature(&d.message) == signature
                })
            })
    }
}

/// What a new file starts with.
const HEADER: &str = "# cargo-dualtrack: decisions on review findings, by finding id. Commit this file.\n\
     # decision: accepted (the implementation is right), kept (the test is checked in),\n\
     # deferred (fix later). `cargo dualtrack reconcile` writes it; edit values and add comments\n\
     # by hand as you like: a rewrite keeps them.\n";

/// One decision's table.
fn table(id: &str, decision: &Decision) -> String {
    let mut one = BTreeMap::new();
    one.insert(id, decision);
    toml::to_string(&one).expect("a decision serializes")
}

/// One table of a decisions file as written.
struct Block {
    /// The id, normalised as `parse` does.
    id: String,
    /// What it reads as; `None` when it does not read alone.
    decision: Option<Decision>,
    /// Its text: the comments and blank lines above its header, the header, its lines.
    text: String,
    /// The comments and blank lines above its header.
    above: String,
}

/// A decisions file split into what comes before its first table and its tables (a table
/// ending at the comments and blank lines above the next one).
fn split_tables(text: &str) -> (String, Vec<Block>) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let starts: Vec<(usize, String)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| table_id(line).map(|id| (i, id)))
        .collect();
    // A table's leading comments: the comment and blank lines right above its header.
    let above = |header: usize, floor: usize| {
        let mut first = header;
        while first > floor && {
            let l = lines[first - 1].trim();
            l.is_empty() || l.starts_with('#')
        } {
            first -= 1;
        }
        first
    };
    let mut blocks = Vec::new();
    let first_table = starts.first().map_or(lines.len(), |(i, _)| *i);
    let header_end = starts.first().map_or(lines.len(), |(i, _)| above(*i, 0));
    // The header is what precedes the first table's own comments; the file's opening comment
    // stays there even when no blank line parts it from the first table.
    let header_end = if header_end == 0 && first_table > 0 {
        first_table
    } else {
        header_end
    };
    let header: String = lines[..header_end].concat();
    let mut begin = header_end;
    for (n, (start, id)) in starts.iter().enumerate() {
        let end = match starts.get(n + 1) {
            Some((next, _)) => above(*next, start + 1),
            None => lines.len(),
        };
        let text: String = lines[begin..end].concat();
        let above_text: String = lines[begin..*start].concat();
        let decision = toml::from_str::<BTreeMap<String, Decision>>(&lines[*start..end].concat())
            .ok()
            .and_then(|read| read.into_values().next());
        blocks.push(Block {
            id: id.clone(),
            decision,
            text,
            above: above_text,
        });
        begin = end;
    }
    (header, blocks)
}

/// The finding id a table header line opens (`[F-0123456789]`, `["F-0123456789"]  # note`),
/// normalised to lower case.
fn table_id(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix('[')?;
    let (inside, after) = rest.split_once(']')?;
    let after = after.trim();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let id = inside.trim().trim_matches('"').trim_matches('\'');
    is_finding_id(id).then(|| format!("F-{}", id[2..].to_ascii_lowercase()))
}

fn is_finding_id(id: &str) -> bool {
    id.strip_prefix("F-")
        .is_some_and(|hex| hex.len() == 10 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn decisions_are_read_by_id() {
        let text = "[F-0123456789]\ndecision = \"accepted\"\nfunction = \"c::f\"\n\
                    oracle = \"no_panic\"\ninput = \"f(0)\"\nreason = \"documented\"\n\n\
                    [F-abcdefabcd]\ndecision = \"deferred\"\n";
        let decisions = Decisions::parse(text, Path::new("d.toml")).unwrap();
        let status = |id| decisions.decision(id).map(Verdict::status);
        assert_eq!(status("F-0123456789"), Some("accepted"));
        assert_eq!(status("F-abcdefabcd"), Some("deferred"));
        assert_eq!(status("F-ffffffffff"), None);
        assert_eq!(decisions.by_id["F-0123456789"].reason, "documented");
    }

    #[test]
    fn a_bad_file_names_the_line() {
        let err = Decisions::parse(
            "[F-0123456789]\ndecision = \"maybe\"\n",
            Path::new(".dualtrack/decisions.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with(".dualtrack/decisions.toml:2:"), "{err}");
        let err = Decisions::parse("[F-1]\ndecision = \"kept\"\n", Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a finding id"), "{err}");
        // A bad merge that repeats an id is caught, not resolved silently.
        let twice =
            "[F-0123456789]\ndecision = \"kept\"\n[F-0123456789]\ndecision = \"accepted\"\n";
        assert!(Decisions::parse(twice, Path::new("d.toml")).is_err());
    }

    #[test]
    fn a_decision_covers_its_failure_and_not_another() {
        let text = "[F-0123456789]\ndecision = \"accepted\"\nfunction = \"c::f\"\n\
                    message = \"attempt to divide by zero\"\n\n\
                    [F-ABCDEFABCD]\ndecision = \"kept\"\n";
        let decisions = Decisions::parse(text, Path::new("d.toml")).unwrap();
        let covered = |id: &str, function: &str, message: &str| {
            decisions
                .covering(&[id.to_owned()], function, message)
                .map(|d| d.decision)
        };
        assert_eq!(
            covered("F-0123456789", "c::f", "attempt to divide by zero"),
            Some(Verdict::Accepted)
        );
        // The same id failing another way is another failure.
        assert_eq!(
            covered(
                "F-0123456789",
                "c::f",
                "index out of bounds: the len is 0 but the index is 0"
            ),
            None
        );
        // Another input, the same failure of the same function.
        assert_eq!(
            covered("F-9999999999", "c::f", "attempt to divide by zero"),
            Some(Verdict::Accepted)
        );
        assert_eq!(
            covered("F-9999999999", "c::g", "attempt to divide by zero"),
            None
        );
        // No message recorded: the id alone decides; upper-case ids match.
        assert_eq!(
            covered("F-abcdefabcd", "c::h", "anything"),
            Some(Verdict::Kept)
        );
        assert_eq!(
            message_signature("the len is 3 but the index is 15\nmore"),
            "the len is # but the index is #"
        );
        assert_eq!(
            message_signature(
                "byte index 1 is not a char boundary; it is inside 'é' (bytes 0..2) of `aé`"
            ),
            message_signature(
                "byte index 1 is not a char boundary; it is inside 'é' (bytes 0..2) of `é`"
            ),
        );
        // The recorded function must be the finding's.
        assert_eq!(
            covered("F-0123456789", "c::other", "attempt to divide by zero"),
            None
        );
    }

    #[test]
    fn a_finding_decided_twice_is_named_with_what_to_do() {
        let text =
            "[F-aaaaaaaaaa]\ndecision = \"kept\"\n\n[F-aaaaaaaaaa]\ndecision = \"accepted\"\n";
        let err = Decisions::parse(text, Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("d.toml:4:") && err.contains("keep one of its tables"),
            "{err}"
        );
    }

    #[test]
    fn decisions_added_one_by_one_are_one_blank_line_apart() {
        let decided = |verdict: Verdict| Decision {
            decision: verdict,
            function: "c::f".into(),
            oracle: String::new(),
            input: String::new(),
            message: "m".into(),
            reason: String::new(),
        };
        let mut decisions = Decisions::default();
        decisions
            .by_id
            .insert("F-aaaaaaaaaa".into(), decided(Verdict::Kept));
        let mut text = decisions.to_text();
        for (id, verdict) in [
            ("F-cccccccccc", Verdict::Accepted),
            ("F-5555555555", Verdict::Deferred),
        ] {
            decisions.by_id.insert(id.into(), decided(verdict));
            text = decisions.merged_into(&text);
        }
        assert!(!text.contains("\n\n\n"), "{text}");
        // A CRLF file stays CRLF.
        let crlf = text.replace('\n', "\r\n");
        decisions.by_id.get_mut("F-aaaaaaaaaa").unwrap().decision = Verdict::Accepted;
        let merged = decisions.merged_into(&crlf);
        assert_eq!(merged.matches('\n').count(), merged.matches("\r\n").count());
        assert!(
            merged.contains("[F-aaaaaaaaaa]\r\ndecision = \"accepted\"\r\n"),
            "{merged:?}"
        );
        decisions.by_id.get_mut("F-aaaaaaaaaa").unwrap().decision = Verdict::Kept;
        assert_eq!(text.matches("\n\n[F-").count(), 3, "{text}");
        assert_eq!(
            Decisions::parse(&text, Path::new("d.toml")).unwrap(),
            decisions
        );
    }

    #[test]
    fn a_rewrite_keeps_what_a_human_wrote() {
        let old = "# Our team's decisions.\n\n\
                   # Division by zero is documented.\n\
                   [F-0123456789]\ndecision = \"accepted\"\nfunction = \"c::f\"\n\
                   reason = \"documented\" # see the docs\n\n\
                   # Until the rewrite lands.\n\
                   [F-ABCDEFABCD]\ndecision = \"deferred\"\n";
        let mut decisions = Decisions::parse(old, Path::new("d.toml")).unwrap();
        // Unchanged: the same text.
        assert_eq!(decisions.merged_into(old), old);
        // One decided now, one new: the comments stay, the tables go in id order.
        decisions.by_id.get_mut("F-abcdefabcd").unwrap().decision = Verdict::Kept;
        decisions.by_id.insert(
            "F-5555555555".into(),
            Decision {
                decision: Verdict::Accepted,
                function: "c::g".into(),
                oracle: String::new(),
                input: String::new(),
                message: String::new(),
                reason: String::new(),
            },
        );
        let merged = decisions.merged_into(old);
        assert!(
            merged.starts_with(
                "# Our team's decisions.\n\n# Division by zero is documented.\n[F-0123456789]\n"
            ),
            "{merged}"
        );
        assert!(
            merged.contains("reason = \"documented\" # see the docs\n"),
            "{merged}"
        );
        let five = merged.find("[F-5555555555]").unwrap();
        let until = merged
            .find("# Until the rewrite lands.\n[F-abcdefabcd]\ndecision = \"kept\"")
            .unwrap();
        assert!(
            merged.find("[F-0123456789]").unwrap() < five && five < until,
            "{merged}"
        );
        assert_eq!(
            Decisions::parse(&merged, Path::new("d.toml")).unwrap(),
            decisions
        );
        // A file with no header gets ours; one this cannot follow is written plainly.
        let bare = "[F-0123456789]\ndecision = \"kept\"\n";
        let bare_decisions = Decisions::parse(bare, Path::new("d.toml")).unwrap();
        assert_eq!(
            bare_decisions.merged_into(bare),
            format!("{HEADER}\n{bare}")
        );
        let inline = "\"F-0123456789\" = { decision = \"kept\" }\n";
        assert_eq!(bare_decisions.merged_into(inline), bare_decisions.to_text());
    }

    #[test]
    fn a_missing_file_is_no_decisions() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Decisions::load(dir.path()).unwrap(), Decisions::default());
    }
}
