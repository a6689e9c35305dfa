//! The `dualtrack.generate/v1` document (`generate --format json`): each test with its
//! metadata, module and code; the preamble; the functions skipped, with why.

use serde::Serialize;

use crate::generate::write::test_text;
use crate::generate::{Generation, Skipped};
use crate::testfile::TestMeta;

pub const GENERATE_SCHEMA: &str = "dualtrack.generate/v1";

#[derive(Serialize)]
pub struct Document<'a> {
    schema: &'static str,
    engine: &'a str,
    tests: Vec<TestEntry<'a>>,
    /// Items every module of these tests needs first (std's prelude in a `no_std` crate).
    preamble: &'a str,
    skipped: &'a [Skipped],
    warnings: &'a [String],
}

#[derive(Serialize)]
struct TestEntry<'a> {
    name: String,
    #[serde(flatten)]
    meta: &'a TestMeta,
    module: &'a str,
    code: String,
}

pub fn document<'a>(engine: &'a str, generation: &'a Generation) -> Document<'a> {
    Document {
        schema: GENERATE_SCHEMA,
        engine,
        tests: generation
            .tests
            .iter()
            .map(|t| TestEntry {
                name: t.test.item.sig.ident.to_string(),
                meta: &t.test.meta,
                module: &t.module,
                code: test_text(&t.test),
            })
            .collect(),
        preamble: &generation.preamble,
        skipped: &generation.skipped,
        warnings: &generation.warnings,
    }
}
