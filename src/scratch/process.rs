//! Running a child process with a deadline: its own process group, output captured up to a
//! cap, and the whole group killed when time runs out.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    /// `None` when the deadline passed and the process group was killed.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    /// The signal that ended the process, if one did.
    pub fn signal(&self) -> Option<i32> {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            self.status.and_then(|s| s.signal())
        }
        #[cfg(not(unix))]
        {
            None
        }
    }
}

/// How long output still trickling in after the child ended is waited for: a daemon the child
/// left behind may hold the pipes open forever.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// Run `command` to completion or until `timeout`, capturing at most `cap` bytes of each of
/// stdout and stderr (the rest is read and dropped, so the child never blocks on a full pipe).
pub fn run_with_timeout(
    command: Command,
    timeout: Duration,
    cap: usize,
) -> anyhow::Result<Finished> {
    run_with_input(command, None, timeout, cap)
}

/// [`run_with_timeout`], with `input` written to the child's standard input (then closed) on
/// a thread of its own: a prompt never goes on a command line, where `ps` would show it.
pub fn run_with_input(
    mut command: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    cap: usize,
) -> anyhow::Result<Finished> {
    command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("failed to start {:?}", command.get_program()))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // A child that exits without reading all of it closes the pipe: the write fails, and
        // its exit says why.
        std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut stdin, &input);
        });
    }
    let stdout = Capture::start(child.stdout.take(), cap);
    let stderr = Capture::start(child.stderr.take(), cap);
    let status = wait_until(&mut child, start + timeout)?;
    if status.is_none() {
        kill_group(&mut child);
    }
    let drain_deadline = Instant::now() + DRAIN_GRACE;
    // What a sandboxed build or test says leaves here with the environment's secrets out:
    // reports, decisions and every request to a model are made from it.
    Ok(Finished {
        status,
        stdout: crate::secrets::redact(&stdout.finish(drain_deadline)),
        stderr: crate::secrets::redact(&stderr.finish(drain_deadline)),
        elapsed: start.elapsed(),
    })
}

/// One pipe read on its own thread into a buffer shared with the caller, so the caller can
/// take what has arrived without waiting for the pipe to close.
struct Capture {
    buffer: Arc<Mutex<Captured>>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Captured {
    kept: Vec<u8>,
    dropped: usize,
}

impl Capture {
    fn start(pipe: Option<impl Read + Send + 'static>, cap: usize) -> Capture {
        let buffer = Arc::new(Mutex::new(Captured::default()));
        let shared = Arc::clone(&buffer);
        let thread = pipe.map(|mut pipe| {
            std::thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let mut captured = shared.lock().unwrap_or_else(|e| e.into_inner());
                            let room = cap.saturating_sub(captured.kept.len());
                            captured.kept.extend_from_slice(&chunk[..n.min(room)]);
                            captured.dropped += n.saturating_sub(room);
                        }
                    }
                }
            })
        });
        Capture { buffer, thread }
    }

    /// What arrived, once the pipe closes or `deadline` passes (the reader thread is then left
    /// to end whenever the pipe's last holder does).
    fn finish(mut self, deadline: Instant) -> String {
        if let Some(thread) = self.thread.take() {
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
        let captured = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = String::from_utf8_lossy(&captured.kept).into_owned();
        if captured.dropped > 0 {
            text.push_str(&format!(
                "\n[dualtrack: {} more bytes of output dropped]\n",
                captured.dropped
            ));
        }
        text
    }
}

/// Poll the child until it exits or the deadline passes.
fn wait_until(child: &mut Child, deadline: Instant) -> anyhow::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child
            .try_wait()
            .context("failed to wait for a child process")?
        {
            return Ok(Some(status));
        }
        let now = Instant::now();
        // Ctrl-C ends the child too: it is in its own process group, out of the terminal's reach.
        if now >= deadline || crate::interrupt::interrupted() {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Kill the child's whole process group, then reap the child.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        // The child leads its own group (process_group(0)), so its pid is the group id.
        let group = child.id() as libc::pid_t;
        // SAFETY: killpg only sends a signal; a stale group id fails with ESRCH.
        unsafe {
            libc::killpg(group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(all(test, unix))]
mod test {
    use super::*;

    fn shell(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn captures_output_and_status() {
        let finished = run_with_timeout(
            shell("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
            1024,
        )
        .unwrap();
        assert_eq!(finished.status.unwrap().code(), Some(3));
        assert_eq!(finished.stdout, "out\n");
        assert_eq!(finished.stderr, "err\n");
    }

    #[test]
    fn a_hung_process_and_its_children_are_killed_at_the_deadline() {
        let marker = tempfile::tempdir().unwrap();
        let file = marker.path().join("child-survived");
        let script = format!("(sleep 2; touch {}) & sleep 30", file.display());
        let finished = run_with_timeout(shell(&script), Duration::from_millis(200), 1024).unwrap();
        assert!(finished.timed_out());
        assert!(finished.elapsed < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(2500));
        assert!(
            !file.exists(),
            "a child of the timed-out process outlived it"
        );
    }

    #[test]
    fn output_beyond_the_cap_is_dropped_and_counted() {
        let finished =
            run_with_timeout(shell("yes | head -c 100000"), Duration::from_secs(10), 100).unwrap();
        assert!(finished.stdout.starts_with("y\ny\n"));
        assert!(
            finished
                .stdout
                .contains("99900 more bytes of output dropped")
        );
    }

    #[test]
    fn a_leftover_background_process_holding_the_pipes_does_not_hold_up_the_result() {
        // Waiting for the pipes to close would also capture "late", four seconds on.
        let finished = run_with_timeout(
            shell("(sleep 4; echo late) & echo early"),
            Duration::from_secs(30),
            1024,
        )
        .unwrap();
        assert_eq!(finished.status.unwrap().code(), Some(0));
        assert_eq!(finished.stdout, "early\n");
    }

    #[test]
    fn input_reaches_the_child_on_its_standard_input() {
        let finished = run_with_input(
            shell("tr a-z A-Z"),
            Some(b"prompt".to_vec()),
            Duration::from_secs(10),
            1024,
        )
        .unwrap();
        assert_eq!(finished.stdout, "PROMPT");
    }

    #[test]
    fn a_signal_is_reported() {
        let finished =
            run_with_timeout(shell("kill -ABRT $$"), Duration::from_secs(10), 100).unwrap();
        assert_eq!(finished.signal(), Some(libc::SIGABRT));
    }
}
