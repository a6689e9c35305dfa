//! The generate stage: edge-case tests for the functions in scope, as test modules in the
//! format of `testfile`. Engines live beneath; `offline` is built in.

pub mod emit;
pub mod model;
pub mod offline;
