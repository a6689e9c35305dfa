//! The built-in sandbox: the tool's own small init, run as `cargo-dualtrack __sandbox`. It puts
//! a command in new user, mount, PID, network, IPC and UTS namespaces, confines its writes with
//! Landlock, limits its resources, runs it as an unprivileged user, and ends every process it
//! started (the init is PID 1 of the new namespace; when it exits, the kernel kills the rest).
//!
//! It runs as a fresh process so that everything between `fork` and `exec` happens in a
//! single-threaded program.

#[cfg(target_os = "linux")]
use std::ffi::CString;
use std::path::PathBuf;

/// What `__sandbox` is asked to run.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// Trees the command may write
    #[arg(long = "write", value_name = "PATH")]
    pub writable: Vec<PathBuf>,
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
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

#[cfg(not(target_os = "linux"))]
fn setup_and_run(_: &InitArgs) -> Result<i32, String> {
    Err("the built-in sandbox exists on Linux only".to_owned())
}

/// The unprivileged user the command runs as inside its user namespace.
#[cfg(target_os = "linux")]
const INSIDE_UID: u32 = 65534;

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

#[cfg(target_os = "linux")]
fn setup_and_run(args: &InitArgs) -> Result<i32, String> {
    // SAFETY: plain syscalls on this process; no other thread exists yet.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS;
    // SAFETY: unshare only changes this process's namespaces.
    if unsafe { libc::unshare(flags) } != 0 {
        return Err(format!(
            "cannot create namespaces ({}); user namespaces may be disabled",
            std::io::Error::last_os_error()
        ));
    }
    write_file("/proc/self/setgroups", "deny")?;
    write_file("/proc/self/uid_map", &format!("{INSIDE_UID} {uid} 1"))?;
    write_file("/proc/self/gid_map", &format!("{INSIDE_UID} {gid} 1"))?;
    loopback_up()?;
    let program = CString::new(args.command[0].as_str()).map_err(|e| e.to_string())?;
    let argv: Vec<CString> = args
        .command
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    // SAFETY: fork in a single-threaded process.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork failed: {}", std::io::Error::last_os_error())),
        0 => {
            // PID 1 of the new namespace: start the command, reap everything, leave with the
            // command's status (which ends every other process in the namespace).
            // SAFETY: prctl on this process.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
            std::process::exit(init(args, &program, &argv));
        }
        child => Ok(wait_for(child)),
    }
}

#[cfg(target_os = "linux")]
/// PID 1: fork the command, then reap until it exits.
fn init(args: &InitArgs, program: &CString, argv: &[CString]) -> i32 {
    // SAFETY: fork in a single-threaded process.
    match unsafe { libc::fork() } {
        -1 => SETUP_FAILED,
        0 => {
            if let Err(message) = confine(args) {
                eprintln!("dualtrack sandbox: {message}");
                // SAFETY: _exit ends the child without running the parent's destructors.
                unsafe { libc::_exit(SETUP_FAILED) };
            }
            let mut pointers: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
            pointers.push(std::ptr::null());
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
    // SAFETY: waits for our own child.
    if unsafe { libc::waitpid(child, &mut status, 0) } == -1 {
        return SETUP_FAILED;
    }
    exit_code(status)
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
/// In the command's process, before exec: limits, no new privileges, Landlock, directory.
fn confine(args: &InitArgs) -> Result<(), String> {
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
    set(libc::RLIMIT_CORE, 0);
    // SAFETY: prctl on this process.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err("cannot set no_new_privs".to_owned());
    }
    landlock_writes(&args.writable)?;
    std::env::set_current_dir(&args.chdir)
        .map_err(|e| format!("cannot enter {}: {e}", args.chdir.display()))
}

#[cfg(target_os = "linux")]
/// Everything readable, writes only under `writable` (and to `/dev/null`).
fn landlock_writes(writable: &[PathBuf]) -> Result<(), String> {
    use landlock::{
        ABI, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
        path_beneath_rules,
    };
    let abi = ABI::V5;
    let mut targets: Vec<PathBuf> = writable.to_vec();
    targets.push(PathBuf::from("/dev/null"));
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(["/"], AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules(&targets, AccessFs::from_all(abi))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("Landlock: {e}"))?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("Landlock is not available in this kernel".to_owned());
    }
    Ok(())
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
