//! Typed errors that decide the exit code, and the exit codes themselves.
//!
//! Everything else travels as `anyhow::Error` with context; `main` downcasts to these to choose
//! between "you gave me bad input" (2) and "the tool broke" (70).

/// Ctrl-C arrived before any test ran; there is nothing to report.
#[derive(Debug, thiserror::Error)]
#[error("interrupted before any test ran")]
pub struct Interrupted;

/// The process exit codes (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Nothing to report.
    Clean = 0,
    /// Findings, or a gate (`--min`, `--fail-on`, `--strict`) failed.
    Findings = 1,
    /// Usage, configuration or input error.
    Usage = 2,
    /// The crate itself does not build before anything is injected.
    BaselineFailed = 4,
    /// A bug in the tool.
    Internal = 70,
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}

/// Bad input from the user: a flag, a manifest, a package name, a config file. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    message: String,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> InputError {
        InputError {
            message: message.into(),
        }
    }
}

/// The exit code an error maps to: after Ctrl-C, whatever stopped the command, the
/// interruption (130); input errors anywhere in the chain are the user's (2), anything else
/// is ours (70).
pub fn exit_code_for(error: &anyhow::Error) -> ExitCode {
    if crate::interrupt::interrupted() || error.chain().any(|cause| cause.is::<Interrupted>()) {
        ExitCode::Interrupted
    } else if error.chain().any(|cause| cause.is::<InputError>()) {
        ExitCode::Usage
    } else {
        ExitCode::Internal
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use anyhow::Context;

    #[test]
    fn input_error_behind_context_is_a_usage_error() {
        let error = Err::<(), _>(InputError::new("bad package"))
            .context("loading workspace")
            .unwrap_err();
        assert_eq!(exit_code_for(&error), ExitCode::Usage);
    }

    #[test]
    fn an_interruption_behind_context_exits_130() {
        let error = anyhow::Error::new(Interrupted).context("interrupted: nothing was checked in");
        assert_eq!(exit_code_for(&error), ExitCode::Interrupted);
    }

    #[test]
    fn other_errors_are_internal() {
        let error = anyhow::anyhow!("disk on fire");
        assert_eq!(exit_code_for(&error), ExitCode::Internal);
    }
}
