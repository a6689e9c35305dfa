//! Checked-in tests tried in the scratch copy first: the writer places them in the copy, the
//! copy's tests build there in the sandbox with the cleared environment (a kept test is
//! untrusted code from the moment it is compiled), and only the files of a check-in that
//! builds are then written into the user's tree, under the scratch area's journal.

use anyhow::Context;

use super::{KeptTest, Written};
use crate::error::InputError;
use crate::progress::Progress;
use crate::scratch::sandbox::{Mechanism, SandboxChoice};
use crate::scratch::{ScratchArea, build, journal, process, show_outside};
use crate::workspace::{FeatureSelection, Workspace};

/// Check `tests` in: placed, built and trimmed in the scratch copy (see
/// [`super::check_in`]), then the files that hold written into the workspace.
pub fn check_in(
    workspace: &Workspace,
    features: &FeatureSelection,
    tests: &[KeptTest],
    drop_broken: bool,
    progress: &Progress,
) -> anyhow::Result<Written> {
    // Opening the area replays a journal an earlier check-in left.
    let area = ScratchArea::open(workspace)?;
    let mechanism = Mechanism::choose(SandboxChoice::Auto)?;
    if mechanism == Mechanism::None && tests.iter().any(|t| t.by_model) {
        return Err(InputError::new(
            "a model's tests are built only in a sandbox, and none works here: install \
             bubblewrap (`apt-get install bubblewrap`) or allow user namespaces",
        )
        .into());
    }
    let synced = area.sync(workspace, &[])?;
    let mut sandbox = area.build_sandbox(mechanism);
    show_outside(workspace, &synced, &[], progress, &mut [&mut sandbox]);
    let env = area.test_env();
    let cargo = build::cargo();
    let build = |packages: &[String]| {
        let args = super::build_check_args(workspace, &area.copy, features, packages);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let command = sandbox.command(&cargo, &args, &area.copy, &env, None);
        let finished = process::run_with_timeout(command, build::BUILD_TIMEOUT, usize::MAX)
            .context("failed to run cargo to build the checked-in tests")?;
        Ok(super::build_check_outcome(
            finished.status.is_some_and(|s| s.success()),
            finished.stdout.as_bytes(),
            &finished.stderr,
        ))
    };
    // The build takes a while on a cold scratch copy: say what is happening.
    let stage = progress.stage(
        &format!(
            "building {} where {} will go",
            crate::output::plural(tests.len(), "test"),
            if tests.len() == 1 { "it" } else { "they" }
        ),
        None,
    );
    let written = super::check_in(&area.copy, tests, &build, drop_broken);
    stage.finish(None);
    let written = written?;
    journal::write_to_tree(&area, workspace, &written.touched)?;
    Ok(written)
}
