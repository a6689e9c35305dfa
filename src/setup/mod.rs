//! What the command line and `dualtrack.toml` make of the lower stages: a model engine's
//! session (`llm`) and a scratch run's options and stops (`runner`). The one layer that reads
//! flags for them, so that `generate`, `scratch` and `spec` never depend on `cli` or `config`.

pub mod llm;
pub mod runner;
