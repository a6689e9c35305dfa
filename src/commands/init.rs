//! `cargo dualtrack init`: the two files a team starts from, written only where nothing is:
//! a commented `dualtrack.toml` and a `SPEC.md` template naming the crate's public functions,
//! with the sections `score` and `review` read left empty to fill in.

use std::fmt::Write as _;
use std::path::Path;

use crate::cli::GlobalArgs;
use crate::error::ExitCode;
use crate::output::{Styling, write_atomically};
use crate::workspace::{PackageSelection, Workspace};

/// Public functions a template's `Target:` line names, at most; past that the line is left
/// as a suggestion (the comment below it lists them all).
const TARGETS_SHOWN: usize = 12;

pub fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&PackageSelection {
        manifest_path: global.manifest_path.clone(),
        packages: global.packages.clone(),
        workspace: global.workspace,
    })?;
    let mut out = String::new();
    let config = workspace.root.join("dualtrack.toml");
    let cargo_config = workspace.root.join(".cargo").join("dualtrack.toml");
    let present = |path: &Path| path.symlink_metadata().is_ok();
    if let Some(found) = [&config, &cargo_config].into_iter().find(|p| present(p)) {
        let _ = writeln!(out, "kept {}: it exists", shown(&workspace, found));
    } else {
        write_new(&config, CONFIG)?;
        let _ = writeln!(out, "wrote {}", shown(&workspace, &config));
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
                .filter(|f| is_public_api(&workspace, &analysis, f))
                .collect();
            let name = workspace
                .packages
                .first()
                .map_or("the crate", |p| p.name.as_str());
            let spec = workspace.root.join("SPEC.md");
            write_new(&spec, &spec_template(name, &public))?;
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

/// A function of a lib's public API: `pub`, in modules declared `pub`, not inside another
/// function (a visitor's methods inside `deserialize`).
fn is_public_api(
    workspace: &Workspace,
    analysis: &crate::analyze::Analysis,
    function: &crate::analyze::Function,
) -> bool {
    let in_lib = workspace
        .target_of(&function.package, &function.path)
        .is_some_and(|(_, target)| target.kind == crate::workspace::TargetKind::Lib);
    let below = function
        .path
        .strip_prefix(&function.module)
        .unwrap_or(&function.path)
        .trim_start_matches("::");
    if function.visibility != "pub"
        || !in_lib
        || crate::analyze::resolve::simple_segments(below).len() > 2
    {
        return false;
    }
    match trait_impl_type(below) {
        // A trait's method on a type is public where the type is, whatever module the impl
        // is written in: not when the type is private to the function's file.
        Some(type_name) => std::fs::read_to_string(workspace.root.join(&function.file))
            .ok()
            .and_then(|source| crate::checkin::private_names(&source, &[]))
            .is_none_or(|private| !private.defined.contains(type_name)),
        None => crate::checkin::modules_public(&workspace.root, analysis, &function.module),
    }
}

/// The type of a trait impl's method path (`<Version as Display>::fmt` → `Version`, without
/// generics or path).
fn trait_impl_type(path: &str) -> Option<&str> {
    let inner = path.strip_prefix('<')?;
    let (ty, _) = inner.split_once(" as ")?;
    let ty = ty.split('<').next().unwrap_or(ty);
    Some(ty.rsplit("::").next().unwrap_or(ty).trim())
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

/// The spec template: a `Target:` line, the public functions in a comment, and the empty
/// sections with an example of each in a comment.
fn spec_template(name: &str, public: &[&crate::analyze::Function]) -> String {
    let mut out = format!("# Feature: {name}\n\n");
    out.push_str(
        "<!-- Written by `cargo dualtrack init`. Say what the code promises: `cargo dualtrack \
         score` links\n     every item below to the branches, guards and panics of the code, \
         and `cargo dualtrack review`\n     attacks what no item covers. Narrow `Target:` to \
         the functions this feature is about. -->\n\n",
    );
    let short: Vec<String> = public
        .iter()
        .filter_map(|f| f.path.rsplit("::").next())
        .map(|n| format!("`{n}`"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // A few functions: the spec is about them. Many: about whichever the user names, so the
    // line is a suggestion (a cut list would leave the rest out of every score).
    match short.len() {
        0 => {}
        n if n <= TARGETS_SHOWN => {
            let _ = writeln!(out, "Target: {}\n", short.join(", "));
        }
        _ => {
            let _ = writeln!(
                out,
                "<!-- Target: {}, ... (name the functions this feature is about) -->\n",
                short[..TARGETS_SHOWN].join(", ")
            );
        }
    }
    if !public.is_empty() {
        out.push_str("<!-- The public functions:\n");
        for function in public {
            let _ = writeln!(
                out,
                "     {}  ({}:{})",
                function.path, function.file, function.line
            );
        }
        out.push_str("-->\n\n");
    }
    out.push_str(
        "## Acceptance criteria\n\
         <!-- - [ ] AC1: `parse` rejects empty input with `Error::Empty`. -->\n\n\
         ## Contracts\n\
         <!-- | call | result |\n     |---|---|\n     | `parse(\"12\")` | `Ok(12)` | -->\n\n\
         ## Known edge cases\n\
         <!-- - `parse` with a value past `i64::MAX` returns `Error::Overflow`. -->\n\n\
         ## Out of scope\n\
         <!-- - Locale-specific formats. -->\n",
    );
    out
}

const CONFIG: &str = r#"# cargo-dualtrack configuration (written by `cargo dualtrack init`). Every key is optional;
# the command line wins over this file. See docs/configuration.md for each.

# Spec files or directories besides SPEC.md, specs/ and docs/specs/.
# spec = ["docs/feature.md"]

# Functions `review` leaves alone (function-path globs, or file globs).
# exclude = ["mycrate::generated::*", "src/bindings/**"]

# Files whose code and specs never go to a model engine.
# never_send = ["src/secret/**"]

# The engine and model when the command line names none: offline (the default, no key),
# openai, openai-chat, anthropic, openai-compatible (with base_url).
# engine = "offline"
# model = "gpt-5.1-codex"
# base_url = "http://localhost:11434/v1"    # openai-compatible only
# max_cost = 2.50                           # dollars per run
# total_timeout = 1800                      # seconds per run
# repair_rounds = 2

# Reviews append a row to .dualtrack/ledger.csv unless this is false.
# ledger = true

# [score]
# min = 80          # minimum site coverage, percent (like --min)
# min_items = 90    # minimum spec item coverage (like --min-items)

# Model prices, dollars per million tokens.
# [prices."qwen3-coder:30b"]
# input = 0.0
# output = 0.0
"#;

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_path_s_segments_are_counted_outside_its_angle_brackets() {
        let segments = |path| crate::analyze::resolve::simple_segments(path).len();
        assert_eq!(segments("parse"), 1);
        assert_eq!(segments("Version::parse"), 2);
        assert_eq!(segments("<Version as std::str::FromStr>::from_str"), 2);
        assert_eq!(
            segments("<V as Deserialize<'de>>::deserialize::<X as Visitor<'de>>::expecting"),
            4
        );
        assert_eq!(segments("<F as Fn(u8) -> u8>::call"), 2);
        assert_eq!(
            trait_impl_type("<Version as Display>::fmt"),
            Some("Version")
        );
        assert_eq!(trait_impl_type("<a::Id<T> as Drop>::drop"), Some("Id"));
        assert_eq!(trait_impl_type("Version::parse"), None);
    }

    #[test]
    fn the_config_template_parses_and_says_nothing() {
        let config = crate::config::Config::parse(CONFIG, Path::new("dualtrack.toml")).unwrap();
        assert_eq!(config, crate::config::Config::default());
    }

    #[test]
    fn the_spec_template_has_no_items_and_says_which_sections_to_fill() {
        let function: crate::analyze::Function = serde_json::from_value(serde_json::json!({
            "path": "c::money::parse", "package": "c", "file": "src/money.rs", "line": 3,
            "end_line": 9, "visibility": "pub", "sites": []
        }))
        .unwrap();
        let text = spec_template("c", &[&function]);
        assert!(text.contains("Target: `parse`\n"), "{text}");
        assert!(text.contains("c::money::parse  (src/money.rs:3)"), "{text}");
        let (spec, warnings) = crate::spec::parse::parse_spec(&text, "SPEC.md");
        assert!(spec.items.is_empty(), "{:?}", spec.items);
        // What `score` says until the sections are filled in: nothing else.
        let said: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            said,
            [
                "the Acceptance criteria section has no items",
                "the Contracts section has no items",
                "the Edge cases section has no items",
                "the Out of scope section has no items"
            ]
        );
    }
}
