//! Renderers: turn a stage's data into what people and CI read.

pub mod analysis;
pub mod generate;
pub mod matrix;
pub mod reconcile;
pub mod review;
pub mod run;
pub mod sarif;
pub mod score;
pub mod style;
