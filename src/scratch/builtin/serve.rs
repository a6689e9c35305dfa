//! The built-in sandbox serving tests one after another: each request line run in a fresh
//! confined process of the sandbox, answered with its wait status and output, and everything
//! it left killed and reaped before the next.

use std::ffi::CString;

use super::filter::Seccomp;
use super::root::{empty_tmp, private_writes};
use super::{InitArgs, SETUP_FAILED, confine, pipe};
#[cfg(target_os = "linux")]
/// PID 1 serving: each request line run in a fresh confined process, answered with its wait
/// status and output; then every process it left is killed and reaped. Ends at end of input.
pub(super) fn serve(args: &InitArgs) -> i32 {
    use std::io::{BufRead as _, Write as _};
    // Nobody in the sandbox may open this process's pipes through /proc, or trace it.
    // SAFETY: prctl on this process.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0) };
    // The seccomp programs compiled once: every test's process applies its own copy.
    let seccomp = match Seccomp::compile() {
        Ok(seccomp) => seccomp,
        Err(message) => {
            eprintln!("dualtrack sandbox: {message}");
            return SETUP_FAILED;
        }
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            return SETUP_FAILED;
        };
        let request: crate::scratch::served::Request = match serde_json::from_str(&line) {
            Ok(request) => request,
            Err(err) => {
                eprintln!("dualtrack sandbox: a garbled request: {err}");
                return SETUP_FAILED;
            }
        };
        let response = match run_request(args, &request, &seccomp) {
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
pub(super) const DRAIN_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

#[cfg(target_os = "linux")]
pub(super) fn run_request(
    args: &InitArgs,
    request: &crate::scratch::served::Request,
    seccomp: &Seccomp,
) -> Result<crate::scratch::served::Response, String> {
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
        if let Err(message) =
            private_writes(args).and_then(|()| confine(args, &request.cwd, seccomp))
        {
            eprintln!("dualtrack sandbox: {message}");
            // SAFETY: leave the child at once.
            unsafe { libc::_exit(SETUP_FAILED) };
        }
        // The probes' counter file, when the tool handed one, stays open for the test.
        crate::scratch::sandbox::close_inherited_descriptors_from(if args.probe_fd {
            crate::scratch::probes::PROBE_FD as u32 + 1
        } else {
            3
        });
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
    Ok(crate::scratch::served::Response {
        status: status.unwrap_or(SETUP_FAILED << 8),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}
