//! `nodecheck facts`: gather and print this host's snapshot as JSON, YAML or tables for a person.

mod table;

use std::process::ExitCode;

use crate::cli::{FactsArgs, FactsFormat};
use crate::error::Exit;

pub fn exec(args: FactsArgs) -> anyhow::Result<ExitCode> {
    let facts = crate::gather::gather_facts()?;
    let text = match args.format {
        FactsFormat::Json => serde_json::to_string_pretty(&facts)? + "\n",
        FactsFormat::Yaml => serde_saphyr::to_string(&facts)?,
        FactsFormat::Table => table::render(&facts),
    };
    crate::output::print_stdout(&text)?;
    Ok(Exit::Ok.into())
}
