//! `nodecheck check`: judge the checks of the phase on the loaded inputs (`inputs::check_report`),
//! render the report, and write the results files.

use std::process::ExitCode;

use super::inputs::{check_report, peer_input_failed};
use crate::cli::CheckArgs;

/// `check` (`check --npd` is `npd::exec`; `commands::run` picks).
pub fn exec(args: CheckArgs, color: bool) -> anyhow::Result<ExitCode> {
    let report = check_report(&args)?;
    crate::output::print_stdout(&crate::report::render(&report, args.format, color))?;
    super::results::write(
        &report,
        args.write_results.as_deref(),
        args.textfile.as_deref(),
    )?;
    // A peer input that could not be used is bad input (exit 2), ahead of failed checks (3).
    if peer_input_failed(&report) {
        return Ok(crate::error::Exit::BadInput.into());
    }
    Ok(report.exit(args.strict).into())
}
