//! Child processes: run one to completion and read its CPU time and peak RSS from `wait4`, and keep the
//! test server running for as long as a guard lives.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Instant;

/// What one child process cost, as the kernel accounts it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Wall seconds from spawn to reaping.
    pub wall_s: f64,
    pub user_s: f64,
    pub sys_s: f64,
    /// Peak resident set size, KiB (`ru_maxrss`).
    pub max_rss_kib: u64,
    /// Exit code, or `None` when killed by a signal.
    pub exit_code: Option<i32>,
}

impl Usage {
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }
}

/// Make `cmd`'s child die with this process (SIGKILL when the spawning thread exits), so an interrupted
/// benchmark leaves no server or client behind.
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Run `cmd` to completion (stdout and stderr to the given files) and measure it. Also returns when it
/// was spawned and when it was reaped.
pub fn run_measured(mut cmd: Command, stdout: &Path, stderr: &Path) -> Result<(Usage, Instant, Instant)> {
    die_with_parent(&mut cmd);
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).with_context(|| format!("creating {}", stdout.display()))?)
        .stderr(std::fs::File::create(stderr).with_context(|| format!("creating {}", stderr.display()))?);
    let t0 = Instant::now();
    let child = cmd.spawn().with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("wait4");
        }
    }
    let t1 = Instant::now();
    let wall_s = t1.duration_since(t0).as_secs_f64();
    // The child is reaped: `Child` must not wait or kill it again. Dropping it does neither.
    drop(child);
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let usage = Usage {
        wall_s,
        user_s: tv(ru.ru_utime),
        sys_s: tv(ru.ru_stime),
        // Linux reports ru_maxrss in KiB.
        max_rss_kib: ru.ru_maxrss.max(0) as u64,
        exit_code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
    };
    Ok((usage, t0, t1))
}

/// A running `evalgap-testserver`; killed when dropped.
pub struct TestServer {
    child: Child,
    /// Held open so that the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    /// `http://127.0.0.1:PORT` (where `/stats` lives).
    pub root_url: String,
}

impl TestServer {
    pub fn start(binary: &Path, latency_ms: u64) -> Result<TestServer> {
        let mut cmd = Command::new(binary);
        cmd.args(["--port", "0", "--latency-ms", &latency_ms.to_string(), "--compliance", "0.5"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().with_context(|| format!("starting {}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout pipe")?);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let base_url = match (read, line.trim().strip_prefix("listening on ")) {
            (Ok(n), Some(url)) if n > 0 => url.to_string(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("{} did not print `listening on URL` (got {line:?})", binary.display());
            }
        };
        let root_url = base_url.trim_end_matches('/').trim_end_matches("/v1").to_string();
        Ok(TestServer { child, _stdout: stdout, base_url, root_url })
    }
}

impl TestServer {
    /// The server's CPU seconds (user + sys) so far, from `/proc/PID/stat`; `None` where unreadable.
    pub fn cpu_s(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name (which is in parentheses and may contain spaces): state is
        // field 3, utime field 14, stime field 15.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (hz > 0).then(|| ticks as f64 / hz as f64)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
