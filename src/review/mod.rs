//! The review stage (`cargo dualtrack review`): scoping to what changed
//! since a base revision, and the findings of a run.

pub mod assemble;
pub mod diff;
pub mod exclude;
pub mod findings;
pub mod follow_up;
pub mod fuzz;
pub mod pipeline;
pub mod reports;
pub mod scope;
