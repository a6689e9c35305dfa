//! The offline engine: deterministic edge-case tests from signatures, guards and the spec,
//! with no key and no network.

pub mod mined;
pub mod pairwise;
pub mod signature;
pub mod types;
pub mod values;
