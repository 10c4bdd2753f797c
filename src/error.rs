//! Error types shared by the library, and the process exit-code contract they map to.
//!
//! Exit codes are a public contract (README, `--help`, man page) and never change:
//! 0 no check failed, 1 the tool itself failed, 2 bad input, 3 at least one check failed
//! (with `--strict`: or warned).

use std::process::ExitCode;

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    ToolFailed = 1,
    BadInput = 2,
    ChecksFailed = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Input the operator gave us is wrong: a profile, a peer or facts file, a flag value.
/// Maps to exit code 2. The message is complete and meant to be shown as it is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl BadInput {
    pub fn new(message: impl Into<String>) -> BadInput {
        BadInput(message.into())
    }
}

/// An error that knows which documented exit code it ends the process with: bad input (2) when
/// the operator named something that cannot be used, the tool failed (1) when an operation did
/// not succeed.
pub trait ExitStatus {
    fn exit(&self) -> Exit;
}

impl ExitStatus for BadInput {
    fn exit(&self) -> Exit {
        Exit::BadInput
    }
}
