//! `cargo dualtrack stats`: the ledger read back, per engine, model or task.

use crate::cli::{GlobalArgs, StatsArgs, StatsBy, StatsFormat};
use crate::error::ExitCode;
use crate::ledger::{self, GroupBy};
use crate::output::Styling;
use crate::workspace::Workspace;

pub fn run(global: &GlobalArgs, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&global.package_selection(true))?;
    let rows = ledger::read(&ledger::path(&workspace.root))?;
    let by = match args.by {
        StatsBy::Engine => GroupBy::Engine,
        StatsBy::Model => GroupBy::Model,
        StatsBy::Task => GroupBy::Task,
    };
    let stats = ledger::stats(&rows, args.since.as_deref(), by);
    let text = match args.format {
        StatsFormat::Human => ledger::stats_human(&stats, by),
        StatsFormat::Csv => ledger::stats_csv(&stats),
        StatsFormat::Json => {
            let mut json = serde_json::to_string_pretty(&serde_json::json!({
                "schema": "dualtrack.stats/v1",
                "since": args.since,
                "groups": stats,
            }))?;
            json.push('\n');
            json
        }
    };
    super::emit(global, &text, Styling::Plain)?;
    Ok(ExitCode::Clean)
}
