//! `evalgap-bench`: evalgap's performance against the planted test server.
//!
//! ```text
//! cargo build --release -p evalgap -p evalgap-testserver -p evalgap-bench && target/release/evalgap-bench
//! ```
//!
//! Every measured client runs as a child process; its CPU time and peak RSS come from `wait4`. The
//! bare client (`evalgap-bench bare ...`) sends the same requests as `evalgap run` with the same
//! concurrency, and does nothing else: no store, no judging. It sends through reqwest, the client a
//! user would write; a second bare run (`bare --lean`) sends through evalgap's own HTTP/1.1 client,
//! so the table also shows evalgap against the same transport (evalgap's own work alone). Figures:
//!
//! * evalgap's trials/s over the bare client's, both at zero server latency (goal ≥ 0.9);
//! * evalgap's client CPU seconds per 1,000 trials (goal < 0.2);
//! * with the server answering after 200 ms, the server-side mean number of requests in flight over
//!   `--concurrency` (goal ≥ 0.97);
//! * the share of wall time evalgap spends in itself on 10,000 variants (`--transform all`: 1,000 cases
//!   plain and under the 9 template transforms, one attempt each): 1 - the bare client's wall time for
//!   as many requests over evalgap's (goal < 5%); beside it, for information, the same share against
//!   both bare clients sending the very requests the variant run sent (`bare --requests`, read from
//!   its store: transformed bodies are larger, which costs the client and the server too), and the
//!   same share with the server answering after 10 ms (how much is left once there is a wait);
//! * evalgap's peak RSS at `--trials` and at `--big-trials` (goal: within 20%). The suite is fixed at
//!   2,000 cases and only the attempts per case vary, so the comparison isolates growth with the number
//!   of trials.

mod bare;
mod phases;
mod proc;
mod report;
mod workload;

use anyhow::{bail, ensure, Context, Result};
use clap::{Args, Parser, Subcommand};
use phases::{Phases, Poller};
use proc::{run_measured, TestServer};
use report::{count, Goal, Metric, RunResult, Tool};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// Measure evalgap against the planted test server and a bare client; print a Markdown table and
/// write the figures as JSON.
#[derive(Parser, Debug)]
#[command(name = "evalgap-bench", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    bench: BenchArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The bare client (run as a child by the benchmark): send the requests, parse the answers, count.
    Bare(BareArgs),
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Trials of the throughput and CPU runs.
    #[arg(long, default_value_t = 20_000)]
    trials: u64,
    /// Trials of the large run (peak RSS must stay within 20% of the --trials run).
    #[arg(long, default_value_t = 200_000)]
    big_trials: u64,
    /// Requests in flight at once, for evalgap and the bare client alike.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Smoke run: every trial count divided by 10.
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON results (default: `bench-results.json` in the `target` folder, next to
    /// the folder of this executable).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct BareArgs {
    /// Base URL, e.g. `http://127.0.0.1:PORT/v1`.
    #[arg(long)]
    url: String,
    #[arg(long, default_value = workload::MODEL)]
    model: String,
    #[arg(long)]
    trials: u64,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Request `i` carries the text of case `i % cases` of the benchmark suite.
    #[arg(long, default_value_t = workload::CASES)]
    cases: usize,
    /// Send through evalgap's lean HTTP/1.1 client instead of reqwest.
    #[arg(long)]
    lean: bool,
    /// Send these requests instead of the suite's plain texts: one per line, the `messages` JSON,
    /// then a tab and the `tools` JSON if any (request `i` uses line `i % lines`).
    #[arg(long, value_name = "FILE")]
    requests: Option<PathBuf>,
}

/// Variants per case under `--transform all`: the plain case and the 9 template transforms.
const TEMPLATE_VARIANTS: u64 = 10;
/// Variants of the `--transform all` run (10,000: 1,000 cases x 10).
const VARIANT_TRIALS: u64 = 10_000;

/// Server latency of the in-flight runs.
const SLOW_LATENCY_MS: u64 = 200;
/// Server latency of the second variant-run comparison, in milliseconds.
const NEAR_LATENCY_MS: u64 = 10;
/// Trials of each in-flight run, per unit of concurrency.
const IN_FLIGHT_ROUNDS: u64 = 40;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Cmd::Bare(a)) => bare_main(a),
        None => bench_main(cli.bench),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("evalgap-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn bare_main(a: BareArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // Read before the clock starts: what a client holds in memory before it sends.
    let requests = match &a.requests {
        Some(path) => bare::Requests::Given(bare::read_requests(path)?),
        None => bare::Requests::Plain { cases: a.cases },
    };
    let summary = rt.block_on(bare::run_bare(&a.url, &a.model, a.trials, a.concurrency, requests, a.lean))?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

/// The release binaries the benchmark runs.
struct Binaries {
    me: PathBuf,
    evalgap: PathBuf,
    testserver: PathBuf,
    dir: PathBuf,
}

fn locate() -> Result<Binaries> {
    let me = std::env::current_exe().context("locating this executable")?;
    let dir = me.parent().context("this executable has no folder")?.to_path_buf();
    let evalgap = dir.join(format!("evalgap{}", std::env::consts::EXE_SUFFIX));
    let testserver = dir.join(format!("evalgap-testserver{}", std::env::consts::EXE_SUFFIX));
    let missing: Vec<String> =
        [&evalgap, &testserver].iter().filter(|p| !p.is_file()).map(|p| p.display().to_string()).collect();
    if !missing.is_empty() {
        bail!(
            "missing {}; build them next to this executable first:\n  \
             cargo build --release -p evalgap -p evalgap-testserver -p evalgap-bench",
            missing.join(" and ")
        );
    }
    Ok(Binaries { me, evalgap, testserver, dir })
}

/// Sizes of the runs.
#[derive(Debug, Clone, Copy)]
struct Plan {
    concurrency: usize,
    cases: usize,
    attempts: u64,
    big_attempts: u64,
    in_flight_attempts: u64,
    quick: bool,
}

impl Plan {
    fn new(a: &BenchArgs) -> Result<Plan> {
        ensure!(a.concurrency > 0, "--concurrency must be at least 1");
        let div = if a.quick { 10 } else { 1 };
        let (trials, big) = (a.trials / div, a.big_trials / div);
        ensure!(trials > 0 && big > 0, "--trials and --big-trials must be positive (after --quick's division)");
        let cases = workload::CASES.min(trials as usize);
        let per_case = |n: u64| (n / cases as u64).max(1);
        Ok(Plan {
            concurrency: a.concurrency,
            cases,
            attempts: per_case(trials),
            big_attempts: per_case(big),
            in_flight_attempts: (IN_FLIGHT_ROUNDS / div).max(1),
            quick: a.quick,
        })
    }

    fn trials(&self) -> u64 {
        self.cases as u64 * self.attempts
    }

    fn big_trials(&self) -> u64 {
        self.cases as u64 * self.big_attempts
    }

    /// Cases of the `--transform all` run.
    fn variant_cases(&self) -> usize {
        (VARIANT_TRIALS / TEMPLATE_VARIANTS / if self.quick { 10 } else { 1 }) as usize
    }

    fn variant_trials(&self) -> u64 {
        self.variant_cases() as u64 * TEMPLATE_VARIANTS
    }

    fn in_flight_trials(&self) -> u64 {
        self.concurrency as u64 * self.in_flight_attempts
    }
}

/// Talks to the test server's `/stats` from the orchestrating process.
struct StatsClient {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl StatsClient {
    fn new() -> Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(StatsClient { rt, http: reqwest::Client::new() })
    }

    fn reset(&self, server: &TestServer) -> Result<()> {
        let url = format!("{}/stats/reset", server.root_url);
        self.rt.block_on(async {
            self.http.post(&url).send().await?.error_for_status()?;
            Ok::<_, reqwest::Error>(())
        })?;
        Ok(())
    }

    fn get(&self, server: &TestServer) -> Result<Value> {
        let url = format!("{}/stats", server.root_url);
        let v =
            self.rt.block_on(async { self.http.get(&url).send().await?.error_for_status()?.json::<Value>().await })?;
        Ok(v)
    }
}

/// Runs children against a server, each in a fresh temporary folder.
struct Runner<'a> {
    bins: &'a Binaries,
    stats: StatsClient,
    root: &'a Path,
}

/// One measured child, with the server's view of it.
struct Measured {
    usage: proc::Usage,
    phases: Option<Phases>,
    server_cpu_s: Option<f64>,
}

impl RunResult {
    /// A finished client run; the server's side is filled in by `Runner::finish`.
    #[allow(clippy::too_many_arguments)]
    fn of(
        label: String,
        tool: Tool,
        trials: u64,
        c: usize,
        latency_ms: u64,
        m: Measured,
        ok: u64,
        failed: u64,
    ) -> Self {
        RunResult {
            label,
            tool,
            trials,
            concurrency: c,
            latency_ms,
            usage: m.usage,
            phases: m.phases,
            server_cpu_s: m.server_cpu_s,
            ok,
            failed,
            ..Default::default()
        }
    }
}

impl Runner<'_> {
    /// Reset the server's stats, run `cmd` under a stats poller, and measure it.
    fn measure(&self, server: &TestServer, cmd: Command, dir: &Path) -> Result<Measured> {
        self.stats.reset(server)?;
        let cpu0 = server.cpu_s();
        let poller = Poller::start(format!("{}/stats", server.root_url))?;
        let (out, err) = (dir.join("stdout"), dir.join("stderr"));
        let measured = run_measured(cmd, &out, &err);
        let ended = Instant::now();
        let (usage, started, reaped) = match measured {
            Ok(m) => m,
            Err(e) => {
                poller.finish(ended, ended);
                return Err(e);
            }
        };
        let phases = poller.finish(started, reaped);
        let server_cpu_s = cpu0.zip(server.cpu_s()).map(|(a, b)| b - a);
        Ok(Measured { usage, phases, server_cpu_s })
    }

    /// Fill in the server's view of the run just finished, print it, and check every trial got through.
    fn finish(&self, server: &TestServer, mut r: RunResult) -> Result<RunResult> {
        let s = self.stats.get(server)?;
        r.server_requests = s["requests"].as_u64().context("no `requests` in /stats")?;
        r.mean_in_flight = s["mean_in_flight"].as_f64().context("no `mean_in_flight` in /stats")?;
        r.max_in_flight = s["max_in_flight"].as_u64().context("no `max_in_flight` in /stats")?;
        let trials = r.trials;
        eprintln!(
            "  {:.2} s ({}), {:.0} trials/s, {:.3} CPU s per 1,000 trials (server {}), peak RSS {:.1} MiB, \
             server saw {} requests, mean in flight {:.1} (max {})",
            r.usage.wall_s,
            if r.phases.is_some() {
                format!("start-up + sending + tail = {}", r.phases_text())
            } else {
                "no phases".into()
            },
            r.trials_per_s(),
            r.cpu_s_per_1000(),
            r.server_cpu_s_per_1000().map_or("?".into(), |c| format!("{c:.3}")),
            r.rss_mib(),
            count(r.server_requests),
            r.mean_in_flight,
            r.max_in_flight
        );
        ensure!(
            r.ok == trials && r.failed == 0,
            "{}: {} of {} trials got a response ({} failed)",
            r.label,
            r.ok,
            trials,
            r.failed
        );
        ensure!(
            r.server_requests == trials,
            "{}: the server saw {} requests, not {trials}",
            r.label,
            r.server_requests
        );
        Ok(r)
    }

    #[allow(clippy::too_many_arguments)]
    fn bare(
        &self,
        server: &TestServer,
        latency_ms: u64,
        label: &str,
        trials: u64,
        c: usize,
        cases: usize,
        lean: bool,
        requests: Option<&Path>,
    ) -> Result<RunResult> {
        let kind = match (lean, requests.is_some()) {
            (false, false) => "bare",
            (true, false) => "bare on evalgap's HTTP/1.1 client",
            (false, true) => "bare, evalgap's requests",
            (true, true) => "bare on evalgap's HTTP/1.1 client, evalgap's requests",
        };
        let label = format!("{label} ({kind}, {} trials, {latency_ms} ms)", count(trials));
        eprintln!("{label} ...");
        let dir = tempfile::Builder::new().prefix("bare-").tempdir_in(self.root)?;
        let mut cmd = Command::new(&self.bins.me);
        cmd.arg("bare").args(["--url", &server.base_url, "--model", workload::MODEL]).args([
            "--trials",
            &trials.to_string(),
            "--concurrency",
            &c.to_string(),
            "--cases",
            &cases.to_string(),
        ]);
        if lean {
            cmd.arg("--lean");
        }
        if let Some(path) = requests {
            cmd.arg("--requests").arg(path);
        }
        let measured = self.measure(server, cmd, dir.path())?;
        let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
        let stderr = std::fs::read_to_string(&err).unwrap_or_default();
        ensure!(
            measured.usage.exit_code == Some(0),
            "bare client failed ({:?}): {}",
            measured.usage.exit_code,
            stderr.trim()
        );
        let summary: bare::BareSummary =
            serde_json::from_str(std::fs::read_to_string(&out)?.trim()).context("reading the bare client's summary")?;
        self.finish(
            server,
            RunResult::of(label, Tool::Bare, trials, c, latency_ms, measured, summary.ok, summary.failed),
        )
    }

    /// `evalgap run` of `cases` x `attempts`; `extra` flags that give each case `variants` variants
    /// (`--transform all`), or none and 1.
    #[allow(clippy::too_many_arguments)]
    fn evalgap(
        &self,
        server: &TestServer,
        latency_ms: u64,
        label: &str,
        suite: &Path,
        cases: usize,
        attempts: u64,
        c: usize,
        variants: u64,
        extra: &[&str],
        sent_requests: Option<&Path>,
    ) -> Result<RunResult> {
        let trials = cases as u64 * attempts * variants;
        let label = format!("{label} (evalgap, {} trials, {latency_ms} ms)", count(trials));
        eprintln!("{label} ...");
        let dir = tempfile::Builder::new().prefix("evalgap-").tempdir_in(self.root)?;
        let mut cmd = Command::new(&self.bins.evalgap);
        cmd.arg("run")
            .arg("--suite")
            .arg(suite)
            .args(["--target", &format!("openai:{}@{}", workload::MODEL, server.base_url)])
            .args(["--attempts", &attempts.to_string(), "--concurrency", &c.to_string()])
            .arg("--out")
            .arg(dir.path().join("run"))
            .arg("--quiet")
            .args(extra)
            .env_remove("EVALGAP_API_KEY")
            .env_remove("OPENAI_API_KEY");
        let measured = self.measure(server, cmd, dir.path())?;
        let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
        ensure!(
            measured.usage.exit_code == Some(0),
            "evalgap run failed ({:?}): {}",
            measured.usage.exit_code,
            stderr.trim()
        );
        let summary = parse_evalgap_summary(&stderr)
            .with_context(|| format!("no `N trials: R responses, F faults` line in evalgap's stderr: {stderr}"))?;
        ensure!(summary.0 == trials, "evalgap planned {} trials, not {trials}", summary.0);
        if let Some(path) = sent_requests {
            write_sent_requests(&dir.path().join("run").join("evalgap.sqlite"), path)?;
        }
        self.finish(server, RunResult::of(label, Tool::Evalgap, trials, c, latency_ms, measured, summary.1, summary.2))
    }
}

/// The requests a run sent, one per variant in plan order, for `bare --requests`: the `messages`
/// JSON, and a tab and the `tools` JSON when the variant has tools. Read from the run's store.
fn write_sent_requests(store: &Path, out: &Path) -> Result<()> {
    let conn = rusqlite::Connection::open(store).with_context(|| format!("opening {}", store.display()))?;
    // A variant's tools are in its body, or stored once in `tools` (schema 3).
    let mut stmt = conn.prepare(
        "SELECT b.body, tl.body FROM variant_bodies b LEFT JOIN tools tl ON tl.hash = b.tools ORDER BY b.vseq",
    )?;
    let mut rows = stmt.query([])?;
    let mut text = String::new();
    while let Some(row) = rows.next()? {
        let variant: Value = serde_json::from_str(&row.get::<_, String>(0)?)?;
        text.push_str(&serde_json::to_string(&variant["messages"])?);
        let stored: Option<String> = row.get(1)?;
        let tools = match stored {
            Some(t) => Some(t),
            None => variant.get("tools").filter(|t| !t.is_null()).map(serde_json::to_string).transpose()?,
        };
        if let Some(tools) = tools {
            text.push('\t');
            text.push_str(&tools);
        }
        text.push('\n');
    }
    ensure!(!text.is_empty(), "{}: no variants", store.display());
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))
}

/// `(trials, responses, faults)` from evalgap's `N trials: R responses, F faults, P pending (...)` line.
fn parse_evalgap_summary(stderr: &str) -> Option<(u64, u64, u64)> {
    let line = stderr.lines().rev().find(|l| l.contains(" trials: ") && l.contains(" responses, "))?;
    let (trials, rest) = line.split_once(" trials: ")?;
    let mut parts = rest.split(", ");
    let num = |s: Option<&str>, what: &str| s?.strip_suffix(what)?.trim().parse::<u64>().ok();
    let responses = num(parts.next(), " responses")?;
    let faults = num(parts.next(), " faults")?;
    Some((trials.trim().parse().ok()?, responses, faults))
}

fn best<'a>(runs: &[&'a RunResult], key: impl Fn(&RunResult) -> f64, higher_is_better: bool) -> &'a RunResult {
    let mut best = runs[0];
    for r in &runs[1..] {
        let better = if higher_is_better { key(r) > key(best) } else { key(r) < key(best) };
        if better {
            best = r;
        }
    }
    best
}

fn bench_main(args: BenchArgs) -> Result<()> {
    let bins = locate()?;
    let plan = Plan::new(&args)?;
    let json_path =
        args.json.clone().unwrap_or_else(|| bins.dir.parent().unwrap_or(&bins.dir).join("bench-results.json"));
    let root = tempfile::Builder::new().prefix("evalgap-bench-").tempdir()?;
    let suite = root.path().join("suite.jsonl");
    workload::write_suite(&suite, plan.cases)?;
    let in_flight_suite = root.path().join("in-flight.jsonl");
    workload::write_suite(&in_flight_suite, plan.concurrency)?;
    let runner = Runner { bins: &bins, stats: StatsClient::new()?, root: root.path() };
    let c = plan.concurrency;
    eprintln!(
        "evalgap-bench: concurrency {c}, suite of {} cases; {} trials = {} attempts per case, {} trials = {}{}",
        count(plan.cases as u64),
        count(plan.trials()),
        plan.attempts,
        count(plan.big_trials()),
        plan.big_attempts,
        if plan.quick { " (--quick)" } else { "" }
    );

    // Zero latency: throughput, CPU, RSS.
    let server = TestServer::start(&bins.testserver, 0)?;
    eprintln!("test server at {} (latency 0 ms)", server.base_url);
    let bare1 = runner.bare(&server, 0, "run 1", plan.trials(), c, plan.cases, false, None)?;
    let eg1 = runner.evalgap(&server, 0, "run 2", &suite, plan.cases, plan.attempts, c, 1, &[], None)?;
    let bare2 = runner.bare(&server, 0, "run 3", plan.trials(), c, plan.cases, false, None)?;
    let eg2 = runner.evalgap(&server, 0, "run 4", &suite, plan.cases, plan.attempts, c, 1, &[], None)?;
    let big = runner.evalgap(&server, 0, "run 5", &suite, plan.cases, plan.big_attempts, c, 1, &[], None)?;
    // The bare client again, sending through evalgap's own HTTP/1.1 client instead of reqwest:
    // what is left of the gap is evalgap's own work (store, judging, plan, reports).
    let bare_lean = runner.bare(&server, 0, "run 5b", plan.trials(), c, plan.cases, true, None)?;
    // Every template transform: each case plain and under the whole catalogue, one attempt each.
    let variants_suite = root.path().join("variants.jsonl");
    workload::write_suite(&variants_suite, plan.variant_cases())?;
    let all = ["--transform", "all"];
    let (vc, vn) = (plan.variant_cases(), TEMPLATE_VARIANTS);
    let bare_v = runner.bare(&server, 0, "run 6", plan.variant_trials(), c, plan.cases, false, None)?;
    let sent = root.path().join("variant-requests.txt");
    let eg_v1 =
        runner.evalgap(&server, 0, "run 7, --transform all", &variants_suite, vc, 1, c, vn, &all, Some(&sent))?;
    let eg_v2 = runner.evalgap(&server, 0, "run 8, --transform all", &variants_suite, vc, 1, c, vn, &all, None)?;
    // The bare clients again, sending the very requests the variant runs sent (larger bodies cost
    // the client and the server more): what is left is evalgap's own work on them.
    let vt = plan.variant_trials();
    let bare_vs = runner.bare(&server, 0, "run 8b", vt, c, plan.cases, false, Some(&sent))?;
    let bare_vs_lean = runner.bare(&server, 0, "run 8c", vt, c, plan.cases, true, Some(&sent))?;
    drop(server);

    // 200 ms latency: requests in flight.
    let slow = TestServer::start(&bins.testserver, SLOW_LATENCY_MS)?;
    eprintln!("test server at {} (latency {SLOW_LATENCY_MS} ms)", slow.base_url);
    let eg_if = runner.evalgap(
        &slow,
        SLOW_LATENCY_MS,
        "run 9",
        &in_flight_suite,
        c,
        plan.in_flight_attempts,
        c,
        1,
        &[],
        None,
    )?;
    let bare_if = runner.bare(&slow, SLOW_LATENCY_MS, "run 10", plan.in_flight_trials(), c, c, false, None)?;
    drop(slow);

    // The variant run again with the server answering after a few milliseconds, as the nearest
    // real endpoints do: how much of the zero-latency share is left once there is a wait to hide in.
    let near = TestServer::start(&bins.testserver, NEAR_LATENCY_MS)?;
    eprintln!("test server at {} (latency {NEAR_LATENCY_MS} ms)", near.base_url);
    let bare_near = runner.bare(&near, NEAR_LATENCY_MS, "run 11", vt, c, plan.cases, false, None)?;
    let eg_near =
        runner.evalgap(&near, NEAR_LATENCY_MS, "run 12, --transform all", &variants_suite, vc, 1, c, vn, &all, None)?;
    drop(near);

    let runs = [
        &bare1,
        &eg1,
        &bare2,
        &eg2,
        &big,
        &eg_if,
        &bare_if,
        &bare_v,
        &eg_v1,
        &eg_v2,
        &bare_lean,
        &bare_vs,
        &bare_vs_lean,
        &bare_near,
        &eg_near,
    ];
    let metrics = metrics(&plan, &runs);
    let table = report::markdown(&metrics);
    let all_met = metrics.iter().all(|m| m.pass() != Some(false));
    let notes = notes(&plan);

    println!("{table}");
    for n in &notes {
        println!("{n}");
    }

    let results = json!({
        "machine": {
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
        },
        "config": {
            "concurrency": c,
            "cases": plan.cases,
            "trials": plan.trials(),
            "attempts": plan.attempts,
            "big_trials": plan.big_trials(),
            "big_attempts": plan.big_attempts,
            "in_flight_trials": plan.in_flight_trials(),
            "in_flight_latency_ms": SLOW_LATENCY_MS,
            "variant_cases": plan.variant_cases(),
            "variant_trials": plan.variant_trials(),
            "quick": plan.quick,
        },
        "runs": runs.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
        "metrics": metrics.iter().map(Metric::to_json).collect::<Vec<_>>(),
        "all_goals_met": all_met,
        "notes": notes,
    });
    if let Some(parent) = json_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&results)? + "\n")
        .with_context(|| format!("writing {}", json_path.display()))?;
    eprintln!("results written to {}", json_path.display());
    Ok(())
}

fn metrics(plan: &Plan, runs: &[&RunResult; 15]) -> Vec<Metric> {
    let [bare1, eg1, bare2, eg2, big, eg_if, bare_if, bare_v, eg_v1, eg_v2, bare_lean, bare_vs, bare_vs_lean, bare_near, eg_near] =
        *runs;
    // The lean bare client's wall for as many requests as the variants run.
    let lean_v_wall = bare_lean.usage.wall_s / bare_lean.trials as f64 * eg_v1.trials as f64;
    let eg_v = best(&[eg_v1, eg_v2], |r| r.usage.wall_s, false);
    let bare_v_best = best(&[bare_v, bare1, bare2], |r| r.usage.wall_s / r.trials as f64, false);
    // The bare client's wall for the same number of requests, from its fastest run.
    let bare_v_wall = bare_v_best.usage.wall_s / bare_v_best.trials as f64 * eg_v.trials as f64;
    let vt = count(eg_v.trials);
    let n = count(plan.trials());
    let bare_best = best(&[bare1, bare2], RunResult::trials_per_s, true);
    let eg_best = best(&[eg1, eg2], RunResult::trials_per_s, true);
    let eg_cpu = best(&[eg1, eg2], RunResult::cpu_s_per_1000, false);
    let bare_cpu = best(&[bare1, bare2], RunResult::cpu_s_per_1000, false);
    let pair = |a: f64, b: f64, d: usize| format!("runs: {a:.d$} / {b:.d$}");
    let eg_rss = best(&[eg1, eg2], RunResult::rss_mib, false);
    let sending = |r: &RunResult| r.sending_trials_per_s().unwrap_or(0.0);
    let eg_send = best(&[eg1, eg2], sending, true);
    let bare_send = best(&[bare1, bare2], sending, true);
    let c = plan.concurrency as f64;
    // An information row: the share of evalgap's variant run not matched by a bare run's wall.
    let share = |key: &'static str, name: String, bare_wall: f64, eg: &RunResult, detail: String| Metric {
        key,
        name,
        value: 1.0 - bare_wall / eg.usage.wall_s,
        unit: "",
        digits: 3,
        detail,
        goal: Goal::None,
    };
    vec![
        Metric {
            key: "bare_trials_per_s",
            name: format!("bare client trials/s, {n} trials, 0 ms"),
            value: bare_best.trials_per_s(),
            unit: "",
            digits: 0,
            detail: pair(bare1.trials_per_s(), bare2.trials_per_s(), 0),
            goal: Goal::None,
        },
        Metric {
            key: "evalgap_trials_per_s",
            name: format!("evalgap trials/s, {n} trials, 0 ms"),
            value: eg_best.trials_per_s(),
            unit: "",
            digits: 0,
            detail: pair(eg1.trials_per_s(), eg2.trials_per_s(), 0),
            goal: Goal::None,
        },
        Metric {
            key: "throughput_ratio",
            name: "evalgap / bare trials/s (best of each)".into(),
            value: eg_best.trials_per_s() / bare_best.trials_per_s(),
            unit: "",
            digits: 2,
            detail: format!(
                "pairs: {:.2} / {:.2}",
                eg1.trials_per_s() / bare1.trials_per_s(),
                eg2.trials_per_s() / bare2.trials_per_s()
            ),
            goal: Goal::AtLeast(0.9),
        },
        Metric {
            key: "bare_lean_trials_per_s",
            name: format!("bare client on evalgap's HTTP/1.1 client (`bare --lean`) trials/s, {n} trials, 0 ms"),
            value: bare_lean.trials_per_s(),
            unit: "",
            digits: 0,
            detail: format!("{:.3} CPU s per 1,000 trials", bare_lean.cpu_s_per_1000()),
            goal: Goal::None,
        },
        Metric {
            key: "throughput_ratio_lean",
            name: "evalgap / lean bare trials/s (evalgap's own work alone)".into(),
            value: eg_best.trials_per_s() / bare_lean.trials_per_s(),
            unit: "",
            digits: 2,
            detail: String::new(),
            goal: Goal::None,
        },
        Metric {
            key: "sending_ratio",
            name: "evalgap / bare trials/s while sending (first to last request)".into(),
            value: ratio_opt(eg_send.sending_trials_per_s(), bare_send.sending_trials_per_s()),
            unit: "",
            digits: 2,
            detail: format!(
                "evalgap {:.0}/s, bare {:.0}/s",
                eg_send.sending_trials_per_s().unwrap_or(f64::NAN),
                bare_send.sending_trials_per_s().unwrap_or(f64::NAN)
            ),
            goal: Goal::None,
        },
        Metric {
            key: "evalgap_wall_s",
            name: format!("evalgap wall, {n} trials (start-up + sending + tail)"),
            value: eg_best.usage.wall_s,
            unit: "s",
            digits: 2,
            detail: eg_best.phases_text(),
            goal: Goal::None,
        },
        Metric {
            key: "bare_wall_s",
            name: format!("bare wall, {n} trials (start-up + sending + tail)"),
            value: bare_best.usage.wall_s,
            unit: "s",
            digits: 2,
            detail: bare_best.phases_text(),
            goal: Goal::None,
        },
        Metric {
            key: "evalgap_cpu_s_per_1000",
            name: "evalgap client CPU s per 1,000 trials".into(),
            value: eg_cpu.cpu_s_per_1000(),
            unit: "s",
            digits: 3,
            detail: pair(eg1.cpu_s_per_1000(), eg2.cpu_s_per_1000(), 3),
            goal: Goal::Below(0.2),
        },
        Metric {
            key: "bare_cpu_s_per_1000",
            name: "bare client CPU s per 1,000 trials".into(),
            value: bare_cpu.cpu_s_per_1000(),
            unit: "s",
            digits: 3,
            detail: pair(bare1.cpu_s_per_1000(), bare2.cpu_s_per_1000(), 3),
            goal: Goal::None,
        },
        Metric {
            key: "server_cpu_s_per_1000",
            name: "test server CPU s per 1,000 trials, evalgap runs".into(),
            value: eg_best.server_cpu_s_per_1000().unwrap_or(f64::NAN),
            unit: "s",
            digits: 3,
            detail: format!("bare runs: {:.3}", bare_best.server_cpu_s_per_1000().unwrap_or(f64::NAN)),
            goal: Goal::None,
        },
        Metric {
            key: "evalgap_in_flight_share",
            name: format!("evalgap mean in flight / concurrency, {SLOW_LATENCY_MS} ms"),
            value: eg_if.in_flight_share(),
            unit: "",
            digits: 3,
            detail: format!("{:.1} of {c}", eg_if.mean_in_flight),
            goal: Goal::AtLeast(0.97),
        },
        Metric {
            key: "bare_in_flight_share",
            name: format!("bare mean in flight / concurrency, {SLOW_LATENCY_MS} ms"),
            value: bare_if.in_flight_share(),
            unit: "",
            digits: 3,
            detail: format!("{:.1} of {c}", bare_if.mean_in_flight),
            goal: Goal::None,
        },
        Metric {
            key: "evalgap_rss_mib",
            name: format!("evalgap peak RSS, {n} trials"),
            value: eg_rss.rss_mib(),
            unit: "MiB",
            digits: 1,
            detail: pair(eg1.rss_mib(), eg2.rss_mib(), 1),
            goal: Goal::None,
        },
        Metric {
            key: "evalgap_big_rss_mib",
            name: format!("evalgap peak RSS, {} trials", count(big.trials)),
            value: big.rss_mib(),
            unit: "MiB",
            digits: 1,
            detail: String::new(),
            goal: Goal::None,
        },
        Metric {
            key: "rss_growth",
            name: format!("peak RSS {} / {n} trials", count(big.trials)),
            value: big.rss_mib() / eg_rss.rss_mib(),
            unit: "",
            digits: 2,
            detail: String::new(),
            goal: Goal::AtMost(1.2),
        },
        Metric {
            key: "evalgap_big_trials_per_s",
            name: format!("evalgap trials/s, {} trials, 0 ms", count(big.trials)),
            value: big.trials_per_s(),
            unit: "",
            digits: 0,
            detail: format!("{:.3} CPU s per 1,000 trials; {}", big.cpu_s_per_1000(), big.phases_text()),
            goal: Goal::None,
        },
        Metric {
            key: "variants_evalgap_share",
            name: format!("share of wall time in evalgap itself, {vt} variants (`--transform all`, 1 attempt), 0 ms"),
            value: 1.0 - bare_v_wall / eg_v.usage.wall_s,
            unit: "",
            digits: 3,
            detail: format!(
                "evalgap {:.2} s ({}) vs bare {:.2} s for {vt} requests; runs {:.2} / {:.2} s",
                eg_v.usage.wall_s,
                eg_v.phases_text(),
                bare_v_wall,
                eg_v1.usage.wall_s,
                eg_v2.usage.wall_s
            ),
            goal: Goal::Below(0.05),
        },
        share(
            "variants_evalgap_share_lean",
            format!("the same share against the lean bare client, {vt} variants"),
            lean_v_wall,
            eg_v,
            format!("lean bare {lean_v_wall:.2} s for {vt} requests"),
        ),
        share(
            "variants_evalgap_share_same_requests",
            format!("the same share against the bare client sending evalgap's own requests, {vt} variants"),
            bare_vs.usage.wall_s,
            eg_v,
            format!("bare {:.2} s for the {vt} requests evalgap sent", bare_vs.usage.wall_s),
        ),
        share(
            "variants_evalgap_share_same_requests_lean",
            format!("... and against the lean bare client sending them, {vt} variants"),
            bare_vs_lean.usage.wall_s,
            eg_v,
            format!("lean bare {:.2} s", bare_vs_lean.usage.wall_s),
        ),
        share(
            "variants_evalgap_share_10ms",
            format!("the same share with the server answering after {NEAR_LATENCY_MS} ms, {vt} variants"),
            bare_near.usage.wall_s,
            eg_near,
            format!(
                "evalgap {:.2} s ({}) vs bare {:.2} s",
                eg_near.usage.wall_s,
                eg_near.phases_text(),
                bare_near.usage.wall_s
            ),
        ),
        Metric {
            key: "variants_trials_per_s",
            name: format!("evalgap trials/s, {vt} variants, 0 ms"),
            value: eg_v.trials_per_s(),
            unit: "",
            digits: 0,
            detail: format!("{:.3} CPU s per 1,000 trials", eg_v.cpu_s_per_1000()),
            goal: Goal::None,
        },
        Metric {
            key: "bare_rss_mib",
            name: format!("bare client peak RSS, {n} trials"),
            value: best(&[bare1, bare2], RunResult::rss_mib, false).rss_mib(),
            unit: "MiB",
            digits: 1,
            detail: pair(bare1.rss_mib(), bare2.rss_mib(), 1),
            goal: Goal::None,
        },
    ]
}

fn ratio_opt(a: Option<f64>, b: Option<f64>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => a / b,
        _ => f64::NAN,
    }
}

fn notes(plan: &Plan) -> Vec<String> {
    vec![
        format!(
            "Suite fixed at {} cases (half harmful, half benign); {} trials = {} attempts per case and {} trials = {}, \
             so the RSS comparison isolates growth with the number of trials (the smaller of the two {}-trial runs \
             is the baseline).",
            count(plan.cases as u64),
            count(plan.trials()),
            plan.attempts,
            count(plan.big_trials()),
            plan.big_attempts,
            count(plan.trials())
        ),
        format!(
            "Concurrency {} for both clients. Wall time, CPU (user + sys, from wait4) and peak RSS are per child \
             process, start-up and (for evalgap) store, judging and reports included. Order: bare, evalgap, bare, \
             evalgap, evalgap {}, bare on evalgap's HTTP/1.1 client, the variant runs (bare, evalgap twice, then both bare \
             clients sending the requests the first variant run sent, read from its store before they start), then the \
             {SLOW_LATENCY_MS} ms runs ({} trials each), then the variant run and the bare client again at \
             {NEAR_LATENCY_MS} ms; the server's stats are reset \
             before every run, and polled every 10 ms during it to split each run's wall time into start-up (to the \
             first request the server sees), sending (first to last request) and tail (last request to exit; it \
             includes the last answer's latency). Client and server share {} CPUs.",
            plan.concurrency,
            count(plan.big_trials()),
            count(plan.in_flight_trials()),
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evalgap_summary_line() {
        let s = "note: x\n20000 trials: 19990 responses, 10 faults, 0 pending (20000 sent now)\n";
        assert_eq!(parse_evalgap_summary(s), Some((20000, 19990, 10)));
        assert_eq!(parse_evalgap_summary("nothing"), None);
    }

    #[test]
    fn plan_sizes() {
        let a = BenchArgs { trials: 20_000, big_trials: 200_000, concurrency: 64, quick: false, json: None };
        let p = Plan::new(&a).unwrap();
        assert_eq!((p.cases, p.attempts, p.big_attempts), (2_000, 10, 100));
        assert_eq!((p.trials(), p.big_trials(), p.in_flight_trials()), (20_000, 200_000, 2_560));
        let q = Plan::new(&BenchArgs { quick: true, ..a }).unwrap();
        assert_eq!((q.cases, q.attempts, q.big_attempts, q.in_flight_trials()), (2_000, 1, 10, 256));
    }
}
