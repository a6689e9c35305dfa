//! What the sandboxes keep, measured: hostile tests run by `run-tests` under each mechanism
//! that works here (bubblewrap when installed, the built-in one always on Linux, and as root
//! when CI runs as root), each attack a test that passes only when it is contained; the user's
//! tree byte-identical with its modes and mtimes, host files, sockets and processes untouched.

#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

mod util;
use util::{copy_fixture, dualtrack};

/// Every file and directory under `root` (but `target/`, whose making changes the root's
/// mtime, as cargo's does) with its content, mode and mtime.
fn tree_state(root: &Path) -> BTreeMap<String, String> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .flatten()
        .filter(|e| !e.path().strip_prefix(root).unwrap().starts_with("target"))
        .map(|e| {
            let metadata = std::fs::symlink_metadata(e.path()).unwrap();
            let digest = if metadata.is_file() {
                let digest = Sha256::digest(std::fs::read(e.path()).unwrap());
                digest.iter().map(|b| format!("{b:02x}")).collect()
            } else {
                String::new()
            };
            (
                e.path().strip_prefix(root).unwrap().display().to_string(),
                format!(
                    "{digest} mode {:o} mtime {}.{}",
                    metadata.mode(),
                    metadata.mtime(),
                    metadata.mtime_nsec()
                ),
            )
        })
        .collect()
}

fn mechanisms() -> Vec<&'static str> {
    let bwrap = std::process::Command::new("bwrap")
        .args(["--unshare-all", "--unshare-user", "--disable-userns"])
        .args(["--ro-bind", "/", "/", "--cap-drop", "ALL", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let mut mechanisms = vec!["builtin"];
    // Run as root, bubblewrap is refused (it would leave tests host root).
    // SAFETY: geteuid has no preconditions.
    if bwrap && unsafe { libc::geteuid() } != 0 {
        mechanisms.push("bwrap");
    } else {
        eprintln!("bubblewrap is not available to this user: it is not checked");
    }
    mechanisms
}

#[test]
fn hostile_tests_are_contained_under_every_mechanism() {
    for mechanism in mechanisms() {
        let dir = copy_fixture("ledger");
        let outside = tempfile::tempdir().unwrap();
        let secret = "dualtrack-planted-secret-5e1f";
        let secret_file = outside.path().join("credentials");
        std::fs::write(&secret_file, secret).unwrap();
        std::fs::set_permissions(
            &secret_file,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let socket = outside.path().join("host.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        let mark = "61.31415";
        let mut victim = std::process::Command::new("sleep")
            .arg(mark)
            .spawn()
            .unwrap();
        let tests = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile_sandboxed.rs.template"),
        )
        .unwrap()
        .replace("@USER_TREE@", &dir.path().display().to_string())
        .replace("@SECRET_FILE@", &secret_file.display().to_string())
        .replace("@SOCKET@", &socket.display().to_string())
        .replace("@VICTIM_PID@", &victim.id().to_string())
        .replace("@VICTIM_MARK@", mark);
        let file = outside.path().join("hostile.rs");
        std::fs::write(&file, tests).unwrap();
        let before = tree_state(dir.path());
        // Descriptors whatever starts the tool may leave open: a secret to read on 7, a host
        // file to write on 8.
        let left_secret = std::fs::File::open(&secret_file).unwrap();
        let host_file = outside.path().join("host-file");
        std::fs::write(&host_file, "").unwrap();
        let left_writable = std::fs::OpenOptions::new()
            .append(true)
            .open(&host_file)
            .unwrap();
        let mut command =
            std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-dualtrack"));
        command.env_remove("CARGO_TARGET_DIR").env("NO_COLOR", "1");
        {
            use std::os::fd::AsRawFd;
            use std::os::unix::process::CommandExt;
            let (secret_fd, writable_fd) = (left_secret.as_raw_fd(), left_writable.as_raw_fd());
            // SAFETY: dup2 onto fixed numbers (which clears close-on-exec) between fork and
            // exec.
            unsafe {
                command.pre_exec(move || {
                    libc::dup2(secret_fd, 7);
                    libc::dup2(writable_fd, 8);
                    Ok(())
                });
            }
        }
        let output = command
            .args(["run-tests", "--format", "json", "--timeout", "20"])
            .args([
                "--reruns",
                "0",
                "-j",
                "1",
                "--sandbox",
                mechanism,
                "--manifest-path",
            ])
            .arg(dir.path().join("Cargo.toml"))
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&host_file).unwrap(),
            "",
            "{mechanism}: a host file was written through a descriptor"
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let doc: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|_| panic!("{mechanism}: {}", String::from_utf8_lossy(&output.stderr)));
        assert_eq!(doc["sandbox"], mechanism);
        for test in doc["tests"].as_array().unwrap() {
            let name = test["name"].as_str().unwrap();
            let expected = if name == "hostile_includes_a_host_file_at_compile_time" {
                "dropped"
            } else {
                "passed"
            };
            assert_eq!(
                test["outcome"], expected,
                "{mechanism}: {name}: {}",
                test["message"]
            );
        }
        assert_eq!(
            doc["tests"].as_array().unwrap().len(),
            14,
            "{mechanism}: {doc:#}"
        );
        // Nothing read from outside reached the report, the log or a compiler error.
        assert!(
            !stdout.contains(secret),
            "{mechanism}: the secret is in the report"
        );
        assert!(!String::from_utf8_lossy(&output.stderr).contains(secret));
        assert!(
            listener.accept().is_err(),
            "{mechanism}: a host socket was reached"
        );
        assert!(
            victim.try_wait().unwrap().is_none(),
            "{mechanism}: a host process was killed"
        );
        victim.kill().unwrap();
        victim.wait().unwrap();
        assert_eq!(
            tree_state(dir.path()),
            before,
            "{mechanism}: the user's tree changed"
        );
        let mode = std::fs::metadata(&secret_file).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o600, "{mechanism}: a host file's mode changed");
    }
}

/// The processes of `run` whose command line holds `mark`.
fn processes_marked(mark: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            text.contains(mark)
                .then(|| format!("{}: {text}", entry.file_name().to_string_lossy()))
        })
        .collect()
}

#[test]
fn a_killed_tool_leaves_no_sandboxed_process_running() {
    for mechanism in mechanisms() {
        let dir = copy_fixture("ledger");
        let outside = tempfile::tempdir().unwrap();
        let mark = format!("dualtrack-orphan-{}", std::process::id());
        let file = outside.path().join("waits.rs");
        std::fs::write(
            &file,
            format!(
                "/// dualtrack: {{\"function\": \"ledger::percent_of\"}}\n#[test]\n\
                 fn waits_for_the_tool_to_die() {{\n    \
                 std::process::Command::new(\"setsid\").args([\"sh\", \"-c\", \"sleep 1000; true\", \"{mark}\"]).spawn().unwrap();\n    \
                 loop {{ std::thread::sleep(std::time::Duration::from_secs(1)); }}\n}}\n"
            ),
        )
        .unwrap();
        let mut tool = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-dualtrack"))
            .args([
                "run-tests",
                "--timeout",
                "600",
                "--sandbox",
                mechanism,
                "--manifest-path",
            ])
            .arg(dir.path().join("Cargo.toml"))
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while processes_marked(&mark).is_empty() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(120),
                "{mechanism}: the test never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        tool.kill().unwrap();
        tool.wait().unwrap();
        let killed = std::time::Instant::now();
        while !processes_marked(&mark).is_empty()
            && killed.elapsed() < std::time::Duration::from_secs(5)
        {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let left = processes_marked(&mark);
        assert!(left.is_empty(), "{mechanism}: still running: {left:#?}");
    }
}

/// Links in the tree to places outside it that builds do not need stay links to nowhere, and
/// the run says which.
#[test]
fn links_out_of_the_tree_show_nothing_unless_allowed() {
    for mechanism in mechanisms() {
        let dir = copy_fixture("ledger");
        std::os::unix::fs::symlink("/etc", dir.path().join("etclink")).unwrap();
        std::os::unix::fs::symlink("/root", dir.path().join("rootlink")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        let file = outside.path().join("links.rs");
        std::fs::write(
            &file,
            "/// dualtrack: {\"function\": \"ledger::percent_of\"}\n#[test]\n\
             fn reads_through_links() {\n    \
             assert!(std::fs::read(\"etclink/shadow\").is_err(), \"read /etc/shadow\");\n    \
             assert!(std::fs::read(\"etclink/hostname\").is_err(), \"read /etc/hostname\");\n    \
             for entry in std::fs::read_dir(\"rootlink\").into_iter().flatten().flatten() {\n        \
             let name = entry.file_name();\n        \
             assert!(name == \".rustup\" || name == \".cargo\", \"saw /root/{name:?}\");\n    \
             }\n}\n",
        )
        .unwrap();
        let output = dualtrack()
            .args(["run-tests", "--format", "json", "--reruns", "0"])
            .args(["--sandbox", mechanism, "--manifest-path"])
            .arg(dir.path().join("Cargo.toml"))
            .arg(&file)
            .output()
            .unwrap();
        let doc: Value = util::checked(&output.stdout)
            .unwrap_or_else(|_| panic!("{mechanism}: {}", String::from_utf8_lossy(&output.stderr)));
        assert_eq!(doc["tests"][0]["outcome"], "passed", "{mechanism}: {doc:#}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("etclink links to /etc") && stderr.contains("--allow-link /etc"),
            "{mechanism}: {stderr}"
        );
    }
}

/// The built-in sandbox as an unprivileged user would run it (CI runs as root, so this drops
/// to `nobody` with `setpriv`): the same root of its own, process limit and seccomp filter.
#[test]
fn the_builtin_sandbox_holds_for_an_unprivileged_user_too() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: the other tests run the sandbox as this user already");
        return;
    }
    let binary = assert_cmd::cargo::cargo_bin("cargo-dualtrack");
    let nobody_can_run = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !nobody_can_run {
        eprintln!(
            "setpriv is missing or nobody cannot run {}: skipped",
            binary.display()
        );
        return;
    }
    let script = "id -u; ls /; cat /etc/passwd && echo READ; \
                  unshare -U true && echo UNSHARED; \
                  for i in $(seq 1 300); do sleep 5 & done; echo STARTED_ALL";
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&binary)
        .args(["__sandbox", "--ro", "/usr"])
        .args([
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/lib",
            "/lib",
        ])
        .args(["--symlink", "usr/lib64", "/lib64", "--chdir", "/"])
        .args(["--processes", "64", "--", "/bin/sh", "-c", script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.starts_with("65534\n"), "{stdout}{stderr}");
    let root: Vec<&str> = stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.contains(' '))
        .collect();
    assert!(
        !root.contains(&"etc") && !root.contains(&"root"),
        "{root:?}"
    );
    assert!(!stdout.contains("READ"), "{stdout}");
    assert!(!stdout.contains("UNSHARED"), "{stdout}");
    // The shell cannot fork past the limit, and says so.
    assert!(
        stderr.contains("Cannot fork") && !stdout.contains("STARTED_ALL"),
        "{stdout}{stderr}"
    );
}
