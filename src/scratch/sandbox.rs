//! Confining the build and the tests: bubblewrap or the built-in init with fresh namespaces,
//! one minimal view of the system for both (the programs and libraries, the toolchain and the
//! registry read-only, the scratch area the only writable place), a cleared environment and
//! resource limits; or nothing, when asked or when nothing stronger is available.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::InputError;

/// The `--sandbox` choice.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum SandboxChoice {
    /// The strongest mechanism available.
    Auto,
    /// bubblewrap: user, mount, PID, network, IPC and UTS namespaces.
    Bwrap,
    /// The tool's own: the same namespaces, Landlock write confinement, an init of its own.
    Builtin,
    /// No confinement (only the cleared environment and resource limits).
    None,
}

/// The mechanism in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    Bwrap(PathBuf),
    /// This program, run as `__sandbox`.
    Builtin(PathBuf),
    None,
}

impl Mechanism {
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::Bwrap(_) => "bwrap",
            Mechanism::Builtin(_) => "builtin",
            Mechanism::None => "none",
        }
    }

    /// Pick the mechanism for `choice`: `auto` takes bubblewrap when it works here. What
    /// works is tried once per process.
    pub fn choose(choice: SandboxChoice) -> Result<Mechanism, InputError> {
        static CHOSEN: std::sync::Mutex<Vec<(SandboxChoice, Mechanism)>> =
            std::sync::Mutex::new(Vec::new());
        let mut chosen = CHOSEN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, mechanism)) = chosen.iter().find(|(c, _)| *c == choice) {
            return Ok(mechanism.clone());
        }
        let mechanism = Mechanism::try_choose(choice)?;
        chosen.push((choice, mechanism.clone()));
        Ok(mechanism)
    }

    fn try_choose(choice: SandboxChoice) -> Result<Mechanism, InputError> {
        match choice {
            SandboxChoice::None => Ok(Mechanism::None),
            // Run as root, bubblewrap leaves the test host root without capabilities: it could
            // still write what root owns and the sandbox shows (`/proc/sys`), and leave a
            // setuid-root file in the scratch area.
            // SAFETY: geteuid has no preconditions.
            SandboxChoice::Bwrap if unsafe { libc::geteuid() } == 0 => Err(InputError::new(
                "--sandbox bwrap: run as root, bubblewrap would leave tests host root; use \
                 --sandbox builtin (the default), which runs them as a host user that owns nothing",
            )),
            SandboxChoice::Bwrap => bwrap_that_works().map(Mechanism::Bwrap).ok_or_else(|| {
                InputError::new(
                    "--sandbox bwrap: bubblewrap is not installed or cannot create namespaces here; \
                     install it (Debian/Ubuntu: `apt-get install bubblewrap`), and on Ubuntu 23.10+ allow \
                     user namespaces (`sysctl kernel.apparmor_restrict_unprivileged_userns=0`)",
                )
            }),
            SandboxChoice::Builtin => builtin_that_works().map(Mechanism::Builtin).ok_or_else(|| {
                InputError::new(
                    "--sandbox builtin: this system does not allow user namespaces or Landlock here; \
                     on Ubuntu 23.10+ run `sysctl kernel.apparmor_restrict_unprivileged_userns=0`",
                )
            }),
            // The built-in init first: it shows the same minimal root, and adds what
            // bubblewrap here does not (a seccomp filter, a process limit, a host user that
            // owns nothing when the tool is root) and one sandbox per worker rather than per
            // test. bubblewrap where user namespaces are open to it alone (its AppArmor
            // profile on Ubuntu 23.10+).
            // SAFETY: geteuid has no preconditions.
            SandboxChoice::Auto => Ok(builtin_that_works()
                .map(Mechanism::Builtin)
                .or_else(|| {
                    (unsafe { libc::geteuid() } != 0)
                        .then(bwrap_that_works)
                        .flatten()
                        .map(Mechanism::Bwrap)
                })
                .unwrap_or(Mechanism::None)),
        }
    }
}

/// This program, if its `__sandbox` init can set up its namespaces and root here.
fn builtin_that_works() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let probe = Sandbox {
        mechanism: Mechanism::Builtin(me.clone()),
        toolchain: None,
        cargo_home: None,
        read_only: Vec::new(),
        writable: Vec::new(),
    };
    let works = probe
        .command(Path::new("true"), &[], Path::new("/"), &[], None)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(me)
}

/// `bwrap` on PATH, if it can actually set up namespaces here.
fn bwrap_that_works() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let bwrap = std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|p| p.is_file())?;
    let works = Command::new(&bwrap)
        .args([
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--ro-bind",
            "/",
            "/",
            "--cap-drop",
            "ALL",
            "true",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(bwrap)
}

/// Resource limits for test processes (not for the build: compilers reserve much address
/// space).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Address space, bytes.
    pub memory: u64,
    /// Largest file a test may write, bytes.
    pub file_size: u64,
    /// Open files.
    pub open_files: u64,
    /// CPU seconds: a backstop behind the wall-clock timeout.
    pub cpu_seconds: u64,
    /// Processes and threads at once (the built-in sandbox; bubblewrap run as root cannot
    /// count them: the kernel does not limit host root).
    pub processes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 2 << 30,
            file_size: 256 << 20,
            open_files: 1024,
            cpu_seconds: 300,
            processes: 256,
        }
    }
}

/// What a sandboxed command sees.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub mechanism: Mechanism,
    /// The Rust toolchain (`rustc --print sysroot`), read-only.
    pub toolchain: Option<PathBuf>,
    /// `$CARGO_HOME`: its registry and git checkouts, read-only.
    pub cargo_home: Option<PathBuf>,
    /// Read-only trees (the scratch copy).
    pub read_only: Vec<PathBuf>,
    /// Writable trees (the scratch target directory and tmp).
    pub writable: Vec<PathBuf>,
}

impl Sandbox {
    /// The command that runs `program args` in `cwd` with exactly `env`, confined, with
    /// `limits` applied to the process (and so to everything it starts). The command dies
    /// with the thread that spawns it.
    pub fn command(
        &self,
        program: &Path,
        args: &[&str],
        cwd: &Path,
        env: &[(String, String)],
        limits: Option<Limits>,
    ) -> Command {
        let mut command = match &self.mechanism {
            Mechanism::None => {
                let mut command = Command::new(program);
                command.args(args).current_dir(cwd).env_clear();
                command.envs(env.iter().map(|(k, v)| (k, v)));
                command
            }
            Mechanism::Bwrap(bwrap) => {
                let mut command = Command::new(bwrap);
                command
                    .args(self.bwrap_args(cwd, env))
                    .arg("--")
                    .arg(program)
                    .args(args);
                // bwrap itself needs nothing from our environment.
                command.env_clear();
                command
            }
            Mechanism::Builtin(me) => {
                let mut command = Command::new(me);
                command.arg("__sandbox");
                command.args(self.builtin_args(cwd, limits));
                command.arg("--").arg(program).args(args);
                command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
                die_with_parent(&mut command);
                // The init applies the limits to the command alone.
                return command;
            }
        };
        die_with_parent(&mut command);
        if let Some(limits) = limits {
            apply_limits(&mut command, limits);
        }
        command
    }

    /// The built-in init serving tests one after another in one sandbox (see
    /// [`super::served`]), with `limits` for each test.
    pub fn serve_command(&self, limits: Limits, counters: Option<&std::fs::File>) -> Command {
        let Mechanism::Builtin(me) = &self.mechanism else {
            panic!("only the built-in sandbox serves");
        };
        let mut command = Command::new(me);
        command
            .arg("__sandbox")
            .args(self.builtin_args(Path::new("/"), Some(limits)))
            .arg("--serve")
            .env_clear();
        die_with_parent(&mut command);
        if let Some(counters) = counters {
            command.arg("--probe-fd");
            pass_counters(&mut command, counters);
        }
        command
    }

    /// What both mechanisms show, in order: the system's programs and libraries, the
    /// toolchain and the registry read-only, the trees of this sandbox.
    fn view(&self) -> Vec<View> {
        let mut view = vec![View::ReadOnly(PathBuf::from("/usr"))];
        for dir in ["bin", "lib", "lib64", "sbin"] {
            let host = Path::new("/").join(dir);
            match std::fs::read_link(&host) {
                Ok(target) => view.push(View::Symlink { target, link: host }),
                Err(_) if host.is_dir() => view.push(View::ReadOnly(host)),
                Err(_) => {}
            }
        }
        view.push(View::ReadOnlyTry(PathBuf::from("/etc/ld.so.cache")));
        view.push(View::ReadOnlyTry(PathBuf::from("/etc/alternatives")));
        if let Some(toolchain) = &self.toolchain {
            view.push(View::ReadOnly(toolchain.clone()));
        }
        if let Some(home) = &self.cargo_home {
            for part in ["registry", "git"] {
                view.push(View::ReadOnlyTry(home.join(part)));
            }
        }
        view.extend(self.read_only.iter().cloned().map(View::ReadOnly));
        view.extend(self.writable.iter().cloned().map(View::Writable));
        view
    }

    fn builtin_args(&self, cwd: &Path, limits: Option<Limits>) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = Vec::new();
        for entry in self.view() {
            match entry {
                View::ReadOnly(path) => args.extend(["--ro".into(), path.into()]),
                View::ReadOnlyTry(path) => args.extend(["--ro-try".into(), path.into()]),
                View::Writable(path) => args.extend(["--rw".into(), path.into()]),
                View::Symlink { target, link } => {
                    args.extend(["--symlink".into(), target.into(), link.into()])
                }
            }
        }
        args.extend(["--chdir".into(), cwd.into()]);
        if let Some(limits) = limits {
            for (flag, value) in [
                ("--memory", limits.memory),
                ("--file-size", limits.file_size),
                ("--open-files", limits.open_files),
                ("--cpu-seconds", limits.cpu_seconds),
                ("--processes", limits.processes),
            ] {
                args.extend([flag.into(), value.to_string().into()]);
            }
            // A test writes only to fresh places of its own.
            args.push("--private-writes".into());
            // A test of a tool run as root runs as a host user that owns nothing.
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } == 0 {
                args.extend([
                    "--host-id".into(),
                    super::builtin::UNPRIVILEGED_HOST_ID.to_string().into(),
                ]);
            }
        }
        args
    }

    fn bwrap_args(&self, cwd: &Path, env: &[(String, String)]) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| args.extend(items.iter().map(|s| (*s).to_owned()));
        push(&["--unshare-all", "--die-with-parent", "--new-session"]);
        // An unprivileged user inside, and no user namespace of its own to regain rights in.
        push(&[
            "--unshare-user",
            "--uid",
            "65534",
            "--gid",
            "65534",
            "--disable-userns",
        ]);
        // As root, the sandboxed process would keep every capability (and could remount).
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            push(&["--cap-drop", "ALL"]);
        }
        // Before the binds: a scratch area under /tmp is bound over the empty /tmp.
        push(&["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]);
        for entry in self.view() {
            match entry {
                View::ReadOnly(path) => {
                    let p = path.to_string_lossy();
                    push(&["--ro-bind", &p, &p]);
                }
                View::ReadOnlyTry(path) => {
                    let p = path.to_string_lossy();
                    push(&["--ro-bind-try", &p, &p]);
                }
                View::Writable(path) => {
                    let p = path.to_string_lossy();
                    push(&["--bind", &p, &p]);
                }
                View::Symlink { target, link } => {
                    push(&[
                        "--symlink",
                        &target.to_string_lossy(),
                        &link.to_string_lossy(),
                    ]);
                }
            }
        }
        push(&["--clearenv"]);
        for (key, value) in env {
            push(&["--setenv", key, value]);
        }
        push(&["--chdir", &cwd.to_string_lossy()]);
        args
    }
}

/// One entry of a sandbox's filesystem view, shown where it is on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
enum View {
    ReadOnly(PathBuf),
    /// Read-only, when it exists.
    ReadOnlyTry(PathBuf),
    Writable(PathBuf),
    Symlink {
        target: PathBuf,
        link: PathBuf,
    },
}

/// The child gets SIGKILL when the thread that spawned it ends (the tool killed, say): a
/// sandbox left behind would go on building or running a test nobody waits for. And it
/// keeps no descriptor but stdin, stdout and stderr: whatever started the tool may have left
/// it files or sockets open, which a test must not reach.
fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: getpid before the fork; prctl, getppid and close_range after it are
        // async-signal-safe.
        let parent = unsafe { libc::getpid() };
        unsafe {
            command.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // The parent died before the prctl: nobody is left to kill us.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("the tool has ended"));
                }
                close_inherited_descriptors();
                Ok(())
            });
        }
    }
}

/// Mark every descriptor above stderr close-on-exec (those std made for the child already
/// are), so that the program the child runs gets none of them.
#[cfg(target_os = "linux")]
pub(crate) fn close_inherited_descriptors() {
    close_inherited_descriptors_from(3);
}

/// [`close_inherited_descriptors`], keeping those below `first` (3: none but the standard
/// three; 4: the probes' counter file too).
#[cfg(target_os = "linux")]
pub(crate) fn close_inherited_descriptors_from(first: u32) {
    // SAFETY: close_range and fcntl on this process's own descriptors.
    unsafe {
        if libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        ) != 0
        {
            // Kernels before 5.11: one by one, up to the descriptor limit.
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
            for fd in first as libc::c_int..(limit.rlim_cur.min(65_536) as libc::c_int) {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
    }
}

/// Hand `counters` (the site probes' counter file) to the program `command` runs as descriptor
/// [`PROBE_FD`](super::probes::PROBE_FD): the one host file a confined test may write, through
/// a descriptor rather than a path its sandbox would have to show.
pub fn pass_counters(command: &mut Command, counters: &std::fs::File) {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let fd = counters.as_raw_fd();
    // SAFETY: dup2 is async-signal-safe; the source stays open in the parent until the spawn
    // returns. Registered after the other hooks, so nothing closes it after.
    unsafe {
        command.pre_exec(move || {
            // Already descriptor 3: only its close-on-exec flag needs clearing (dup2 onto
            // itself would leave it set).
            let handed = if fd == super::probes::PROBE_FD {
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, super::probes::PROBE_FD)
            };
            if handed < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Resource limits set in the child between fork and exec.
fn apply_limits(command: &mut Command, limits: Limits) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
        unsafe {
            command.pre_exec(move || {
                let set = |resource, value: u64| {
                    let limit = libc::rlimit {
                        rlim_cur: value as libc::rlim_t,
                        rlim_max: value as libc::rlim_t,
                    };
                    libc::setrlimit(resource, &limit);
                };
                set(libc::RLIMIT_AS, limits.memory);
                set(libc::RLIMIT_FSIZE, limits.file_size);
                set(libc::RLIMIT_NOFILE, limits.open_files);
                set(libc::RLIMIT_CPU, limits.cpu_seconds);
                set(libc::RLIMIT_CORE, 0);
                Ok(())
            });
        }
    }
}

/// The toolchain's sysroot, from the `rustc` cargo would use: found once per process. Run as
/// `cargo dualtrack`, cargo names its own binary in `$CARGO`, inside the toolchain, which
/// spares a `rustc --print sysroot` through rustup's proxy (tens of milliseconds).
pub fn toolchain_sysroot() -> Option<PathBuf> {
    static SYSROOT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    SYSROOT.get_or_init(find_sysroot).clone()
}

fn find_sysroot() -> Option<PathBuf> {
    if std::env::var_os("RUSTC").is_none()
        && let Some(cargo) = std::env::var_os("CARGO").map(PathBuf::from)
        && let Some(sysroot) = cargo
            .parent()
            .filter(|bin| bin.ends_with("bin"))
            .and_then(Path::parent)
        && sysroot.join("lib/rustlib").is_dir()
        && sysroot.join("bin/rustc").is_file()
    {
        return Some(sysroot.to_owned());
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

#[cfg(all(test, target_os = "linux"))]
mod test {
    use super::*;
    use std::time::Duration;

    fn sandbox(dir: &Path) -> Option<Sandbox> {
        let mechanism = Mechanism::choose(SandboxChoice::Auto).ok()?;
        if mechanism == Mechanism::None {
            return None;
        }
        Some(Sandbox {
            mechanism,
            toolchain: None,
            cargo_home: None,
            read_only: vec![dir.join("ro")],
            writable: vec![dir.join("rw")],
        })
    }

    fn run(
        sandbox: &Sandbox,
        dir: &Path,
        script: &str,
        env: &[(String, String)],
    ) -> super::super::process::Finished {
        let command = sandbox.command(
            Path::new("/bin/sh"),
            &["-c", script],
            dir,
            env,
            Some(Limits::default()),
        );
        super::super::process::run_with_timeout(command, Duration::from_secs(10), 4096).unwrap()
    }

    #[test]
    fn bwrap_allows_only_the_writable_tree_and_clears_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ro")).unwrap();
        std::fs::create_dir_all(dir.path().join("rw")).unwrap();
        let Some(sandbox) = sandbox(dir.path()) else {
            eprintln!("bubblewrap is not available here; skipping");
            return;
        };
        let ro = dir.path().join("ro/x");
        let rw = dir.path().join("rw/x");
        let outside = dir.path().join("outside");
        let script = format!(
            "echo a > {} ; echo b > {} ; echo c > {} ; echo secret=$SECRET_KEY",
            ro.display(),
            rw.display(),
            outside.display()
        );
        // SAFETY: test-only; no other thread reads this variable.
        unsafe { std::env::set_var("SECRET_KEY", "sk-live-123") };
        let finished = run(
            &sandbox,
            &dir.path().join("rw"),
            &script,
            &[("PATH".into(), "/usr/bin:/bin".into())],
        );
        assert!(rw.exists(), "{}", finished.stderr);
        assert!(!ro.exists());
        assert!(!outside.exists());
        assert!(finished.stdout.contains("secret=\n"), "{}", finished.stdout);
    }

    #[test]
    fn bwrap_has_no_network_beyond_its_own_loopback() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ro")).unwrap();
        std::fs::create_dir_all(dir.path().join("rw")).unwrap();
        let Some(sandbox) = sandbox(dir.path()) else {
            return;
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let script = format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected || echo refused");
        let command = sandbox.command(
            Path::new("/bin/bash"),
            &["-c", &script],
            &dir.path().join("rw"),
            &[],
            None,
        );
        let finished =
            super::super::process::run_with_timeout(command, Duration::from_secs(10), 4096)
                .unwrap();
        assert!(
            finished.stdout.contains("refused"),
            "{} {}",
            finished.stdout,
            finished.stderr
        );
        assert!(
            listener.accept().is_err(),
            "the sandbox reached the host's loopback"
        );
    }
}
