//! Running one test in its own process and classifying how it ended: passed, failed (its own
//! assertion), panicked (the code under test), timed out, or crashed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::process::Finished;
use super::served::Worker;

/// The outcome names of the documents (docs/run-tests.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Panicked,
    TimedOut,
    Crashed,
    Flaky,
    Dropped,
}

impl Outcome {
    /// Whether it is a finding (exit 1). A dropped test is one too: the files were given by
    /// name, and a test that silently did not run must not pass a CI step.
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Passed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Panicked => "panicked",
            Outcome::TimedOut => "timed_out",
            Outcome::Crashed => "crashed",
            Outcome::Flaky => "flaky",
            Outcome::Dropped => "dropped",
        }
    }
}

/// One execution of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub outcome: Outcome,
    pub message: String,
    /// Where it panicked: the panic's own place, and the first frame of the backtrace
    /// (innermost first) inside the scratch copy, as written in the binary (often relative to
    /// the workspace root).
    pub panic_at: Option<(String, u32)>,
    pub frames: Vec<(String, u32)>,
    pub output: String,
    pub elapsed_ms: u64,
}

/// Run the test `full_name` of `executable` alone, with `cwd` as its working directory, in
/// its own confined process of `worker`'s.
pub fn run_test(
    worker: &mut Worker,
    executable: &Path,
    full_name: &str,
    cwd: &Path,
    env: &[(String, String)],
    timeout: Duration,
    output_cap: usize,
) -> anyhow::Result<Execution> {
    let args = [
        full_name,
        "--exact",
        "--include-ignored",
        "--test-threads=1",
    ];
    let finished = worker.run(executable, &args, cwd, env, timeout, output_cap)?;
    Ok(classify(&finished, full_name))
}

/// Classify a finished test process from its status and libtest's report.
pub fn classify(finished: &Finished, full_name: &str) -> Execution {
    let output = format!("{}{}", finished.stdout, finished.stderr);
    let (panic_at, message) = panic_report(&output);
    let frames = backtrace_frames(&output);
    let elapsed_ms = finished.elapsed.as_millis() as u64;
    let execution = |outcome, message: String| Execution {
        outcome,
        message,
        panic_at: panic_at.clone(),
        frames: frames.clone(),
        output: output.clone(),
        elapsed_ms,
    };
    let Some(status) = finished.status else {
        return execution(
            Outcome::TimedOut,
            format!("did not finish within {} ms", elapsed_ms),
        );
    };
    let reported_ok = libtest_reported(&output, full_name, "ok");
    let reported_failed = libtest_reported(&output, full_name, "FAILED");
    // A sandbox's supervisor (bwrap) reports its child's death by signal N as exit 128+N.
    let relayed_signal = status
        .code()
        .filter(|code| (129..160).contains(code) && !reported_ok && !reported_failed)
        .map(|code| code - 128);
    if let Some(signal) = finished.signal().or(relayed_signal) {
        let what = if output.contains("has overflowed its stack") {
            "stack overflow".to_owned()
        } else {
            match signal {
                libc::SIGABRT => "aborted (SIGABRT)".to_owned(),
                libc::SIGKILL => "killed (SIGKILL): out of memory or a resource limit".to_owned(),
                libc::SIGSEGV => "segmentation fault (SIGSEGV)".to_owned(),
                libc::SIGXFSZ => "file size limit exceeded (SIGXFSZ)".to_owned(),
                libc::SIGXCPU => "CPU time limit exceeded (SIGXCPU)".to_owned(),
                other => format!("killed by signal {other}"),
            }
        };
        return execution(Outcome::Crashed, what);
    }
    match status.code() {
        Some(0) if reported_ok => execution(Outcome::Passed, String::new()),
        Some(101) if reported_failed => execution(
            // Failed or panicked is decided by the caller, who knows where the test's own code
            // is; a panic is the default.
            Outcome::Panicked,
            message.unwrap_or_else(|| "the test failed".to_owned()),
        ),
        Some(code) => execution(
            Outcome::Crashed,
            format!("the process exited with code {code} before the test reported"),
        ),
        None => execution(
            Outcome::Crashed,
            "the process ended without a status".to_owned(),
        ),
    }
}

/// `thread 'x' panicked at src/lib.rs:10:5:` and the message lines after it.
fn panic_report(output: &str) -> (Option<(String, u32)>, Option<String>) {
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.split(" panicked at ").nth(1) else {
            continue;
        };
        let place = rest.trim_end_matches(':');
        let location = split_location(place);
        let message: Vec<&str> = lines
            .by_ref()
            .take_while(|l| {
                !l.starts_with("note:")
                    && !l.starts_with("stack backtrace:")
                    && !l.trim().is_empty()
            })
            .collect();
        return (location, Some(message.join("\n")));
    }
    (None, None)
}

/// `at ./src/lib.rs:49:17` lines of a backtrace, innermost first.
fn backtrace_frames(output: &str) -> Vec<(String, u32)> {
    output
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("at "))
        .filter_map(split_location)
        .collect()
}

/// `path:line:column` → (path, line).
fn split_location(place: &str) -> Option<(String, u32)> {
    let mut parts = place.rsplitn(3, ':');
    let _column = parts.next()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    Some((file.trim_start_matches("./").to_owned(), line))
}

/// Resolve a path a binary printed (relative to the workspace root it was built in) to an
/// absolute path.
pub fn resolve(root: &Path, printed: &str) -> PathBuf {
    let path = Path::new(printed);
    if path.is_absolute() {
        path.to_owned()
    } else {
        root.join(path)
    }
}

/// Whether libtest printed `verdict` for the test: `test NAME ... ok`, or for a
/// `#[should_panic]` test `test NAME - should panic ... ok`.
fn libtest_reported(output: &str, full_name: &str, verdict: &str) -> bool {
    output.contains(&format!("test {full_name} ... {verdict}"))
        || output.contains(&format!("test {full_name} - should panic ... {verdict}"))
}

#[cfg(test)]
mod test {
    use super::*;

    const FAILED: &str = "running 1 test
test money::dualtrack_offline::t ... FAILED

failures:

---- money::dualtrack_offline::t stdout ----

thread 'money::dualtrack_offline::t' panicked at /rustc/abc/library/core/src/iter/traits/accum.rs:149:1:
attempt to add with overflow
stack backtrace:
   0: __rustc::rust_begin_unwind
             at /rustc/abc/library/std/src/panicking.rs:689:5
   3: ledger::ledger::Ledger::balance
             at ./src/ledger.rs:21:9
   4: ledger::ledger::dualtrack_offline::t
             at ./src/ledger.rs:40:5
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.


failures:
    money::dualtrack_offline::t

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.00s
";

    #[cfg(unix)]
    fn finished(code: Option<i32>, stdout: &str) -> Finished {
        use std::os::unix::process::ExitStatusExt;
        Finished {
            status: code.map(|c| std::process::ExitStatus::from_raw(c << 8)),
            stdout: stdout.to_owned(),
            stderr: String::new(),
            elapsed: Duration::from_millis(5),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_test_reports_the_panic_message_place_and_frames() {
        let execution = classify(&finished(Some(101), FAILED), "money::dualtrack_offline::t");
        assert_eq!(execution.outcome, Outcome::Panicked);
        assert_eq!(execution.message, "attempt to add with overflow");
        assert_eq!(
            execution.panic_at,
            Some((
                "/rustc/abc/library/core/src/iter/traits/accum.rs".to_owned(),
                149
            ))
        );
        assert_eq!(execution.frames[1], ("src/ledger.rs".to_owned(), 21));
    }

    #[cfg(unix)]
    #[test]
    fn passing_timing_out_and_exiting_early_are_told_apart() {
        let ok = "test a::t ... ok\n\ntest result: ok. 1 passed; 0 failed";
        assert_eq!(
            classify(&finished(Some(0), ok), "a::t").outcome,
            Outcome::Passed
        );
        let should_panic = "test a::t - should panic ... ok\n\ntest result: ok. 1 passed";
        assert_eq!(
            classify(&finished(Some(0), should_panic), "a::t").outcome,
            Outcome::Passed
        );
        assert_eq!(
            classify(&finished(None, ""), "a::t").outcome,
            Outcome::TimedOut
        );
        let early = classify(&finished(Some(0), "running 1 test\n"), "a::t");
        assert_eq!(early.outcome, Outcome::Crashed);
        assert!(
            early
                .message
                .contains("exited with code 0 before the test reported")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_signal_relayed_as_an_exit_code_is_a_crash_with_its_name() {
        let execution = classify(&finished(Some(134), "running 1 test\n"), "a::t");
        assert_eq!(
            (execution.outcome, execution.message.as_str()),
            (Outcome::Crashed, "aborted (SIGABRT)")
        );
    }

    #[test]
    fn locations_split_on_the_last_two_colons() {
        assert_eq!(
            split_location("./src/a:b.rs:3:9"),
            Some(("src/a:b.rs".to_owned(), 3))
        );
        assert_eq!(split_location("nowhere"), None);
    }
}
