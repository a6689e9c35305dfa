//! `cargo dualtrack init`: the two files a team starts from, written only where nothing is:
//! a commented `dualtrack.toml` and a `SPEC.md` template naming the crate's public functions,
//! with the sections `score` and `review` read left empty to fill in.

use std::fmt::Write as _;
use std::path::Path;

use crate::cli::GlobalArgs;
use crate::error::ExitCode;
use crate::output::{Styling, write_atomically};
use crate::workspace::Workspace;

/// The `.gitattributes` line for the ledger: union merges keep both branches' rows.
const LEDGER_ATTRIBUTE: (&str, &str) = (".dualtrack/ledger.csv", "merge=union");

pub fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&global.package_selection(global.workspace))?;
    let mut out = String::new();
    let config = workspace.root.join("dualtrack.toml");
    let cargo_config = workspace.root.join(".cargo").join("dualtrack.toml");
    let present = |path: &Path| path.symlink_metadata().is_ok();
    if let Some(found) = [&config, &cargo_config].into_iter().find(|p| present(p)) {
        let _ = writeln!(out, "kept {}: it exists", shown(&workspace, found));
    } else {
        write_new(&config, crate::config::TEMPLATE)?;
        let _ = writeln!(out, "wrote {}", shown(&workspace, &config));
    }
    // The ledger gains rows on every branch: git merges them by keeping both sides' lines.
    let attributes = workspace.root.join(".gitattributes");
    let existing = crate::input::read_to_string(&attributes).unwrap_or_default();
    if existing
        .lines()
        .any(|l| l.split_whitespace().next() == Some(LEDGER_ATTRIBUTE.0))
    {
        let _ = writeln!(
            out,
            "kept {}: it names the ledger",
            shown(&workspace, &attributes)
        );
    } else {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{} {}\n", LEDGER_ATTRIBUTE.0, LEDGER_ATTRIBUTE.1));
        crate::output::write_atomically(&attributes, &text)?;
        let _ = writeln!(
            out,
            "{} {} (`{} {}`: branches' ledger rows merge without conflict)",
            if existing.is_empty() {
                "wrote"
            } else {
                "added to"
            },
            shown(&workspace, &attributes),
            LEDGER_ATTRIBUTE.0,
            LEDGER_ATTRIBUTE.1
        );
    }
    let existing_spec = ["SPEC.md", "specs", "docs/specs"]
        .iter()
        .map(|p| workspace.root.join(p))
        .find(|p| present(p));
    match existing_spec {
        Some(path) => {
            let _ = writeln!(
                out,
                "kept {}: specs are there already",
                shown(&workspace, &path)
            );
        }
        None => {
            let analysis = crate::analyze::analyze_all(&workspace);
            // A file that does not parse lists nothing: said, so the spec is not thought whole.
            for error in &analysis.errors {
                let _ = writeln!(
                    out,
                    "warning: {}:{}: {}: its functions are not listed",
                    error.file, error.line, error.message
                );
            }
            let public: Vec<&crate::analyze::Function> = analysis
                .functions
                .iter()
                .filter(|f| crate::checkin::in_public_api(&workspace, &analysis, f))
                .collect();
            let name = workspace
                .packages
                .first()
                .map_or("the crate", |p| p.name.as_str());
            let spec = workspace.root.join("SPEC.md");
            write_new(&spec, &crate::spec::template::spec_template(name, &public))?;
            let _ = writeln!(
                out,
                "wrote {} ({} public functions listed)",
                shown(&workspace, &spec),
                public.len()
            );
        }
    }
    out.push_str(
        "next: fill in SPEC.md, then `cargo dualtrack score --all-functions` (what the spec \
         covers; without the flag, the functions it names) and `cargo dualtrack review` (the \
         attack)\n",
    );
    super::emit(global, &out, Styling::Plain)?;
    Ok(ExitCode::Clean)
}

fn shown(workspace: &Workspace, path: &Path) -> String {
    workspace.relative_path(path)
}

/// Write a file that does not exist; one that appeared meanwhile is left alone.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.symlink_metadata().is_ok() {
        return Err(crate::error::InputError::new(format!(
            "{} appeared while init ran: left as it is",
            path.display()
        ))
        .into());
    }
    write_atomically(path, text)
}
