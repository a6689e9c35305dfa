//! One sandbox per worker, reused by the tests the worker runs one after another, so that a
//! test pays for a fork and an exec, not for namespaces and a new root. The built-in init,
//! started with `--serve`, reads one request a line (the test's program, arguments,
//! environment and directory), runs it confined exactly as a one-shot sandbox would, and
//! answers one line (its wait status and capped output). Between two tests it kills every
//! process the first one left (it is PID 1 of the namespace), so no test reaches the next.
//! A test that runs out of time takes its sandbox with it; the next test gets a new one.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::process::Finished;
use super::sandbox::{Limits, Mechanism, Sandbox};

/// One test to run, as the tool sends it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// Bytes kept of each of stdout and stderr.
    pub cap: usize,
}

/// How it ended, as the init answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    /// The raw wait status.
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A worker's way to run tests: through its served sandbox when the mechanism can serve, else
/// one sandbox per test.
pub struct Worker<'a> {
    sandbox: &'a Sandbox,
    limits: Limits,
    served: Option<Served>,
    /// The site probes' counter file its tests get, when the run has probes.
    counters: Option<super::probes::CounterFile>,
}

impl<'a> Worker<'a> {
    pub fn new(sandbox: &'a Sandbox, limits: Limits) -> Worker<'a> {
        Worker {
            sandbox,
            limits,
            served: None,
            counters: None,
        }
    }

    /// Hand `counters` to every test this worker runs (as descriptor 3).
    pub fn with_counters(mut self, counters: Option<super::probes::CounterFile>) -> Worker<'a> {
        self.counters = counters;
        self
    }

    /// The counter file its tests get.
    pub fn counters(&self) -> Option<&super::probes::CounterFile> {
        self.counters.as_ref()
    }

    /// Run `program args` in `cwd` with exactly `env`, confined, within `timeout`.
    pub fn run(
        &mut self,
        program: &Path,
        args: &[&str],
        cwd: &Path,
        env: &[(String, String)],
        timeout: Duration,
        cap: usize,
    ) -> anyhow::Result<Finished> {
        let counters = self.counters.as_ref().map(|c| c.file());
        if !matches!(self.sandbox.mechanism, Mechanism::Builtin(_)) {
            let mut command = self
                .sandbox
                .command(program, args, cwd, env, Some(self.limits));
            if let Some(counters) = counters {
                super::sandbox::pass_counters(&mut command, counters);
            }
            return super::process::run_with_timeout(command, timeout, cap);
        }
        let mut served = match self.served.take() {
            Some(served) => served,
            None => Served::start(self.sandbox, self.limits, counters)?,
        };
        let request = Request {
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: env.to_vec(),
            cwd: cwd.to_owned(),
            cap,
        };
        let start = Instant::now();
        match served.ask(&request, start + timeout) {
            Ok(response) => {
                self.served = Some(served);
                Ok(Finished {
                    status: Some(std::os::unix::process::ExitStatusExt::from_raw(
                        response.status,
                    )),
                    stdout: crate::secrets::redact(&response.stdout),
                    stderr: crate::secrets::redact(&response.stderr),
                    elapsed: start.elapsed(),
                })
            }
            // Out of time, or stopped by Ctrl-C (the caller sees which).
            Err(Ended::TimedOut) => {
                served.kill();
                Ok(Finished {
                    status: None,
                    stdout: String::new(),
                    stderr: String::new(),
                    elapsed: start.elapsed(),
                })
            }
            Err(Ended::Died(why)) => {
                let said = served.kill();
                anyhow::bail!("the sandbox ended before the test did ({why}): {said}")
            }
        }
    }
}

/// Why no answer came.
enum Ended {
    TimedOut,
    Died(String),
}

/// A running `__sandbox --serve`.
struct Served {
    child: Child,
    stdin: ChildStdin,
    /// The init's answers, read by the line.
    stdout: std::io::BufReader<std::process::ChildStdout>,
    stderr: Option<std::process::ChildStderr>,
    /// Waited for already: its process group id may belong to someone else now.
    ended: bool,
}

impl Served {
    fn start(
        sandbox: &Sandbox,
        limits: Limits,
        counters: Option<&std::fs::File>,
    ) -> anyhow::Result<Served> {
        let mut command: Command = sandbox.serve_command(limits, counters);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child = command.spawn().context("failed to start the sandbox")?;
        Ok(Served {
            stdin: child.stdin.take().expect("piped"),
            stdout: std::io::BufReader::new(child.stdout.take().expect("piped")),
            stderr: child.stderr.take(),
            child,
            ended: false,
        })
    }

    /// Send `request`; its answer, unless the deadline passes first or the sandbox dies.
    fn ask(&mut self, request: &Request, deadline: Instant) -> Result<Response, Ended> {
        let mut line = serde_json::to_string(request).expect("a request serializes");
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| Ended::Died(format!("it took no request: {e}")))?;
        let mut answer = String::new();
        loop {
            // What is buffered already needs no wait.
            // Waited for in slices, so that Ctrl-C ends the test at once.
            while self.stdout.buffer().is_empty() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() || crate::interrupt::interrupted() {
                    return Err(Ended::TimedOut);
                }
                if readable(&self.stdout, left.min(Duration::from_millis(100))) {
                    break;
                }
            }
            match self.stdout.read_line(&mut answer) {
                Ok(0) => return Err(Ended::Died("it closed its output".to_owned())),
                Ok(_) if answer.ends_with('\n') => break,
                Ok(_) => continue,
                Err(e) => return Err(Ended::Died(e.to_string())),
            }
        }
        serde_json::from_str(&answer).map_err(|e| Ended::Died(format!("a garbled answer: {e}")))
    }

    /// End the sandbox and everything in it; what it said on stderr.
    fn kill(mut self) -> String {
        // SAFETY: the sandbox leads its own process group.
        unsafe { libc::killpg(self.child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.ended = true;
        let mut said = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            use std::io::Read as _;
            let _ = stderr.read_to_string(&mut said);
        }
        said.trim().to_owned()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        // The group kill ends the init and anything left.
        // SAFETY: the sandbox leads its own process group, not yet waited for.
        unsafe { libc::killpg(self.child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Whether `reader`'s descriptor has something to read (or is closed) within `wait`.
fn readable(reader: &std::io::BufReader<std::process::ChildStdout>, wait: Duration) -> bool {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd {
        fd: reader.get_ref().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = wait.as_millis().min(i32::MAX as u128) as i32;
    loop {
        // SAFETY: one pollfd of ours.
        let ready = unsafe { libc::poll(&mut poll, 1, millis.max(1)) };
        if ready >= 0 {
            return ready > 0;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}
