//! `cargo dualtrack clean`: remove the scratch copy, its build, and all but the newest runs,
//! under `<target-dir>/dualtrack/` only, with the scratch lock held.

use std::fmt::Write as _;

use anyhow::Context;

use crate::cli::{CleanArgs, GlobalArgs};
use crate::error::ExitCode;
use crate::output::Styling;
use crate::scratch::ScratchArea;
use crate::workspace::Workspace;

pub fn run(global: &GlobalArgs, args: &CleanArgs) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&global.package_selection(true))?;
    let area = ScratchArea::open(&workspace)?;
    let mut removed = Vec::new();
    for dir in [&area.copy, &area.target, &area.tmp] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("failed to remove {}", dir.display()))?;
            removed.push(dir.clone());
        }
    }
    // The fuzz stage's saved corpus goes too: `clean` starts the next run from nothing.
    let corpus = area.root.join("corpus");
    if corpus.exists() {
        std::fs::remove_dir_all(&corpus)
            .with_context(|| format!("failed to remove {}", corpus.display()))?;
        removed.push(corpus);
    }
    for file in ["baseline", "build.json"] {
        let path = area.root.join(file);
        if path.is_file() {
            std::fs::remove_file(&path)
                .with_context(|| format!("failed to remove {}", path.display()))?;
            removed.push(path);
        }
    }
    let runs = area.root.join("runs");
    let mut ids: Vec<String> = match std::fs::read_dir(&runs) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    // Run ids start with the time in seconds: newest last.
    ids.sort_by_key(|id| run_sort_key(id));
    let old = ids.len().saturating_sub(args.keep as usize);
    for id in &ids[..old] {
        let dir = runs.join(id);
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("failed to remove {}", dir.display()))?;
        removed.push(dir);
    }
    // `latest` names the newest run kept, or goes with the last one.
    let latest = runs.join("latest");
    match ids[old..].last() {
        Some(newest) if old > 0 => {
            crate::output::write_atomically(&latest, &format!("{newest}\n"))?
        }
        Some(_) => {}
        None if latest.is_file() => {
            std::fs::remove_file(&latest)
                .with_context(|| format!("failed to remove {}", latest.display()))?;
            removed.push(latest);
        }
        None => {}
    }
    let mut out = String::new();
    for path in &removed {
        let _ = writeln!(out, "removed {}", path.display());
    }
    let _ = writeln!(
        out,
        "kept the newest {} of {} runs in {}",
        ids.len() - old,
        ids.len(),
        runs.display()
    );
    super::emit(global, &out, Styling::Plain)?;
    Ok(ExitCode::Clean)
}

/// `r1796200713-12538` → (1796200713, 12538); anything else sorts first.
fn run_sort_key(id: &str) -> (u64, u64) {
    let rest = id.strip_prefix('r').unwrap_or_default();
    let (seconds, pid) = rest.split_once('-').unwrap_or((rest, "0"));
    (seconds.parse().unwrap_or(0), pid.parse().unwrap_or(0))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn runs_sort_by_time_then_process() {
        let mut ids = vec!["r20-1", "r3-9", "junk", "r20-0"];
        ids.sort_by_key(|id| run_sort_key(id));
        assert_eq!(ids, ["junk", "r3-9", "r20-0", "r20-1"]);
    }
}
