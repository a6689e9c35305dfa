//! Progress on stderr, per stage: a bar (indicatif) on a terminal, a plain line per stage
//! otherwise (CI logs, pipes), nothing with `-q`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bars,
    Lines,
    Quiet,
}

/// `template` as is when stderr takes colours, else without its styles (`{prefix:.bold}` →
/// `{prefix}`): a bar drawn with `--color never` has no escape codes.
fn styled(template: &str) -> String {
    if crate::output::stderr_colored() {
        template.to_owned()
    } else {
        template.replace(":.bold}", "}")
    }
}

/// Where a command reports its stages. Cheap to clone; shared by the stages of one run.
#[derive(Debug, Clone)]
pub struct Progress {
    mode: Mode,
    /// What each line starts with: the command (`review`).
    prefix: &'static str,
}

impl Progress {
    /// Bars when stderr is a terminal, lines when not, nothing when `quiet`.
    pub fn new(prefix: &'static str, quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_none_or(|term| term != "dumb");
        let mode = match (quiet, terminal) {
            (true, _) => Mode::Quiet,
            (false, true) => Mode::Bars,
            (false, false) => Mode::Lines,
        };
        Progress { mode, prefix }
    }

    /// Reports nothing: for library callers and tests.
    pub fn hidden() -> Progress {
        Progress {
            mode: Mode::Quiet,
            prefix: "",
        }
    }

    /// Start a stage: `what` is shown while it runs; `length` gives a bar of that many steps
    /// (tests to run), `None` a spinner.
    pub fn stage(&self, what: &str, length: Option<u64>) -> Stage {
        let bar = match self.mode {
            Mode::Bars => {
                let bar = match length {
                    Some(length) => {
                        ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr())
                            .with_style(
                                ProgressStyle::with_template(&styled(
                                    "{prefix:.bold} {msg} [{bar:30}] {pos}/{len} {elapsed}",
                                ))
                                .expect("a valid template")
                                .progress_chars("=> "),
                            )
                    }
                    None => ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
                        .with_style(
                            ProgressStyle::with_template(&styled(
                                "{prefix:.bold} {spinner} {msg} {elapsed}",
                            ))
                            .expect("a valid template"),
                        ),
                };
                bar.set_prefix(format!("{}:", self.prefix));
                bar.set_message(what.to_owned());
                // Drawn only once it has its text: no blank first frame.
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(120));
                Some(bar)
            }
            Mode::Lines => {
                eprintln!("{}: {what}...", self.prefix);
                None
            }
            Mode::Quiet => None,
        };
        Stage {
            bar,
            mode: self.mode,
            prefix: self.prefix,
            start: Instant::now(),
        }
    }

    /// A short stage: a spinner on a terminal, no line otherwise.
    pub fn quick_stage(&self, what: &str) -> Stage {
        match self.mode {
            Mode::Bars => self.stage(what, None),
            _ => Stage {
                bar: None,
                mode: self.mode,
                prefix: self.prefix,
                start: Instant::now(),
            },
        }
    }

    /// A line of its own (a summary, a warning), not lost under a bar.
    pub fn line(&self, text: &str) {
        if self.mode != Mode::Quiet {
            eprintln!("{}: {text}", self.prefix);
        }
    }
}

/// A stage in progress; ends with [`Stage::finish`] (or clears itself when dropped early).
pub struct Stage {
    bar: Option<ProgressBar>,
    mode: Mode,
    prefix: &'static str,
    start: Instant,
}

impl Stage {
    /// One more step done (a test finished).
    pub fn step(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// What the stage is doing now (`round 2: 3 tests dropped`).
    pub fn set_message(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.to_owned());
        }
    }

    /// End the stage; `summary` (if any) stays as a line with the time it took.
    pub fn finish(self, summary: Option<&str>) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Some(summary) = summary
            && self.mode != Mode::Quiet
        {
            eprintln!(
                "{}: {summary} ({:.1}s)",
                self.prefix,
                self.start.elapsed().as_secs_f64()
            );
        }
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
