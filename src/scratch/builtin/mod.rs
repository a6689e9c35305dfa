//! The built-in sandbox: the tool's own small init, run as `cargo-dualtrack __sandbox`. It puts
//! a command in new user, mount, PID, network, IPC and UTS namespaces, on a root of its own
//! that holds only what it is given (read-only binds of the toolchain, the registry and the
//! scratch copy; writable binds of the scratch `tmp`), with a fresh `/proc`, a minimal `/dev`
//! and an empty `/tmp`. The command runs as an unprivileged user, which maps to a host user
//! that owns nothing when the tool runs as root, under resource and process limits, a seccomp
//! filter and Landlock. Every process it starts ends with it: its init is PID 1 of the new
//! namespace, and each link of the chain back to the tool dies with its parent.
//!
//! It runs as a fresh process so that everything between `fork` and `exec` happens in a
//! single-threaded program. The processes: `__sandbox` (stays in the host's namespaces, to
//! write the new user namespace's id maps as root may) → the namespaces' creator → PID 1 (the
//! new root, then reaping) → the command.

#[cfg(target_os = "linux")]
mod filter;
#[cfg(target_os = "linux")]
mod root;
#[cfg(target_os = "linux")]
mod serve;

#[cfg(target_os = "linux")]
use std::ffi::CString;
use std::path::PathBuf;

/// What `__sandbox` is asked to run.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// Trees shown read-only where they are
    #[arg(long = "ro", value_name = "PATH")]
    pub read_only: Vec<PathBuf>,
    /// Trees shown read-only where they are, when they exist
    #[arg(long = "ro-try", value_name = "PATH")]
    pub read_only_try: Vec<PathBuf>,
    /// Trees the command may write, shown where they are
    #[arg(long = "rw", value_name = "PATH")]
    pub writable: Vec<PathBuf>,
    /// Symbolic links to make in the new root: TARGET LINK
    #[arg(long = "symlink", num_args = 2, value_names = ["TARGET", "LINK"])]
    pub symlinks: Vec<PathBuf>,
    /// Working directory of the command
    #[arg(long, value_name = "DIR")]
    pub chdir: PathBuf,
    /// Address space limit, bytes
    #[arg(long, value_name = "BYTES")]
    pub memory: Option<u64>,
    /// File size limit, bytes
    #[arg(long, value_name = "BYTES")]
    pub file_size: Option<u64>,
    /// Open files limit
    #[arg(long, value_name = "N")]
    pub open_files: Option<u64>,
    /// CPU time limit, seconds
    #[arg(long, value_name = "SECONDS")]
    pub cpu_seconds: Option<u64>,
    /// Processes and threads the command may have at once
    #[arg(long, value_name = "N")]
    pub processes: Option<u64>,
    /// The host user and group the command runs as (root only may name one); the caller's
    /// own when absent
    #[arg(long, value_name = "ID")]
    pub host_id: Option<u32>,
    /// Give each command a writable place of its own: fresh, size-limited tmpfs over the
    /// writable trees, `/tmp` and `/dev/shm`, and a fresh IPC namespace, so nothing it writes
    /// reaches the host's disk or the next command (tests; builds write their target)
    #[arg(long)]
    pub private_writes: bool,
    /// Keep descriptor 3 (the site probes' counter file the tool handed over) open for the
    /// commands served
    #[arg(long)]
    pub probe_fd: bool,
    /// Run no command: serve requests (one JSON line each on stdin, each answered on stdout),
    /// every one in a fresh process of this sandbox, killing what it left before the next
    #[arg(long)]
    pub serve: bool,
    /// The command and its arguments
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required_unless_present = "serve"
    )]
    pub command: Vec<String>,
}

/// The user (and group) the command runs as inside its namespace.
#[cfg(target_os = "linux")]
const INSIDE_ID: u32 = 65534;

/// The host user and group a test runs as when the tool runs as root: high enough to belong to
/// no account, no subordinate-id range and no system service, so it owns nothing outside the
/// scratch area, has no capability on the host, and counts against `RLIMIT_NPROC` (which the
/// kernel does not apply to host root).
pub const UNPRIVILEGED_HOST_ID: u32 = 2_000_000_000;

/// Exit status when the sandbox itself cannot be set up.
const SETUP_FAILED: i32 = 125;

/// Set up the namespaces and run the command; returns the exit code to leave with: the
/// command's own, or 128 + its signal, as a shell (and bubblewrap) reports it.
pub fn run(args: &InitArgs) -> i32 {
    match setup_and_run(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dualtrack sandbox: {message}");
            SETUP_FAILED
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn setup_and_run(_: &InitArgs) -> Result<i32, String> {
    Err("the built-in sandbox exists on Linux only".to_owned())
}

#[cfg(target_os = "linux")]
fn setup_and_run(args: &InitArgs) -> Result<i32, String> {
    // SAFETY: plain syscalls on this process; no other thread exists yet.
    let (uid, gid, euid) = unsafe { (libc::getuid(), libc::getgid(), libc::geteuid()) };
    if args.host_id.is_some() && euid != 0 {
        return Err("--host-id needs root".to_owned());
    }
    let program =
        CString::new(args.command.first().map_or("", String::as_str)).map_err(|e| e.to_string())?;
    let argv: Vec<CString> = args
        .command
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let (ready_read, ready_write) = pipe()?;
    let (go_read, go_write) = pipe()?;
    // SAFETY: getpid and fork in a single-threaded process.
    let me = unsafe { libc::getpid() };
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork failed: {}", std::io::Error::last_os_error())),
        0 => {
            // SAFETY: closing our copies of the ends the parent keeps.
            unsafe {
                libc::close(ready_read);
                libc::close(go_write);
            }
            let code = creator(args, me, euid, ready_write, go_read, &program, &argv);
            // SAFETY: leave without running the parent's destructors twice.
            unsafe { libc::_exit(code) }
        }
        child => {
            // SAFETY: as above.
            unsafe {
                libc::close(ready_write);
                libc::close(go_read);
            }
            // The creator has made the namespaces when it writes; nothing means it failed
            // (and said why).
            if !read_byte(ready_read) {
                return Ok(wait_for(child));
            }
            let host_uid = args.host_id.unwrap_or(uid);
            let host_gid = args.host_id.unwrap_or(gid);
            let maps = if euid == 0 && host_uid != uid {
                // Root may map more than itself: in-namespace root stays host root for the
                // set-up (it makes the new root's directories), the command's user is the
                // unprivileged one.
                (
                    format!("0 {uid} 1\n{INSIDE_ID} {host_uid} 1\n"),
                    format!("0 {gid} 1\n{INSIDE_ID} {host_gid} 1\n"),
                )
            } else {
                (
                    format!("{INSIDE_ID} {uid} 1\n"),
                    format!("{INSIDE_ID} {gid} 1\n"),
                )
            };
            let written = write_file(&format!("/proc/{child}/setgroups"), "deny")
                .and_then(|()| write_file(&format!("/proc/{child}/uid_map"), &maps.0))
                .and_then(|()| write_file(&format!("/proc/{child}/gid_map"), &maps.1));
            if let Err(message) = written {
                // SAFETY: our own child.
                unsafe { libc::kill(child, libc::SIGKILL) };
                wait_for(child);
                return Err(message);
            }
            // SAFETY: writing one byte to our pipe.
            unsafe { libc::write(go_write, b"1".as_ptr().cast(), 1) };
            Ok(wait_for(child))
        }
    }
}

#[cfg(target_os = "linux")]
/// The namespaces' creator: unshare, wait for the id maps, raise the loopback, start PID 1.
fn creator(
    args: &InitArgs,
    parent: libc::pid_t,
    euid: libc::uid_t,
    ready: libc::c_int,
    go: libc::c_int,
    program: &CString,
    argv: &[CString],
) -> i32 {
    // SAFETY: prctl and getppid on this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent {
            return SETUP_FAILED;
        }
    }
    // Root's supplementary groups (0 among them) would follow the command otherwise.
    // SAFETY: setgroups on this process.
    if euid == 0 && unsafe { libc::setgroups(0, std::ptr::null()) } != 0 {
        eprintln!("dualtrack sandbox: cannot drop supplementary groups");
        return SETUP_FAILED;
    }
    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS;
    // SAFETY: unshare only changes this process's namespaces.
    if unsafe { libc::unshare(flags) } != 0 {
        eprintln!(
            "dualtrack sandbox: cannot create namespaces ({}); user namespaces may be disabled",
            std::io::Error::last_os_error()
        );
        return SETUP_FAILED;
    }
    // SAFETY: one byte to the parent, then wait for its one byte back.
    unsafe { libc::write(ready, b"1".as_ptr().cast(), 1) };
    if !read_byte(go) {
        return SETUP_FAILED;
    }
    if let Err(message) = loopback_up() {
        eprintln!("dualtrack sandbox: {message}");
        return SETUP_FAILED;
    }
    // SAFETY: fork in a single-threaded process.
    match unsafe { libc::fork() } {
        -1 => SETUP_FAILED,
        0 => {
            // PID 1 of the new namespace: leaving ends every other process in it.
            // SAFETY: prctl on this process.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
            let code = init(args, program, argv);
            // SAFETY: as above.
            unsafe { libc::_exit(code) }
        }
        pid_one => wait_for(pid_one),
    }
}

#[cfg(target_os = "linux")]
/// PID 1: build the new root, fork the command, then reap until it exits.
fn init(args: &InitArgs, program: &CString, argv: &[CString]) -> i32 {
    if let Err(message) = root::new_root(args) {
        eprintln!("dualtrack sandbox: {message}");
        return SETUP_FAILED;
    }
    if args.serve {
        return serve::serve(args);
    }
    let seccomp = match filter::Seccomp::compile() {
        Ok(seccomp) => seccomp,
        Err(message) => {
            eprintln!("dualtrack sandbox: {message}");
            return SETUP_FAILED;
        }
    };
    // SAFETY: fork in a single-threaded process.
    match unsafe { libc::fork() } {
        -1 => SETUP_FAILED,
        0 => {
            if let Err(message) =
                root::private_writes(args).and_then(|()| confine(args, &args.chdir, &seccomp))
            {
                eprintln!("dualtrack sandbox: {message}");
                // SAFETY: _exit ends the child without running the parent's destructors.
                unsafe { libc::_exit(SETUP_FAILED) };
            }
            let mut pointers: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
            pointers.push(std::ptr::null());
            crate::scratch::sandbox::close_inherited_descriptors();
            // SAFETY: null-terminated argv of valid C strings; the environment is inherited.
            unsafe { libc::execvp(program.as_ptr(), pointers.as_ptr()) };
            eprintln!(
                "dualtrack sandbox: cannot run {}: {}",
                program.to_string_lossy(),
                std::io::Error::last_os_error()
            );
            // SAFETY: as above.
            unsafe { libc::_exit(127) }
        }
        command => loop {
            let mut status = 0;
            // SAFETY: waits for any child of PID 1 (orphans are reparented here).
            let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
            if pid == command {
                return exit_code(status);
            }
            if pid == -1 {
                return SETUP_FAILED;
            }
        },
    }
}

#[cfg(target_os = "linux")]
fn wait_for(child: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        if unsafe { libc::waitpid(child, &mut status, 0) } != -1 {
            return exit_code(status);
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return SETUP_FAILED;
        }
    }
}

#[cfg(target_os = "linux")]
fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        SETUP_FAILED
    }
}

#[cfg(target_os = "linux")]
fn pipe() -> Result<(libc::c_int, libc::c_int), String> {
    let mut ends = [0; 2];
    // SAFETY: pipe2 fills the two descriptors.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe failed: {}", std::io::Error::last_os_error()));
    }
    Ok((ends[0], ends[1]))
}

#[cfg(target_os = "linux")]
/// Whether one byte came before the other end closed.
fn read_byte(fd: libc::c_int) -> bool {
    let mut byte = 0u8;
    loop {
        // SAFETY: reading one byte into our own buffer.
        let n = unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            return true;
        }
        if n == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return false;
    }
}

#[cfg(target_os = "linux")]
/// In the command's process, before exec: the unprivileged user, limits, no new privileges,
/// Landlock, seccomp (`seccomp`, compiled once beforehand), the directory.
fn confine(
    args: &InitArgs,
    cwd: &std::path::Path,
    seccomp: &filter::Seccomp,
) -> Result<(), String> {
    // SAFETY: setresgid/setresuid on this process; the id is mapped in this namespace.
    unsafe {
        if libc::setresgid(INSIDE_ID, INSIDE_ID, INSIDE_ID) != 0 {
            return Err(format!(
                "cannot become the sandbox's group: {}",
                std::io::Error::last_os_error()
            ));
        }
        if libc::setresuid(INSIDE_ID, INSIDE_ID, INSIDE_ID) != 0 {
            return Err(format!(
                "cannot become the sandbox's user: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    let set = |resource, value: u64| {
        let limit = libc::rlimit {
            rlim_cur: value as libc::rlim_t,
            rlim_max: value as libc::rlim_t,
        };
        // SAFETY: setrlimit on this process.
        unsafe { libc::setrlimit(resource, &limit) };
    };
    if let Some(memory) = args.memory {
        set(libc::RLIMIT_AS, memory);
    }
    if let Some(file_size) = args.file_size {
        set(libc::RLIMIT_FSIZE, file_size);
    }
    if let Some(open_files) = args.open_files {
        set(libc::RLIMIT_NOFILE, open_files);
    }
    if let Some(cpu) = args.cpu_seconds {
        set(libc::RLIMIT_CPU, cpu);
    }
    // Set inside the new user namespace, it counts the processes and threads of this sandbox
    // only (the kernel keeps the count per namespace and user).
    if let Some(processes) = args.processes {
        set(libc::RLIMIT_NPROC, processes);
    }
    set(libc::RLIMIT_CORE, 0);
    // SAFETY: prctl on this process.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err("cannot set no_new_privs".to_owned());
    }
    filter::landlock(&args.writable);
    seccomp.apply()?;
    std::env::set_current_dir(cwd).map_err(|e| format!("cannot enter {}: {e}", cwd.display()))
}

#[cfg(target_os = "linux")]
fn write_file(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {path}: {e}"))
}

#[cfg(target_os = "linux")]
/// A new network namespace has its loopback down; tests that serve on 127.0.0.1 need it up.
fn loopback_up() -> Result<(), String> {
    // SAFETY: a socket used only for the interface ioctls below, then closed.
    unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        if socket < 0 {
            return Err("cannot open a socket to raise the loopback".to_owned());
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let ok = libc::ioctl(socket, libc::SIOCGIFFLAGS, &mut request) == 0 && {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(socket, libc::SIOCSIFFLAGS, &request) == 0
        };
        libc::close(socket);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "cannot raise the loopback: {}",
                std::io::Error::last_os_error()
            ))
        }
    }
}
