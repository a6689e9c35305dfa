//! The built-in sandbox's filesystem: a root of its own (tmpfs, read-only binds, a fresh
//! `/proc` with its kernel settings read-only, a minimal `/dev`, an empty `/tmp`), and per
//! command fresh size-limited places to write in a mount and IPC namespace of its own.

use std::ffi::CString;

use super::InitArgs;
#[cfg(target_os = "linux")]
/// The new root, as bubblewrap builds it: a tmpfs holding only the binds asked for, a fresh
/// `/proc`, a minimal `/dev` and an empty `/tmp`; the host's root is then detached, so the
/// user's tree, `/etc`, `/root` and every host socket are simply not there.
pub(super) fn new_root(args: &InitArgs) -> Result<(), String> {
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
pub(super) fn bind(
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
pub(super) fn make_dir(path: &str) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("cannot make {path}: {e}"))
}

#[cfg(target_os = "linux")]
pub(super) fn mount(
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
pub(super) fn pivot_root(new_root: &str, put_old: &str) -> Result<(), String> {
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
/// With `--private-writes`, in the command's process while it still has its capabilities in
/// the namespace: a mount and IPC namespace of its own, where the writable trees, `/tmp` and
/// `/dev/shm` are fresh tmpfs no larger than the file size limit. What a test writes dies with
/// it: nothing reaches the host's disk, the next test, or memory past that size.
pub(super) fn private_writes(args: &InitArgs) -> Result<(), String> {
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
pub(super) fn private_tmpfs_options(args: &InitArgs) -> String {
    format!("mode=1777,size={}", args.file_size.unwrap_or(256 << 20))
}

#[cfg(target_os = "linux")]
/// The names in `/tmp` that lead to trees the sandbox shows there.
pub(super) fn binds_under_tmp(args: &InitArgs) -> Vec<std::ffi::OsString> {
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
pub(super) fn empty_tmp(args: &InitArgs) {
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
