use crate::args::{Cli, Command, ExportArgs, ReportArgs, ReportFormat, RunArgs};
use anyhow::{bail, Context, Result};
use evalgap_core::Sampling;
use evalgap_run::{Progress, RunOptions};
use evalgap_suite::{Format, Selection};
use evalgap_target::{HttpPolicy, OpenAiTarget, Target, TargetSpec};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run(a) => run(*a),
        Command::Report(a) => report(a),
        Command::Export(a) => export(a),
        Command::Suites => suites(),
        Command::Judges => judges(),
    }
}

fn run(a: RunArgs) -> Result<ExitCode> {
    let format = a.format.as_deref().map(Format::parse_or_err).transpose()?;
    let suite = evalgap_suite::load(&a.suite, format)?;
    for note in &suite.notes {
        eprintln!("note: {note}");
    }
    let selection = match (a.limit, a.sample) {
        (Some(n), _) => Selection::First(n),
        (None, Some(n)) => Selection::Sample { n, seed: a.seed },
        (None, None) => Selection::All,
    };
    let cases = selection.apply(suite.cases);
    if a.timeout <= 0.0 || !a.timeout.is_finite() {
        bail!("--timeout must be a positive number of seconds");
    }
    if a.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let policy = HttpPolicy {
        timeout: Duration::from_secs_f64(a.timeout),
        max_retries: a.retries,
        backoff_base: Duration::from_millis(a.backoff_ms),
        requests_per_minute: a.rpm,
        headers: a.headers.iter().map(|h| HttpPolicy::parse_header(h)).collect::<Result<_, _>>()?,
        api_key: api_key(),
        max_connections: a.concurrency,
        ..HttpPolicy::default()
    };
    let mut request_policy = policy.describe();
    request_policy["concurrency"] = a.concurrency.into();
    let target = build_target(&a.target, &policy)?;
    let factory = |spec: &str| build_target(spec, &policy).map_err(|e| format!("{e:#}"));
    let judges = a.judges.iter().map(|j| evalgap_judge::build(j, &factory)).collect::<Result<Vec<_>, _>>()?;
    let out = a.out.clone().unwrap_or_else(default_out);
    let progress = if a.quiet || !std::io::stderr().is_terminal() { Progress::Hidden } else { Progress::Bar };
    let opts = RunOptions {
        out: out.clone(),
        suite_name: a.suite.clone(),
        suite_version: suite.version,
        cases,
        selection: selection.describe(),
        target,
        model_sha256: None,
        attempts: a.attempts,
        sampling: Sampling { temperature: a.temperature, top_p: a.top_p, max_tokens: a.max_tokens },
        seed: a.seed,
        concurrency: a.concurrency,
        judges,
        threat_model: a.threat_model.clone(),
        request_policy,
        progress,
    };
    if a.durable {
        evalgap_store::Store::open_or_create(&out)?.set_durable(true)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let summary = rt.block_on(evalgap_run::run(opts))?;
    let c = &summary.counts;
    eprintln!(
        "{} trials: {} responses, {} faults, {} pending ({} sent now{})",
        c.trials,
        c.responses,
        c.fault_total(),
        c.pending,
        summary.sent,
        if summary.resumed { ", resumed" } else { "" }
    );
    for p in &summary.reports {
        println!("{}", p.display());
    }
    if summary.interrupted {
        eprintln!("interrupted: run the same command again to resume");
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds a target from its spec: the model under audit, or the model behind a judge.
pub fn build_target(spec: &str, policy: &HttpPolicy) -> Result<Arc<dyn Target>> {
    Ok(match TargetSpec::parse(spec)? {
        TargetSpec::OpenAi { model, base_url } => Arc::new(OpenAiTarget::new(&model, &base_url, policy.clone())?),
        TargetSpec::Local { model } => {
            bail!("local targets (`local:{model}`) are not available in this build yet; use an openai: target")
        }
    })
}

fn api_key() -> Option<String> {
    ["EVALGAP_API_KEY", "OPENAI_API_KEY"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

fn default_out() -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    PathBuf::from("runs").join(now.format(&fmt).unwrap_or_else(|_| "run".into()))
}

fn report(a: ReportArgs) -> Result<ExitCode> {
    let store = evalgap_store::Store::open_existing(&a.dir)?;
    let report = evalgap_report::build(&store, a.judge.as_deref())?;
    if a.judge.is_none() {
        evalgap_report::write(&a.dir, &report)?;
    }
    let text = match a.format {
        ReportFormat::Md => evalgap_report::to_markdown(&report),
        ReportFormat::Json => report.to_json(),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).or_else(ignore_broken_pipe)?;
    Ok(ExitCode::SUCCESS)
}

fn export(a: ExportArgs) -> Result<ExitCode> {
    let store = evalgap_store::Store::open_existing(&a.dir)?;
    let n = match &a.output {
        Some(path) => {
            let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(f);
            evalgap_report::export_jsonl(&store, &mut w)?
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            match evalgap_report::export_jsonl(&store, &mut w) {
                Err(evalgap_report::ExportError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Ok(ExitCode::SUCCESS)
                }
                r => r?,
            }
        }
    };
    if a.output.is_some() {
        eprintln!("{n} trials exported");
    }
    Ok(ExitCode::SUCCESS)
}

fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

fn suites() -> Result<ExitCode> {
    println!("{:<28} {:>6}  {:<34} {:>10}  description", "suite", "cases", "by kind", "version");
    for b in evalgap_suite::builtins() {
        let kinds = b.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ");
        println!(
            "{:<28} {:>6}  {:<34} {:>10}  {}",
            format!("builtin:{}", b.name),
            b.cases,
            kinds,
            &b.version[..10],
            b.description
        );
    }
    println!("\nFiles: native JSONL, {} (detected from the header; force with --format).", Format::known_list());
    Ok(ExitCode::SUCCESS)
}

fn judges() -> Result<ExitCode> {
    for info in evalgap_judge::catalogue() {
        let no_target = |_: &str| Err("no target".to_string());
        let version =
            evalgap_judge::build(info.spec, &no_target).map(|j| j.version()).unwrap_or_else(|_| "per target".into());
        println!("{:<12} {:<16} {}", info.spec, version, info.description);
    }
    Ok(ExitCode::SUCCESS)
}
