//! The built-in sandbox's kernel filters on a command: seccomp (system calls that reach past
//! the namespaces, x32 numbers) and Landlock (writes only where the sandbox allows).

use std::path::PathBuf;
#[cfg(target_os = "linux")]
/// The seccomp programs of a command, compiled once per sandbox (that costs more than a short
/// test takes) and installed in each command's process before exec.
pub(super) struct Seccomp(Vec<seccompiler::BpfProgram>);

#[cfg(target_os = "linux")]
impl Seccomp {
    pub(super) fn compile() -> Result<Seccomp, String> {
        seccomp().map(Seccomp)
    }

    /// Install the programs in this process (no_new_privs must be set).
    pub(super) fn apply(&self) -> Result<(), String> {
        for program in &self.0 {
            seccompiler::apply_filter(program).map_err(|e| format!("seccomp: {e}"))?;
        }
        refuse_x32()
    }
}

#[cfg(target_os = "linux")]
/// Writes only under `writable`, `/tmp`, `/dev/shm` and `/dev/null`; abstract unix sockets
/// and signals kept inside (where the kernel has the scopes). Defence in depth behind the
/// read-only binds: a kernel without Landlock leaves the binds to do it alone. Made in the
/// command's process after its own mounts: a rule holds the file system object a path names
/// when it is made, and a tmpfs mounted over the path later is another.
pub(super) fn landlock(writable: &[PathBuf]) {
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
/// its flags sit where a filter cannot read them, so libc falls back to `clone`. Compiled
/// here; `Seccomp::apply` installs them.
fn seccomp() -> Result<Vec<seccompiler::BpfProgram>, String> {
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
    Ok(vec![denied, clone3])
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
/// x32 system calls carry the x86-64 audit arch with bit 30 set in their number, so a filter
/// that lists numbers misses them: refuse every such number (kernels with x32 would run them).
pub(super) fn refuse_x32() -> Result<(), String> {
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
pub(super) fn refuse_x32() -> Result<(), String> {
    Ok(())
}
