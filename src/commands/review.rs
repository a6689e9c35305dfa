//! `cargo dualtrack review` (and plain `cargo dualtrack`): the functions that changed since a
//! base (or those asked for), scored against the spec, attacked with generated tests in the
//! scratch copy; findings reported, and written with the tests into the run directory. The
//! stages are `review::pipeline`'s; this reads the flags and prints the result.

use crate::cli::{GlobalArgs, ReviewArgs, ReviewFormat};
use crate::error::{ExitCode, InputError};
use crate::output::Styling;
use crate::progress::Progress;
use crate::report::review::{render_human, render_junit, render_markdown};
use crate::review::pipeline::{Review, Reviewed, review};

pub fn run(global: &GlobalArgs, args: &ReviewArgs) -> anyhow::Result<ExitCode> {
    crate::interrupt::install();
    let started = std::time::Instant::now();
    let context = super::context::Context::open(global)?;
    let args = &args.with_config(&context.config);
    let filter = context.filter(&args.functions)?;
    // A report that cannot be written should stop the review before it runs, not after.
    if let Some(path) = &global.output {
        crate::output::check_writable(path)?;
    }
    if let Some(dir) = &args.model.transcripts
        && dir.exists()
        && !dir.is_dir()
    {
        return Err(
            InputError::new(format!("--transcripts {}: not a directory", dir.display())).into(),
        );
    }
    let specs = context.specs(&args.specs, global.quiet)?;
    let progress = Progress::new(if args.fuzz_only { "fuzz" } else { "review" }, global.quiet);
    let reviewed = review(&Review {
        global,
        args,
        workspace: &context.workspace,
        config: &context.config,
        cwd: &context.cwd,
        filter: &filter,
        specs: &specs,
        progress: &progress,
        started,
    })?;
    let done = match reviewed {
        Reviewed::DryRun(text) => {
            super::emit(global, &text, Styling::Plain)?;
            return Ok(ExitCode::Clean);
        }
        Reviewed::Done(done) => done,
    };
    let document = &done.document;
    match args.format {
        ReviewFormat::Json => super::emit(global, &document.to_json_text(), Styling::Plain)?,
        ReviewFormat::Markdown => super::emit(global, &render_markdown(document), Styling::Plain)?,
        ReviewFormat::Junit => super::emit(global, &render_junit(document), Styling::Plain)?,
        ReviewFormat::Sarif => super::emit(global, &done.sarif, Styling::Plain)?,
        // The one line (or the error) said it all.
        ReviewFormat::Human if done.nothing || done.stopped.is_some() => {}
        ReviewFormat::Human => super::emit(
            global,
            &render_human(document, &done.run_dir, args.gaps || global.verbose > 0),
            Styling::Styled,
        )?,
    }
    if done.stopped.is_none() && document.interrupted {
        progress.line("interrupted: the reports hold the tests that finished before Ctrl-C");
    }
    Ok(done.exit_code(args.fail_on))
}
