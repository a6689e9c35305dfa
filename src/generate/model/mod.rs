//! Model engines (in progress: issue 7): tests written by a model behind one interface, one
//! module per wire format. So far: reading answers, the retry policy.

pub mod answer;
pub mod retry;
