//! `nodecheck baseline record`: save this node's facts at join time.

use std::process::ExitCode;

use crate::cli::BaselineCommand;

pub fn exec(cmd: BaselineCommand) -> anyhow::Result<ExitCode> {
    let _ = cmd;
    anyhow::bail!("baseline is not implemented yet")
}
