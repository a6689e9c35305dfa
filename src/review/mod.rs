//! The review stage (`cargo dualtrack review`, in progress: issue 6): scoping to what changed
//! since a base revision, and the findings of a run.

pub mod diff;
pub mod exclude;
pub mod findings;
