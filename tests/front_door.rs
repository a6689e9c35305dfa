//! The front door, as a new user meets it: colours only where they belong, global options
//! before or after the subcommand, usage errors (unknown features, `--fn` matching nothing)
//! exiting 2, `clean` and `latest` agreeing, counts in correct English. Each runs the binary.

use std::io::Read as _;
use std::path::Path;
use std::process::Stdio;

mod util;
use util::{copy_fixture, dualtrack, fixture};

/// Whether `text` holds a colour or weight (an SGR escape: `ESC [ ... m`); cursor movement
/// a progress bar needs is not one.
fn has_sgr(text: &str) -> bool {
    text.match_indices("\u{1b}[").any(|(at, _)| {
        text[at + 2..]
            .chars()
            .find(|c| !(c.is_ascii_digit() || *c == ';'))
            == Some('m')
    })
}

/// `review -v` of one function of the ledger fixture, stderr to a pipe, with `extra` flags and
/// `env`; NO_COLOR is not set.
fn review_piped(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = dualtrack();
    command
        .env_remove("NO_COLOR")
        // The environment the tests run in may choose for them (CI sets CARGO_TERM_COLOR).
        .env_remove("CARGO_TERM_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .args([
            "review",
            "-v",
            "--fn",
            "ledger::split_evenly",
            "--fail-on",
            "never",
        ])
        .args(extra)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"));
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn no_colour_reaches_a_redirected_stream_unless_asked() {
    let dir = copy_fixture("ledger");
    for (extra, env) in [
        (&["--color", "never"][..], &[][..]),
        (&[][..], &[][..]),
        (&[][..], &[("CARGO_TERM_COLOR", "never")][..]),
    ] {
        let output = review_piped(dir.path(), extra, env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("tests:") || stderr.contains("tests,"),
            "{stderr}"
        );
        assert!(!stderr.contains('\u{1b}'), "{extra:?} {env:?}: {stderr:?}");
        assert!(!String::from_utf8_lossy(&output.stdout).contains('\u{1b}'));
    }
    // The check sees colour where there is some.
    let forced = review_piped(dir.path(), &["--color", "always"], &[]);
    assert!(has_sgr(&String::from_utf8_lossy(&forced.stderr)));
    let forced = review_piped(dir.path(), &[], &[("CARGO_TERM_COLOR", "always")]);
    assert!(has_sgr(&String::from_utf8_lossy(&forced.stderr)));
}

/// Run `dualtrack ARGS` with stdout and stderr on a pseudo-terminal; what the terminal got.
fn on_a_terminal(args: &[&str], dir: &Path) -> String {
    on_a_terminal_answering(args, dir, &[])
}

/// Run `dualtrack ARGS` on a pseudo-terminal, stdin too, typing `answers` one by one, each when
/// a walk's prompt (`[q]uit > `) appears; what the terminal got.
fn on_a_terminal_answering(args: &[&str], dir: &Path, answers: &[&str]) -> String {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors it opened into the pointers given.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty failed");
    use std::os::fd::FromRawFd as _;
    // SAFETY: both descriptors are open and owned by nothing else.
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::os::fd::OwnedFd::from_raw_fd(slave),
        )
    };
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-dualtrack"));
    let stdin = if answers.is_empty() {
        Stdio::null()
    } else {
        Stdio::from(slave.try_clone().unwrap())
    };
    command
        .args(args)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env_remove("NO_COLOR")
        .env_remove("CARGO_TERM_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CARGO_TARGET_DIR")
        .env("TERM", "xterm-256color")
        .stdin(stdin)
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = command.spawn().unwrap();
    // The parent's ends of the terminal go, so that reading ends when the child's do.
    drop(command);
    let mut typist = master.try_clone().unwrap();
    let answers: Vec<String> = answers.iter().map(|a| a.to_string()).collect();
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        let mut typed = 0;
        // Linux answers EIO once every writer has closed: the end.
        while let Ok(n) = master.read(&mut buffer) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buffer[..n]);
            let prompts = String::from_utf8_lossy(&seen).matches("[q]uit > ").count();
            while typed < prompts.min(answers.len()) {
                std::io::Write::write_all(&mut typist, answers[typed].as_bytes()).unwrap();
                typed += 1;
            }
        }
        seen
    });
    child.wait().unwrap();
    String::from_utf8_lossy(&reader.join().unwrap()).into_owned()
}

#[test]
fn color_never_draws_progress_on_a_terminal_without_colour() {
    let dir = copy_fixture("ledger");
    let args = [
        "review",
        "--fn",
        "ledger::split_evenly",
        "--fail-on",
        "never",
    ];
    let plain = on_a_terminal(&[&args[..], &["--color", "never"]].concat(), dir.path());
    assert!(plain.contains("review:"), "{plain:?}");
    assert!(!has_sgr(&plain), "{plain:?}");
    let coloured = on_a_terminal(&args, dir.path());
    assert!(
        has_sgr(&coloured),
        "a terminal gets colour by default: {coloured:?}"
    );
}

#[test]
fn global_options_go_before_or_after_the_subcommand() {
    let manifest = fixture("planted/Cargo.toml");
    for args in [
        vec![
            "--manifest-path",
            manifest.to_str().unwrap(),
            "analyze",
            "--format",
            "json",
        ],
        vec![
            "analyze",
            "--format",
            "json",
            "--manifest-path",
            manifest.to_str().unwrap(),
        ],
    ] {
        let output = dualtrack().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        let document = util::checked(&output.stdout).unwrap();
        assert!(!document["functions"].as_array().unwrap().is_empty());
    }
    // `review`'s own flags belong to `review`: before another subcommand they are an error.
    let output = dualtrack()
        .args(["--all-functions", "analyze", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`--all-functions` is a flag of `review`"),
        "{stderr}"
    );
}

/// `COMMAND FLAGS` on the planted fixture, which must exit 2; what it said.
fn usage_error(command: &[&str], flags: &[&str]) -> String {
    usage_error_in(&[command, flags].concat(), "planted")
}

#[test]
fn an_unknown_feature_is_a_usage_error() {
    for command in [
        &["analyze"][..],
        &["score", "--all-functions"][..],
        &["review", "--all-functions"][..],
    ] {
        let stderr = usage_error(command, &["--features", "nosuchfeat"]);
        assert!(stderr.contains("`nosuchfeat`"), "{stderr}");
        assert!(
            !stderr.contains("scratch"),
            "no word of the scratch copy: {stderr}"
        );
    }
}

#[test]
fn a_function_filter_that_matches_nothing_is_a_usage_error_everywhere() {
    for command in [
        &["analyze"][..],
        &["score"][..],
        &["review"][..],
        &["generate"][..],
    ] {
        let stderr = usage_error(command, &["--fn", "nonexistent"]);
        assert!(
            stderr.contains("no function matches"),
            "{command:?}: {stderr}"
        );
    }
}

/// A run directory holding a minimal report.
fn fake_run(runs: &Path, id: &str) {
    std::fs::create_dir_all(runs.join(id)).unwrap();
    std::fs::write(
        runs.join(id).join("report.json"),
        serde_json::json!({"schema": "dualtrack.review/v1", "run_id": id, "scope": "review",
                           "engine": "offline", "findings": []})
        .to_string(),
    )
    .unwrap();
}

#[test]
fn clean_keeps_latest_naming_a_run_that_exists() {
    let dir = copy_fixture("ledger");
    let runs = dir.path().join("target/dualtrack/runs");
    fake_run(&runs, "r100-1");
    fake_run(&runs, "r200-1");
    std::fs::write(runs.join("latest"), "r100-1\n").unwrap();
    let clean = |keep: &str| {
        dualtrack()
            .args(["clean", "--keep", keep, "--manifest-path"])
            .arg(dir.path().join("Cargo.toml"))
            .output()
            .unwrap()
    };
    let says_no_review_ran = || {
        let list = dualtrack()
            .args(["reconcile", "--list", "--manifest-path"])
            .arg(dir.path().join("Cargo.toml"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&list.stderr);
        assert_eq!(list.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("no review has run here yet"), "{stderr}");
    };
    assert_eq!(clean("1").status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(runs.join("latest")).unwrap(),
        "r200-1\n"
    );
    assert_eq!(clean("0").status.code(), Some(0));
    assert!(!runs.join("latest").exists());
    says_no_review_ran();
    // `latest` left naming a run removed by hand says the same.
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::write(runs.join("latest"), "r300-1\n").unwrap();
    says_no_review_ran();
}

/// `run-tests FLAGS` of the one-test file `tests/data/ledger_method_sequence.rs` on a copy of
/// the ledger fixture.
fn run_one_test(flags: &[&str]) -> std::process::Output {
    let dir = copy_fixture("ledger");
    dualtrack()
        .arg("run-tests")
        .args(flags)
        .arg(fixture("../tests/data/ledger_method_sequence.rs"))
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap()
}

#[test]
fn one_of_a_thing_is_said_in_the_singular() {
    let output = run_one_test(&["-v"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("1 test, "), "{text}");
    assert!(text.contains("(1 build round,"), "{text}");
    for wrong in ["1 tests", "1 build rounds", "1 functions"] {
        assert!(!text.contains(wrong), "{wrong}: {text}");
    }
}

#[test]
fn the_rerun_line_works_from_a_checkout_before_any_install() {
    let dir = copy_fixture("ledger");
    let review = |env: &[(&str, &str)]| {
        let mut command = dualtrack();
        command
            .args(["review", "--fn", "ledger::split_evenly", "--format", "json"])
            .arg("--manifest-path")
            .arg(dir.path().join("Cargo.toml"));
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().unwrap();
        let document = util::checked(&output.stdout).unwrap();
        document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|f| f["reproduce"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&output.stderr)))
    };
    // Installed: the subcommand.
    assert!(review(&[]).starts_with("cargo dualtrack run-tests "));
    // Under `cargo run` in a checkout (cargo sets these): the same `cargo run`.
    let rerun = review(&[
        ("CARGO_PKG_NAME", "cargo-dualtrack"),
        ("CARGO_MANIFEST_DIR", "/src/cargo-dualtrack"),
    ]);
    assert!(
        rerun.starts_with(
            "cargo run --manifest-path /src/cargo-dualtrack/Cargo.toml -- dualtrack run-tests "
        ),
        "{rerun}"
    );
}

#[test]
fn review_ends_with_the_next_step_and_sums_up_spec_gaps() {
    let dir = copy_fixture("ledger");
    let review = |extra: &[&str]| {
        let output = dualtrack()
            .args(["review", "--all-functions", "--fail-on", "never"])
            .args(extra)
            .arg("--manifest-path")
            .arg(dir.path().join("Cargo.toml"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let text = review(&[]);
    assert!(
        text.contains("next: `cargo dualtrack reconcile` walks the 4 findings"),
        "{text}"
    );
    // The summary's failing tests are the table's, summed.
    let table_failing: u32 = text
        .lines()
        .skip_while(|line| !line.contains("tests  failing  dropped"))
        .skip(1)
        .map_while(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            columns.get(1)?.parse::<u32>().ok()
        })
        .sum();
    assert!(table_failing > 0, "{text}");
    assert!(
        text.contains(&format!("passed, {table_failing} failing (")),
        "{table_failing} failing in the table: {text}"
    );
    // The gaps in one line, not one line each.
    assert!(!text.contains("unspecified site "), "{text}");
    assert!(text.contains("32 spec gaps"), "{text}");
    assert!(text.contains("here with --gaps or -v"), "{text}");
    let listed = review(&["--gaps"]);
    assert!(listed.contains("unspecified site "), "{listed}");
    assert!(listed.contains("more spec gaps in report.md"), "{listed}");
}

#[test]
fn an_unclosed_bracket_is_placed_where_rustc_places_it() {
    let dir = copy_fixture("ledger");
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    // A function whose body is never closed, after the crate's own code.
    let broken = format!(
        "{text}\npub fn clamp_small(x: u8) -> u8 {{\n    if x > 9 {{\n        9\n    }} else {{\n        x\n    }}\n"
    );
    std::fs::write(&lib, &broken).unwrap();
    // Where rustc points: the `{` that opens the unclosed body.
    let line = broken
        .lines()
        .position(|l| l.starts_with("pub fn clamp_small"))
        .unwrap()
        + 1;
    let column = "pub fn clamp_small(x: u8) -> u8 {".len();
    let output = dualtrack()
        .args(["analyze", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains(&format!(
            "src/lib.rs:{line}:{column}: does not parse: unclosed delimiter `{{`"
        )),
        "{line}:{column}: {stdout}"
    );
    assert!(
        stdout.contains("    | ") && stdout.contains('^'),
        "a snippet: {stdout}"
    );
    assert!(
        stderr.contains("functions skipped (--strict makes that exit 2)"),
        "{stderr}"
    );
    let strict = dualtrack()
        .args(["analyze", "--strict", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
}

#[test]
fn score_is_compact_like_review_and_says_what_next() {
    let output = dualtrack()
        .args(["score", "--manifest-path"])
        .arg(fixture("ledger/Cargo.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let listed = text
        .split("Unspecified sites")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.contains("#"))
        .count();
    assert_eq!(listed, 10, "{text}");
    assert!(text.contains("more: --gaps lists them all"), "{text}");
    assert!(
        text.contains("next: write items for the unspecified sites"),
        "{text}"
    );
}

#[test]
fn short_help_is_short_and_says_where_review_s_flags_are() {
    let help = |args: &[&str]| {
        let output = dualtrack().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let short = help(&["-h"]);
    assert!(
        short.lines().count() <= 60,
        "{} lines:\n{short}",
        short.lines().count()
    );
    assert!(
        short.contains("`cargo dualtrack review -h` lists its flags"),
        "{short}"
    );
    assert!(!short.contains("--all-functions"), "{short}");
    assert!(help(&["--help"]).contains("--all-functions"));
    assert!(help(&["review", "-h"]).contains("--all-functions"));
    // Where `reconcile --keep` puts a test, as it does (tests/reconcile.rs checks the places).
    let reconcile = help(&["reconcile", "--help"]);
    assert!(
        reconcile.contains("tests/dualtrack_money.rs") && reconcile.contains("dualtrack_tests.rs"),
        "{reconcile}"
    );
}

#[test]
fn commands_that_build_nothing_do_not_offer_features() {
    let help = |command: &str| {
        let output = dualtrack().args([command, "--help"]).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    for command in ["init", "stats", "clean"] {
        assert!(!help(command).contains("--features"), "{command}");
    }
    for command in ["review", "analyze", "run-tests"] {
        assert!(help(command).contains("--features"), "{command}");
    }
}

#[test]
fn a_deprecated_spelling_still_works_and_says_the_new_one() {
    let output = run_one_test(&["--no-sandbox"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: --no-sandbox is deprecated: use --sandbox none"),
        "{stderr}"
    );
    assert!(output.status.code().is_some_and(|c| c <= 1), "{stderr}");
    let help = dualtrack().args(["run-tests", "--help"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("--no-sandbox"));
}

#[test]
fn exclude_and_target_dir_mean_what_they_mean_to_cargo() {
    let packages = |extra: &[&str]| {
        let output = dualtrack()
            .args(["analyze", "--format", "json", "--workspace"])
            .args(extra)
            .arg("--manifest-path")
            .arg(fixture("multi/Cargo.toml"))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let document = util::checked(&output.stdout).unwrap();
        document["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["package"].as_str().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let all = packages(&[]);
    assert_eq!(all.len(), 2, "{all:?}");
    let first = all.iter().next().unwrap().clone();
    let rest = packages(&["--exclude", &first]);
    assert!(!rest.contains(&first) && rest.len() == 1, "{rest:?}");
    let stderr = usage_error_in(
        &["analyze", "--workspace", "--exclude", "nosuchpkg"],
        "multi",
    );
    assert!(stderr.contains("--exclude nosuchpkg"), "{stderr}");
    // Without --workspace there is nothing to exclude from: as cargo, a usage error.
    usage_error_in(&["analyze", "--exclude", &first], "multi");

    let dir = copy_fixture("ledger");
    let target = tempfile::tempdir().unwrap();
    let output = dualtrack()
        .args([
            "review",
            "--fn",
            "ledger::split_evenly",
            "--fail-on",
            "never",
            "--target-dir",
        ])
        .arg(target.path())
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(target.path().join("dualtrack/runs/latest").is_file());
    assert!(!dir.path().join("target/dualtrack/runs").exists());
}

/// `ARGS` on the fixture `name`, which must exit 2; what it said.
fn usage_error_in(args: &[&str], name: &str) -> String {
    let output = dualtrack()
        .args(args)
        .arg("--manifest-path")
        .arg(fixture(&format!("{name}/Cargo.toml")))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    stderr
}

#[test]
fn the_walk_takes_a_key_without_enter() {
    let dir = copy_fixture("ledger");
    let manifest = dir.path().join("Cargo.toml");
    let review = util::dualtrack_on(
        &manifest,
        &["review", "--all-functions", "--fail-on", "never", "-q"],
    );
    assert!(review.status.success(), "{review:?}");
    // One key for the first finding, no Enter; `q` ends the walk.
    let shown = on_a_terminal_answering(&["reconcile"], dir.path(), &["l", "q"]);
    assert!(shown.contains("[1/"), "{shown}");
    assert!(
        shown.contains("[2/"),
        "the first key was not taken alone: {shown}"
    );
    let decisions = std::fs::read_to_string(dir.path().join(".dualtrack/decisions.toml"))
        .unwrap_or_else(|e| panic!("no decision was recorded ({e}): {shown}"));
    assert_eq!(
        decisions.matches("decision = \"deferred\"").count(),
        1,
        "{decisions}"
    );
    assert_eq!(decisions.matches("decision = ").count(), 1, "{decisions}");
}

#[test]
fn locked_offline_and_frozen_reach_every_cargo_as_cargo_reads_them() {
    // The fixture has no lock file: cargo would have to write one.
    let dir = copy_fixture("ledger");
    let manifest = dir.path().join("Cargo.toml");
    let review = [
        "review",
        "--fn",
        "ledger::split_evenly",
        "--fail-on",
        "never",
        "-q",
    ];
    for flag in ["--locked", "--frozen"] {
        let output = util::dualtrack_on(&manifest, &[&review[..], &[flag]].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains(&format!("Cargo.lock is missing or out of date, and {flag}")),
            "{stderr}"
        );
        assert!(!stderr.contains("scratch/"), "{stderr}");
        assert!(!dir.path().join("Cargo.lock").exists());
    }
    // Global flags, before the command too.
    let output = util::dualtrack_on(&manifest, &["--locked", "analyze", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    // With the lock file in place, --locked is satisfied.
    let generated = std::process::Command::new("cargo")
        .args(["generate-lockfile", "--offline", "--manifest-path"])
        .arg(&manifest)
        .status()
        .unwrap();
    assert!(generated.success());
    let output = util::dualtrack_on(&manifest, &[&review[..], &["--locked"]].concat());
    assert_eq!(output.status.code(), Some(0), "{output:?}");

    // --offline: a dependency that is nowhere local is not looked for on the network.
    let dir = util::one_file_crate(
        "[package]\nname = \"needs_a_crate\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\ndualtrack-no-such-crate-anywhere = \"1\"\n\n[workspace]\n",
        "pub fn half(x: u8) -> u8 {\n    x / 2\n}\n",
    );
    let output = util::dualtrack_on(
        &dir.path().join("Cargo.toml"),
        &["review", "--all-functions", "--offline", "-q"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("offline mode"), "{stderr}");
}

#[test]
fn dash_j_means_jobs_in_every_command() {
    let helps: Vec<String> = ["analyze", "review", "run-tests", "generate", "score"]
        .iter()
        .map(|command| {
            let output = dualtrack().args([command, "--help"]).output().unwrap();
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            // The words from the flag to the end of its description, however they wrap.
            let words: Vec<&str> = text.split_whitespace().collect();
            let start = words.iter().position(|w| *w == "--jobs").unwrap();
            let end = start
                + words[start..]
                    .iter()
                    .position(|w| w.ends_with("core)"))
                    .unwrap();
            words[start..=end].join(" ")
        })
        .collect();
    assert!(
        helps[0].contains("Parallel jobs, as for cargo"),
        "{helps:?}"
    );
    assert!(helps.iter().all(|help| help == &helps[0]), "{helps:?}");
    let manifest = fixture("ledger/Cargo.toml");
    for args in [&["-j", "1", "analyze"][..], &["analyze", "--jobs=2"][..]] {
        let output = util::dualtrack_on(&manifest, &[args, &["-q"]].concat());
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
    }
    let stderr = usage_error(&["analyze"], &["-j", "0"]);
    assert!(stderr.contains("-j"), "{stderr}");
}

#[test]
fn tests_per_fn_is_an_alias_of_max_per_fn_that_says_so() {
    let generate = |flag: &str| {
        let output = util::dualtrack_on(
            &fixture("ledger/Cargo.toml"),
            &[
                "generate",
                "--fn",
                "ledger::split_evenly",
                "--format",
                "json",
                flag,
                "2",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let tests = document["tests"].as_array().unwrap().len();
        (tests, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (tests, stderr) = generate("--max-per-fn");
    assert_eq!(tests, 2);
    assert!(!stderr.contains("deprecated"), "{stderr}");
    let (tests, stderr) = generate("--tests-per-fn");
    assert_eq!(tests, 2, "the old spelling still limits the tests");
    assert!(
        stderr.contains("warning: --tests-per-fn is deprecated: use --max-per-fn"),
        "{stderr}"
    );
    let help = dualtrack().args(["generate", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(!help.contains("--tests-per-fn"), "{help}");
    assert!(help.contains("--max-per-fn"), "{help}");
}
