//! The terminal walk of `reconcile`: each undecided failure shown, a key read for it.

use super::keys::Answers;
use crate::document::{Finding, ReviewDocument};

/// What the human chose for one finding at the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Keep,
    /// With the reason given (maybe none).
    Accept(String),
    Apply,
    Later,
}

/// Show each finding (the function, verdict, message and place, the input, the spec item, the
/// test, a verified fix) and read a key: keep, accept (then a reason), apply (when there is a
/// verified fix), later, skip, quit. Nothing is written until the walk ends.
pub fn walk(
    findings: &[&Finding],
    report: &ReviewDocument,
    answers: &mut dyn Answers,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Vec<(String, Choice)>> {
    let mut choices = Vec::new();
    let count = findings.len();
    for (index, finding) in findings.iter().enumerate() {
        let id = finding.id.clone();
        let fix = report.verified_fix(finding.function_name());
        writeln!(
            out,
            "\n[{}/{count}] {id} {} {}",
            index + 1,
            finding.verdict.as_str(),
            finding.function_name()
        )?;
        writeln!(
            out,
            "    {} at {}",
            finding.message.lines().next().unwrap_or_default(),
            finding.location.as_deref().unwrap_or_default()
        )?;
        if let Some(snippet) = &finding.snippet {
            writeln!(out, "    | {snippet}")?;
        }
        if let Some(input) = &finding.input {
            writeln!(out, "    input: {input}")?;
        }
        if let Some(item) = &finding.item {
            writeln!(out, "    spec item: {item}")?;
        }
        writeln!(
            out,
            "    test: {}",
            finding.test.as_deref().unwrap_or_default()
        )?;
        if let Some(fix) = fix {
            writeln!(
                out,
                "    verified fix: {}\n{}",
                fix.explanation.as_deref().unwrap_or_default(),
                fix.diff.as_deref().unwrap_or_default()
            )?;
        }
        let keys = if fix.is_some() {
            "[k]eep the test  [a]ccept the code  a[p]ply the fix  fix [l]ater  [s]kip  [q]uit"
        } else {
            "[k]eep the test  [a]ccept the code  fix [l]ater  [s]kip  [q]uit"
        };
        loop {
            write!(out, "    {keys} > ")?;
            out.flush()?;
            let Some(choice) = answers.choice()? else {
                return Ok(choices);
            };
            let choice = match choice.as_str() {
                "k" | "keep" => Choice::Keep,
                "a" | "accept" => {
                    write!(out, "    why is the code right? (optional) > ")?;
                    out.flush()?;
                    Choice::Accept(answers.line()?.unwrap_or_default())
                }
                "p" | "apply" if fix.is_some() => Choice::Apply,
                "l" | "later" => Choice::Later,
                "s" | "skip" => break,
                "q" | "quit" => return Ok(choices),
                other => {
                    let apply = if fix.is_some() { "p, " } else { "" };
                    writeln!(out, "    `{other}` is not a choice: k, a, {apply}l, s or q")?;
                    continue;
                }
            };
            choices.push((id.clone(), choice));
            break;
        }
    }
    Ok(choices)
}

#[cfg(test)]
mod test {
    use serde_json::json;

    use super::super::keys::Lines;
    use super::*;

    #[test]
    fn the_walk_reads_a_key_per_finding() {
        let finding = |id: &str, function: &str| -> Finding {
            serde_json::from_value(json!({"id": id, "kind": "failure", "function": function,
                   "verdict": "likely_bug", "message": "attempt to divide by zero",
                   "location": "src/lib.rs:3", "test": "t", "input": "f(0)"}))
            .unwrap()
        };
        let findings = [
            finding("F-1", "c::f"),
            finding("F-2", "c::g"),
            finding("F-3", "c::h"),
            finding("F-4", "c::i"),
            finding("F-5", "c::j"),
        ];
        let findings = findings.each_ref();
        let report: ReviewDocument =
            serde_json::from_value(json!({"fixes": [{"function": "c::g", "verified": true,
                                                     "explanation": "guard", "diff": "-a\n+b\n"}]}))
            .unwrap();
        // F-1: a wrong key, then keep; F-2: apply; F-3: accept with a reason; F-4: skip;
        // F-5: later.
        let mut input = Lines("x\nK\np\na\nthe caller checks\ns\nl\n".as_bytes());
        let mut shown = Vec::new();
        let choices = walk(&findings, &report, &mut input, &mut shown).unwrap();
        assert_eq!(
            choices,
            [
                ("F-1".to_owned(), Choice::Keep),
                ("F-2".to_owned(), Choice::Apply),
                (
                    "F-3".to_owned(),
                    Choice::Accept("the caller checks".to_owned())
                ),
                ("F-5".to_owned(), Choice::Later),
            ]
        );
        let shown = String::from_utf8(shown).unwrap();
        assert!(shown.contains("[2/5] F-2 likely_bug c::g"), "{shown}");
        assert!(shown.contains("verified fix: guard\n-a\n+b\n"), "{shown}");
        assert!(
            shown.contains("`x` is not a choice: k, a, l, s or q"),
            "{shown}"
        );
        // Apply is offered only where there is a fix; quit keeps what was chosen.
        let mut input = Lines("p\nq\n".as_bytes());
        let choices = walk(&findings, &report, &mut input, &mut Vec::new()).unwrap();
        assert!(choices.is_empty());
    }
}
