//! `generate --write`: a generation's tests checked into the tree, each beside the function it
//! tests, through the trial check-in (one that does not build in the tree is left out).

use crate::generate::Generation;
use crate::generate::write::test_text;
use crate::workspace::Workspace;

/// `--write`: the generated tests checked into the tree, each beside the function it tests;
/// one that does not build in the tree is left out. What was written, and how many tests
/// were there already.
pub fn check_in_generated(
    workspace: &Workspace,
    features: &crate::workspace::FeatureSelection,
    analysis: &crate::analyze::Analysis,
    generation: &Generation,
    by_model: bool,
) -> anyhow::Result<(crate::checkin::Written, usize)> {
    let uses = crate::checkin::KeptTest::uses_of(&generation.preamble);
    let tests: Vec<crate::checkin::KeptTest> = generation
        .tests
        .iter()
        .filter_map(|test| {
            let function = analysis
                .functions
                .iter()
                .find(|f| f.path == test.test.meta.function)?;
            let mut kept = crate::checkin::KeptTest::new(
                workspace,
                analysis,
                function,
                "generated".to_owned(),
                test_text(&test.test),
                String::new(),
                uses.clone(),
            );
            kept.by_model = by_model;
            Some(kept)
        })
        .collect();
    // Ctrl-C while the tests build stops the build, and what was written is rolled back.
    crate::interrupt::install();
    let written = crate::checkin::trial::check_in(
        workspace,
        features,
        &tests,
        true,
        &crate::progress::Progress::new("generate", false),
    )?;
    let already = tests.len() - written.tests.len() - written.skipped.len();
    Ok((written, already))
}
