//! `nodecheck calico`: predict calico-node's address choice and recommend a method.

use std::process::ExitCode;

use crate::cli::CalicoArgs;

pub fn exec(args: CalicoArgs, color: bool) -> anyhow::Result<ExitCode> {
    let _ = (args, color);
    anyhow::bail!("calico is not implemented yet")
}
