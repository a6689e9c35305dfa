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
    if let Err(message) = new_root(args) {
        eprintln!("dualtrack sandbox: {message}");
        return SETUP_FAILED;
    }
    if args.serve {
        return serve(args);
    }
    // SAFETY: fork in a single-threaded process.
    match unsafe { libc::fork() } {
        -1 => SETUP_FAILED,
        0 => {
            if let Err(message) = private_writes(args).and_then(|()| confine(args, &args.chdir)) {
                eprintln!("dualtrack sandbox: {message}");
                // SAFETY: _exit ends the child without running the parent's destructors.
                unsafe { libc::_exit(SETUP_FAILED) };
            }
            let mut pointers: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
            pointers.push(std::ptr::null());
            super::sandbox::close_inherited_descriptors();
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
/// The new root, as bubblewrap builds it: a tmpfs holding only the binds asked for, a fresh
/// `/proc`, a minimal `/dev` and an empty `/tmp`; the host's root is then detached, so the
/// user's tree, `/etc`, `/root` and every host socket are simply not there.
fn new_root(args: &InitArgs) -> Result<(), String> {
    use std::path::Path;
    // Nothing done here propagates back to the host.
    mount(None, "/", None, libc::MS_REC | libc::MS_PRIVATE, None)?;
    // A base on /tmp (in this namespace only): the host's /tmp stays reachable under the old
    // root, for binds from it.
    mount(
        Some("tmpfs"),
        "/tmp",
        Some("tmpfs"),
        libc::MS_NODEV | libc::MS_NOSUID,
        Some("mode=0755"),
    )?;
    std::env::set_current_dir("/tmp").map_err(|e| format!("cannot enter /tmp: {e}"))?;
    for dir in ["newroot", "oldroot"] {
        std::fs::create_dir(dir).map_err(|e| format!("cannot make {dir}: {e}"))?;
    }
    mount(
        Some("tmpfs"),
        "newroot",
        Some("tmpfs"),
        libc::MS_NODEV | libc::MS_NOSUID,
        Some("mode=0755"),
    )?;
    pivot_root(".", "oldroot")?;
    std::env::set_current_dir("/").map_err(|e| format!("cannot enter the new root: {e}"))?;
    // An empty /tmp first: a scratch area under the host's /tmp is bound inside it.
    make_dir("/newroot/tmp")?;
    let tmp_options = if args.private_writes {
        private_tmpfs_options(args)
    } else {
        "mode=1777".to_owned()
    };
    mount(
        Some("tmpfs"),
        "/newroot/tmp",
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(&tmp_options),
    )?;

    let mut binds: Vec<(&Path, bool, bool)> = Vec::new();
    binds.extend(args.read_only.iter().map(|p| (p.as_path(), false, false)));
    binds.extend(
        args.read_only_try
            .iter()
            .map(|p| (p.as_path(), false, true)),
    );
    binds.extend(args.writable.iter().map(|p| (p.as_path(), true, false)));
    // Parents before what lies inside them (a writable `target/tmp` in a read-only `target`).
    binds.sort_by_key(|(path, _, _)| path.components().count());
    for (path, writable, optional) in binds {
        let source = Path::new("/oldroot").join(path.strip_prefix("/").unwrap_or(path));
        let dest = Path::new("/newroot").join(path.strip_prefix("/").unwrap_or(path));
        let metadata = match std::fs::metadata(&source) {
            Ok(metadata) => metadata,
            Err(_) if optional => continue,
            Err(err) => return Err(format!("cannot show {}: {err}", path.display())),
        };
        bind(&source, &dest, metadata.is_dir(), writable)?;
    }
    for pair in args.symlinks.chunks(2) {
        let [target, link] = pair else { continue };
        let at = Path::new("/newroot").join(link.strip_prefix("/").unwrap_or(link));
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot make {}: {e}", parent.display()))?;
        }
        std::os::unix::fs::symlink(target, &at)
            .map_err(|e| format!("cannot link {}: {e}", link.display()))?;
    }
    make_dir("/newroot/proc")?;
    mount(
        Some("proc"),
        "/newroot/proc",
        Some("proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )?;
    // What the namespace's root may still write in /proc (its root is host root when the
    // tool is): read-only.
    for knob in ["sys", "sysrq-trigger", "irq", "bus"] {
        let path = Path::new("/newroot/proc").join(knob);
        if let Ok(metadata) = std::fs::metadata(&path) {
            bind(&path, &path, metadata.is_dir(), false)?;
        }
    }
    make_dir("/newroot/dev")?;
    mount(
        Some("tmpfs"),
        "/newroot/dev",
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some("mode=0755"),
    )?;
    for node in ["null", "zero", "full", "random", "urandom"] {
        let source = Path::new("/oldroot/dev").join(node);
        if source.exists() {
            bind(&source, &Path::new("/newroot/dev").join(node), false, true)?;
        }
    }
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, Path::new("/newroot/dev").join(link))
            .map_err(|e| format!("cannot link /dev/{link}: {e}"))?;
    }
    make_dir("/newroot/dev/shm")?;
    mount(
        Some("tmpfs"),
        "/newroot/dev/shm",
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some("mode=1777"),
    )?;
    // SAFETY: detaching the old root; nothing of it stays reachable.
    if unsafe { libc::umount2(c"/oldroot".as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(format!(
            "cannot detach the host's root: {}",
            std::io::Error::last_os_error()
        ));
    }
    std::env::set_current_dir("/newroot").map_err(|e| format!("cannot enter the new root: {e}"))?;
    pivot_root(".", ".")?;
    // SAFETY: the base tmpfs now lies under the new root; detach it.
    if unsafe { libc::umount2(c".".as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(format!(
            "cannot detach the set-up root: {}",
            std::io::Error::last_os_error()
        ));
    }
    std::env::set_current_dir("/").map_err(|e| format!("cannot enter the new root: {e}"))
}

#[cfg(target_os = "linux")]
/// Bind `source` at `dest` (made first: a directory, or an empty file), read-only unless
/// `writable`. A read-only bind refuses chmod, utime and every other change (`EROFS`).
fn bind(
    source: &std::path::Path,
    dest: &std::path::Path,
    is_dir: bool,
    writable: bool,
) -> Result<(), String> {
    if !dest.exists() {
        if is_dir {
            std::fs::create_dir_all(dest)
        } else {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot make {}: {e}", parent.display()))?;
            }
            std::fs::File::create(dest).map(|_| ())
        }
        .map_err(|e| format!("cannot make {}: {e}", dest.display()))?;
    }
    let dest_text = dest.to_string_lossy();
    mount(
        Some(&source.to_string_lossy()),
        &dest_text,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    )?;
    if writable {
        return Ok(());
    }
    // A remount must keep the flags the host locked on that mount (noexec, nodev, ...).
    let path = CString::new(dest_text.as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: statvfs into a zeroed struct we own.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let kept = if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } == 0 {
        stat.f_flag
            & (libc::ST_NOEXEC | libc::ST_NOATIME | libc::ST_NODIRATIME | libc::ST_RELATIME)
                as libc::c_ulong
    } else {
        0
    };
    mount(
        None,
        &dest_text,
        None,
        libc::MS_REMOUNT
            | libc::MS_BIND
            | libc::MS_RDONLY
            | libc::MS_NOSUID
            | libc::MS_NODEV
            | kept as libc::c_ulong,
        None,
    )
}

#[cfg(target_os = "linux")]
fn make_dir(path: &str) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("cannot make {path}: {e}"))
}

#[cfg(target_os = "linux")]
fn mount(
    source: Option<&str>,
    target: &str,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<(), String> {
    let c = |s: &str| CString::new(s).map_err(|e| e.to_string());
    let source_c = source.map(c).transpose()?;
    let target_c = c(target)?;
    let fstype_c = fstype.map(c).transpose()?;
    let data_c = data.map(c).transpose()?;
    let pointer = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: valid C strings or null, as mount(2) takes them.
    let result = unsafe {
        libc::mount(
            pointer(&source_c),
            target_c.as_ptr(),
            pointer(&fstype_c),
            flags,
            pointer(&data_c).cast(),
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(format!(
            "cannot mount {} on {target}: {}",
            source.unwrap_or("(remount)"),
            std::io::Error::last_os_error()
        ))
    }
}

#[cfg(target_os = "linux")]
fn pivot_root(new_root: &str, put_old: &str) -> Result<(), String> {
    let new_root_c = CString::new(new_root).map_err(|e| e.to_string())?;
    let put_old_c = CString::new(put_old).map_err(|e| e.to_string())?;
    // SAFETY: pivot_root(2) with two valid paths.
    let result = unsafe {
        libc::syscall(
            libc::SYS_pivot_root,
            new_root_c.as_ptr(),
            put_old_c.as_ptr(),
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(format!(
            "cannot change the root: {}",
            std::io::Error::last_os_error()
        ))
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
/// With `--private-writes`, in the command's process while it still has its capabilities in
/// the namespace: a mount and IPC namespace of its own, where the writable trees, `/tmp` and
/// `/dev/shm` are fresh tmpfs no larger than the file size limit. What a test writes dies with
/// it: nothing reaches the host's disk, the next test, or memory past that size.
fn private_writes(args: &InitArgs) -> Result<(), String> {
    if !args.private_writes {
        return Ok(());
    }
    // SAFETY: unshare only changes this process's namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWIPC) } != 0 {
        return Err(format!(
            "cannot make a private mount namespace: {}",
            std::io::Error::last_os_error()
        ));
    }
    let options = private_tmpfs_options(args);
    let mut places: Vec<String> = vec!["/dev/shm".to_owned()];
    // `/tmp` too, unless the sandbox's trees are shown inside it (a tmpfs there would hide
    // them): then the serving init empties it between tests instead.
    if binds_under_tmp(args).is_empty() {
        places.push("/tmp".to_owned());
    }
    places.extend(
        args.writable
            .iter()
            .map(|p| p.to_string_lossy().into_owned()),
    );
    for place in places {
        mount(
            Some("tmpfs"),
            &place,
            Some("tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV,
            Some(&options),
        )?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn private_tmpfs_options(args: &InitArgs) -> String {
    format!("mode=1777,size={}", args.file_size.unwrap_or(256 << 20))
}

#[cfg(target_os = "linux")]
/// The names in `/tmp` that lead to trees the sandbox shows there.
fn binds_under_tmp(args: &InitArgs) -> Vec<std::ffi::OsString> {
    args.read_only
        .iter()
        .chain(&args.read_only_try)
        .chain(&args.writable)
        .filter_map(|path| path.strip_prefix("/tmp").ok())
        .filter_map(|rest| rest.components().next())
        .map(|first| first.as_os_str().to_owned())
        .collect()
}

#[cfg(target_os = "linux")]
/// Between two tests: everything the first left in `/tmp` goes, but the way to the trees the
/// sandbox shows there (directories of the init's, which no test can write into).
fn empty_tmp(args: &InitArgs) {
    let kept = binds_under_tmp(args);
    let Ok(entries) = std::fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        if kept.contains(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        let _ = match entry.file_type() {
            Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
    }
}

#[cfg(target_os = "linux")]
/// In the command's process, before exec: the unprivileged user, limits, no new privileges,
/// Landlock, seccomp, the directory.
fn confine(args: &InitArgs, cwd: &std::path::Path) -> Result<(), String> {
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
    landlock(&args.writable);
    seccomp()?;
    std::env::set_current_dir(cwd).map_err(|e| format!("cannot enter {}: {e}", cwd.display()))
}

#[cfg(target_os = "linux")]
/// PID 1 serving: each request line run in a fresh confined process, answered with its wait
/// status and output; then every process it left is killed and reaped. Ends at end of input.
fn serve(args: &InitArgs) -> i32 {
    use std::io::{BufRead as _, Write as _};
    // Nobody in the sandbox may open this process's pipes through /proc, or trace it.
    // SAFETY: prctl on this process.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0) };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            return SETUP_FAILED;
        };
        let request: super::served::Request = match serde_json::from_str(&line) {
            Ok(request) => request,
            Err(err) => {
                eprintln!("dualtrack sandbox: a garbled request: {err}");
                return SETUP_FAILED;
            }
        };
        let response = match run_request(args, &request) {
            Ok(response) => response,
            Err(message) => {
                eprintln!("dualtrack sandbox: {message}");
                return SETUP_FAILED;
            }
        };
        if args.private_writes {
            empty_tmp(args);
        }
        let written = serde_json::to_writer(&mut stdout, &response)
            .map_err(std::io::Error::from)
            .and_then(|()| stdout.write_all(b"\n"))
            .and_then(|()| stdout.flush());
        if written.is_err() {
            return SETUP_FAILED;
        }
    }
    0
}

#[cfg(target_os = "linux")]
/// How long output may still come once the test's own process has ended (a child it left
/// may hold the pipes) before everything left is killed.
const DRAIN_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

#[cfg(target_os = "linux")]
fn run_request(
    args: &InitArgs,
    request: &super::served::Request,
) -> Result<super::served::Response, String> {
    let c = |s: &str| CString::new(s).map_err(|e| e.to_string());
    let program = c(&request.program.to_string_lossy())?;
    let mut argv = vec![program.clone()];
    for arg in &request.args {
        argv.push(c(arg)?);
    }
    let envp: Vec<CString> = request
        .env
        .iter()
        .map(|(k, v)| c(&format!("{k}={v}")))
        .collect::<Result<_, _>>()?;
    let (out_read, out_write) = pipe()?;
    let (err_read, err_write) = pipe()?;
    // SAFETY: fork in a single-threaded process.
    let child = unsafe { libc::fork() };
    if child == -1 {
        return Err(format!("fork failed: {}", std::io::Error::last_os_error()));
    }
    if child == 0 {
        // SAFETY: wiring the pipes to stdout and stderr, /dev/null to stdin, then exec.
        unsafe {
            libc::dup2(out_write, 1);
            libc::dup2(err_write, 2);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            if null >= 0 {
                libc::dup2(null, 0);
            }
        }
        if let Err(message) = private_writes(args).and_then(|()| confine(args, &request.cwd)) {
            eprintln!("dualtrack sandbox: {message}");
            // SAFETY: leave the child at once.
            unsafe { libc::_exit(SETUP_FAILED) };
        }
        super::sandbox::close_inherited_descriptors();
        let mut argv_pointers: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_pointers.push(std::ptr::null());
        let mut env_pointers: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
        env_pointers.push(std::ptr::null());
        // SAFETY: null-terminated arrays of valid C strings.
        unsafe {
            libc::execve(
                program.as_ptr(),
                argv_pointers.as_ptr(),
                env_pointers.as_ptr(),
            )
        };
        eprintln!(
            "dualtrack sandbox: cannot run {}: {}",
            request.program.display(),
            std::io::Error::last_os_error()
        );
        // SAFETY: as above.
        unsafe { libc::_exit(127) }
    }
    // SAFETY: our copies of the write ends; the child has its own.
    unsafe {
        libc::close(out_write);
        libc::close(err_write);
    }
    let mut outputs = [(out_read, Vec::new(), false), (err_read, Vec::new(), false)];
    let mut status: Option<i32> = None;
    let mut ended_at: Option<std::time::Instant> = None;
    let mut killed = false;
    loop {
        if status.is_none() {
            let mut raw = 0;
            // SAFETY: our child, without blocking.
            if unsafe { libc::waitpid(child, &mut raw, libc::WNOHANG) } == child {
                status = Some(raw);
                ended_at = Some(std::time::Instant::now());
            }
        }
        let open: Vec<usize> = (0..2).filter(|&i| !outputs[i].2).collect();
        if open.is_empty() && status.is_some() {
            break;
        }
        if !killed && ended_at.is_some_and(|at| at.elapsed() > DRAIN_GRACE) {
            // What the test left holds the pipes: end it.
            // SAFETY: PID 1 signals every other process of its namespace.
            unsafe { libc::kill(-1, libc::SIGKILL) };
            killed = true;
        }
        let mut polls: Vec<libc::pollfd> = open
            .iter()
            .map(|&i| libc::pollfd {
                fd: outputs[i].0,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        if polls.is_empty() {
            // Both pipes closed, the test still running (it closed them itself): wait.
            let mut raw = 0;
            // SAFETY: our child.
            if unsafe { libc::waitpid(child, &mut raw, 0) } == child {
                status = Some(raw);
            }
            continue;
        }
        // SAFETY: pollfds of ours.
        unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 20) };
        for (poll, &i) in polls.iter().zip(&open) {
            if poll.revents == 0 {
                continue;
            }
            let mut chunk = [0u8; 8192];
            // SAFETY: reading into our buffer.
            let n = unsafe { libc::read(outputs[i].0, chunk.as_mut_ptr().cast(), chunk.len()) };
            if n <= 0 {
                outputs[i].2 = true;
                // SAFETY: closing our read end.
                unsafe { libc::close(outputs[i].0) };
            } else {
                let kept = &mut outputs[i].1;
                let room = request.cap.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..(n as usize).min(room)]);
            }
        }
    }
    // Nothing of this test reaches the next: every process left is killed and reaped.
    // SAFETY: PID 1 signals every other process of its namespace, then reaps them.
    unsafe {
        libc::kill(-1, libc::SIGKILL);
        let mut raw = 0;
        while libc::waitpid(-1, &mut raw, 0) > 0 {}
    }
    let [(_, stdout, _), (_, stderr, _)] = outputs;
    Ok(super::served::Response {
        status: status.unwrap_or(SETUP_FAILED << 8),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

#[cfg(target_os = "linux")]
/// Writes only under `writable`, `/tmp`, `/dev/shm` and `/dev/null`; abstract unix sockets
/// and signals kept inside (where the kernel has the scopes). Defence in depth behind the
/// read-only binds: a kernel without Landlock leaves the binds to do it alone.
fn landlock(writable: &[PathBuf]) {
    use landlock::{
        ABI, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, path_beneath_rules,
    };
    let abi = ABI::V5;
    let mut targets: Vec<PathBuf> = writable.to_vec();
    targets.extend(["/dev/null", "/tmp", "/dev/shm"].map(PathBuf::from));
    let _ = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(["/"], AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules(&targets, AccessFs::from_all(abi))))
        .and_then(|r| r.restrict_self());
}

#[cfg(target_os = "linux")]
/// System calls no test needs that would reach past the namespaces: tracing, mounting, new
/// namespaces (`clone` with a namespace flag, `unshare`, `setns`), kernel keyrings, BPF,
/// perf, userfaultfd, io_uring, module and reboot calls. `clone3` fails with `ENOSYS`, since
/// its flags sit where a filter cannot read them, so libc falls back to `clone`.
fn seccomp() -> Result<(), String> {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    use std::collections::BTreeMap;
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())?;
    let denied = [
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_fsopen,
        libc::SYS_fsmount,
        libc::SYS_fsconfig,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_mount_setattr,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_bpf,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_kexec_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_acct,
        libc::SYS_quotactl,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
    ];
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        denied.iter().map(|call| (*call, Vec::new())).collect();
    let namespace_flags = [
        libc::CLONE_NEWUSER,
        libc::CLONE_NEWNS,
        libc::CLONE_NEWPID,
        libc::CLONE_NEWNET,
        libc::CLONE_NEWIPC,
        libc::CLONE_NEWUTS,
        libc::CLONE_NEWCGROUP,
    ];
    let clone_rules = namespace_flags
        .iter()
        .map(|flag| {
            let flag = *flag as u64;
            SeccompCondition::new(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )
            .and_then(|condition| SeccompRule::new(vec![condition]))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    rules.insert(libc::SYS_clone, clone_rules);
    // Sockets of the families the network namespace confines, and netlink (interface
    // lists): not vsock, which reaches the hypervisor, nor any other.
    let other_family = [
        libc::AF_UNIX,
        libc::AF_INET,
        libc::AF_INET6,
        libc::AF_NETLINK,
    ]
    .iter()
    .map(|family| {
        SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, *family as u64)
    })
    .collect::<Result<Vec<_>, _>>()
    .and_then(SeccompRule::new)
    .map_err(|e| e.to_string())?;
    rules.insert(libc::SYS_socket, vec![other_family.clone()]);
    rules.insert(libc::SYS_socketpair, vec![other_family]);
    let compile = |rules, errno: i32| -> Result<BpfProgram, String> {
        SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(errno as u32),
            arch,
        )
        .and_then(BpfProgram::try_from)
        .map_err(|e| format!("seccomp: {e}"))
    };
    let denied = compile(rules, libc::EPERM)?;
    let clone3 = compile(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        libc::ENOSYS,
    )?;
    for program in [&denied, &clone3] {
        seccompiler::apply_filter(program).map_err(|e| format!("seccomp: {e}"))?;
    }
    refuse_x32()
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
/// x32 system calls carry the x86-64 audit arch with bit 30 set in their number, so a filter
/// that lists numbers misses them: refuse every such number (kernels with x32 would run them).
fn refuse_x32() -> Result<(), String> {
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    let errno = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    let program = [
        // A = seccomp_data.nr
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        // if A >= X32_SYSCALL_BIT goto refuse
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: X32_SYSCALL_BIT,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: errno,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: a valid filter program; no_new_privs is set.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(format!("seccomp: {}", std::io::Error::last_os_error()))
    }
}

#[cfg(all(target_os = "linux", not(target_arch = "x86_64")))]
fn refuse_x32() -> Result<(), String> {
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
