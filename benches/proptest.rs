//! The fuzz stage against a proptest harness written by hand, on four registry functions: in
//! the same time, the inputs each runs, the sites each reaches (both counted by the site
//! probes, in the same scratch copy) and the first crash each finds, with its input. Two of
//! the functions hold a known bug: chrono 0.4.28's RFC 3339 parser slices a string at a byte
//! that is not a char boundary, rust_decimal 1.5.0's `from_str_radix` subtracts past zero.
//!
//! The proptest harness is what a user who knows the input format would write: any string,
//! or one shaped like the format (not shaped after the known bug), run for the same time as
//! the fuzz stage, with proptest's deterministic runner. It needs `proptest` from the registry: without network, the
//! benchmark says so and stops.

use std::path::{Path, PathBuf};
use std::process::Command;

mod util;
use util::{copy, succeed};

#[path = "../tests/util/registry.rs"]
mod registry;
use registry::registry_crate;

/// Seconds per run, for each side.
const TIMES: [u64; 2] = [5, 30];

/// A registry function, the fuzz stage's name for it, and the proptest harness's strategy
/// and call (as Rust, inside the function's own module).
struct Target {
    name: &'static str,
    version: &'static str,
    function: &'static str,
    strategy: &'static str,
    call: &'static str,
}

const TARGETS: [Target; 4] = [
    Target {
        name: "semver",
        version: "=1.0.28",
        function: "semver::Version::parse",
        strategy: r#"prop_oneof![
            "\\PC*",
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(-[0-9A-Za-z.-]{0,10})?(\\+[0-9A-Za-z.-]{0,10})?",
        ]"#,
        call: "|s: String| { let _ = crate::Version::parse(&s); }",
    },
    Target {
        name: "shlex",
        version: "=2.0.1",
        function: "shlex::split",
        strategy: r#"prop_oneof!["\\PC*", "[a-z \"'\\\\$#\n]{0,20}"]"#,
        call: "|s: String| { let _ = crate::split(&s); }",
    },
    Target {
        name: "chrono",
        version: "=0.4.28",
        function: "chrono::format::parse::<DateTime as str::FromStr>::from_str",
        strategy: r#"prop_oneof![
            "\\PC*",
            "[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}[T ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
        ]"#,
        call: "|s: String| { let _ = <crate::DateTime<crate::FixedOffset> as ::core::str::FromStr>::from_str(&s); }",
    },
    Target {
        name: "rust_decimal",
        version: "=1.5.0",
        function: "rust_decimal::decimal::<Decimal as Num>::from_str_radix",
        strategy: r#"(prop_oneof!["\\PC*", "-?[0-9a-z]{0,30}(\\.[0-9a-z]{0,10})?"], 2u32..=36)"#,
        call: "|(s, radix): (String, u32)| { let _ = <crate::Decimal as ::num_traits::Num>::from_str_radix(&s, radix); }",
    },
];

fn main() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "\nthe fuzz stage (`fuzz --fn F --time T --fresh`) against a proptest harness by hand"
    );
    println!(
        "  {:<58} {:>4} {:>10} {:>6} {:>24}",
        "function", "time", "inputs", "sites", "first crash"
    );
    for target in &TARGETS {
        let Some(source) = registry_crate(dir.path(), target.name, target.version) else {
            println!("  {}: not in the registry here, skipped", target.name);
            continue;
        };
        let Some(root) = with_proptest(&source, dir.path(), target.name) else {
            println!("  proptest could not be fetched (no network?): stopped");
            return;
        };
        for seconds in TIMES {
            let fuzzed = fuzz(&root, target.function, seconds);
            let proptested = proptest(&root, target, seconds, dir.path());
            for (who, side) in [("fuzz stage", fuzzed), ("proptest", proptested)] {
                println!(
                    "  {:<58} {:>3}s {:>10} {:>6} {:>24}",
                    format!("{} ({who})", target.function),
                    seconds,
                    side.runs,
                    side.sites,
                    side.first_crash
                        .as_ref()
                        .map_or("none".to_owned(), |(run, ms)| format!(
                            "input {run} at {:.1} s",
                            *ms as f64 / 1000.0
                        )),
                );
                if let Some(input) = side.crash_input {
                    println!("  {:<58} {:>4} {input}", "", "");
                }
            }
        }
    }
}

/// A copy of the crate at `source` with its own workspace and `proptest` as a dev-dependency,
/// its lock file made; `None` when the registry cannot be reached.
fn with_proptest(source: &Path, scratch: &Path, name: &str) -> Option<PathBuf> {
    let root = scratch.join(format!("crate-{name}"));
    copy(source, &root);
    let manifest = root.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    if !text.contains("[workspace]") {
        text.push_str("\n[workspace]\n");
    }
    text.push_str("\n[dev-dependencies.proptest]\nversion = \"1\"\n");
    std::fs::write(&manifest, text).unwrap();
    let _ = std::fs::remove_file(root.join("Cargo.lock"));
    let fetched = Command::new(env!("CARGO"))
        .arg("fetch")
        .arg("--manifest-path")
        .arg(&manifest)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .ok()?;
    fetched.success().then_some(root)
}

#[derive(Default)]
struct Side {
    runs: u64,
    sites: u64,
    /// The input's number and the milliseconds to it.
    first_crash: Option<(u64, u64)>,
    crash_input: Option<String>,
}

fn fuzz(root: &Path, function: &str, seconds: u64) -> Side {
    let output = succeed(
        Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
            .args(["fuzz", "--fn", function, "--time"])
            .arg(format!("{seconds}s"))
            .args(["--fresh", "--fail-on", "never", "--format", "json", "-q"])
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .env_remove("CARGO_TARGET_DIR"),
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let harness = document["fuzz"]["harnesses"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["function"] == function).cloned())
        .unwrap_or_default();
    let crash_input = document["tests"]
        .as_array()
        .and_then(|tests| tests.iter().find(|t| t["category"] == "fuzz"))
        .map(|t| {
            format!(
                "{} at {}",
                t["input"].as_str().unwrap_or(""),
                t["location"].as_str().unwrap_or("")
            )
        });
    Side {
        runs: harness["runs"].as_u64().unwrap_or(0),
        sites: harness["sites_reached"].as_u64().unwrap_or(0),
        first_crash: harness["first_crash_run"]
            .as_u64()
            .map(|run| (run, harness["first_crash_ms"].as_u64().unwrap_or(0))),
        crash_input,
    }
}

/// Run the hand-written proptest harness for `seconds` as a test of the crate, through
/// `run-tests`: its sites by the same probes, its counts in the message it ends with.
fn proptest(root: &Path, target: &Target, seconds: u64, scratch: &Path) -> Side {
    let module = scratch.join(format!("proptest_{}_{seconds}.rs", target.name));
    std::fs::write(&module, harness(target, seconds)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
        .arg("run-tests")
        .arg(&module)
        .args(["--format", "json", "--reruns", "0", "--timeout"])
        .arg(format!("{}s", seconds + 60))
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(&output.stdout) else {
        panic!("{}", String::from_utf8_lossy(&output.stderr));
    };
    let test = &document["tests"][0];
    let message = test["message"].as_str().unwrap_or_default();
    let field = |key: &str| -> Option<String> {
        let start = message.find(&format!("{key}="))? + key.len() + 1;
        let rest = &message[start..];
        Some(rest[..rest.find('\t').unwrap_or(rest.len())].to_owned())
    };
    let number = |key: &str| field(key).and_then(|v| v.parse::<u64>().ok());
    assert!(
        number("runs").is_some(),
        "the proptest harness did not report: {} {message}",
        test["outcome"]
    );
    Side {
        runs: number("runs").unwrap_or(0),
        sites: test["reached"].as_array().map_or(0, |r| r.len() as u64),
        first_crash: number("first_crash_run")
            .filter(|&run| run > 0)
            .map(|run| (run, number("first_crash_ms").unwrap_or(0))),
        crash_input: field("input").filter(|i| !i.is_empty()),
    }
}

/// The harness as a test module for `run-tests`: it generates values with proptest's
/// deterministic runner until the time is up, runs each under `catch_unwind`, and fails at
/// the end with its counts (the only way a test's words reach the report).
fn harness(target: &Target, seconds: u64) -> String {
    format!(
        r#"//! dualtrack: {{"engine": "proptest"}}

/// dualtrack: {{"function": "{function}"}}
#[test]
fn proptest_by_hand() {{
    use ::proptest::prelude::*;
    use ::proptest::strategy::ValueTree;
    let strategy = {strategy};
    let call = {call};
    let mut runner = ::proptest::test_runner::TestRunner::deterministic();
    static PLACE: ::std::sync::Mutex<String> = ::std::sync::Mutex::new(String::new());
    let hook = ::std::panic::take_hook();
    ::std::panic::set_hook(Box::new(|info| {{
        if let (Some(at), Ok(mut place)) = (info.location(), PLACE.lock()) {{
            *place = format!("{{}}:{{}}", at.file(), at.line());
        }}
    }}));
    let start = ::std::time::Instant::now();
    let (mut runs, mut first, mut input) = (0u64, (0u64, 0u128), String::new());
    while start.elapsed() < ::std::time::Duration::from_secs({seconds}) {{
        let value = strategy.new_tree(&mut runner).unwrap().current();
        runs += 1;
        let shown = format!("{{:?}}", value);
        let failed = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| call(value))).is_err();
        if failed && first.0 == 0 {{
            first = (runs, start.elapsed().as_millis());
            input = format!("{{}} at {{}}", shown, PLACE.lock().map(|p| p.clone()).unwrap_or_default());
        }}
    }}
    ::std::panic::set_hook(hook);
    panic!("runs={{}}\tfirst_crash_run={{}}\tfirst_crash_ms={{}}\tinput={{}}", runs, first.0, first.1, input);
}}
"#,
        function = target.function,
        strategy = target.strategy,
        call = target.call,
    )
}
