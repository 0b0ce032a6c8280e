use crate::args::{Cli, Command, ExportArgs, RejudgeArgs, ReportArgs, ReportFormat, RunArgs};
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
        Command::Rejudge(a) => rejudge(a),
        Command::Suites => suites(),
        Command::Judges => judges(),
        Command::Transforms => transforms(),
        Command::JudgeEval(a) => judge_eval(a),
        Command::Models => models(),
        Command::Generate(a) => generate(a),
    }
}

/// The zero-setup run: `evalgap run` with no target audits a sample of builtin:core on the default
/// local model, sized to finish in a few minutes on a 2-core machine.
const DEFAULT_LOCAL_MODEL: &str = "qwen2.5-0.5b";
const ZERO_SETUP_SAMPLE: usize = 40;
const ZERO_SETUP_ATTEMPTS: u32 = 3;
/// Enough to see a refusal or the start of compliance; local generation is the slow part.
const LOCAL_MAX_TOKENS: u32 = 48;

fn run(a: RunArgs) -> Result<ExitCode> {
    let format = a.format.as_deref().map(Format::parse_or_err).transpose()?;
    let suite = evalgap_suite::load(&a.suite, format)?;
    for note in &suite.notes {
        eprintln!("note: {note}");
    }
    let zero_setup = a.target.is_none();
    let target_spec = a.target.clone().unwrap_or_else(|| format!("local:{DEFAULT_LOCAL_MODEL}"));
    let is_local = target_spec.starts_with("local:");
    let sample = match (zero_setup, a.limit, a.sample) {
        (true, None, None) => Some(ZERO_SETUP_SAMPLE),
        _ => a.sample,
    };
    let attempts = a.attempts.unwrap_or(if zero_setup { ZERO_SETUP_ATTEMPTS } else { 5 });
    let max_tokens = a.max_tokens.unwrap_or(if is_local { LOCAL_MAX_TOKENS } else { 256 });
    let selection = match (a.limit, sample) {
        (Some(n), _) => Selection::First(n),
        (None, Some(n)) => Selection::Sample { n, seed: a.seed },
        (None, None) => Selection::All,
    };
    if zero_setup {
        eprintln!(
            "zero-setup run: {} ({}), {attempts} attempts, {max_tokens} max tokens, on {target_spec}; \
             change with --suite/--limit/--sample/--attempts/--max-tokens/--target",
            a.suite,
            selection.describe()
        );
    }
    let cases = selection.apply(suite.cases);
    let mut chains = Vec::new();
    for spec in &a.transforms {
        for chain in evalgap_transform::parse(spec)? {
            if evalgap_transform::needs_translator(&chain).is_some() && a.translator.is_none() {
                bail!("`{chain}` needs a translator: pass --translator TARGET (any target spec, e.g. local:qwen2.5-0.5b or openai:MODEL@URL)");
            }
            if evalgap_transform::needs_attacker(std::slice::from_ref(&chain)) && a.attacker.is_none() {
                bail!("`{chain}` needs an attacker model: pass --attacker TARGET (any target spec, e.g. local:qwen2.5-0.5b or openai:MODEL@URL)");
            }
            if !chains.contains(&chain) {
                chains.push(chain);
            }
        }
    }
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
    let target = build_target(&target_spec, &policy)?;
    let model_sha256 = local_model_sha256(&target_spec);
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
        model_sha256,
        transforms: chains,
        cycle: a.cycle,
        translator: a.translator.as_deref().map(|t| build_target(t, &policy)).transpose()?,
        attacker: a.attacker.as_deref().map(|t| build_target(t, &policy)).transpose()?,
        gap_threshold: a.gap_threshold / 100.0,
        ledger: a.ledger.clone().or_else(|| {
            (!a.transforms.is_empty())
                .then(|| out.parent().unwrap_or(std::path::Path::new(".")).join("rotation-ledger.sqlite"))
        }),
        attempts,
        sampling: Sampling { temperature: a.temperature, top_p: a.top_p, max_tokens },
        seed: a.seed,
        concurrency: a.concurrency,
        judges,
        threat_model: a.threat_model.clone(),
        request_policy,
        progress,
        durable: a.durable,
        after_sending: Some(crate::release_freed_memory),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let mut summary = rt.block_on(evalgap_run::run(opts))?;
    // The process ends next, and the system takes the plan's memory back whole: freeing it block by
    // block would only add to the run's wall time.
    std::mem::forget(summary.plan.take());
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
            Arc::new(evalgap_target::LocalTarget::new(&model, load_local(&model)?, policy.max_connections))
        }
    })
}

/// Loads a local model once per process (a run's target and its judge may share it).
fn load_local(name: &str) -> Result<Arc<evalgap_model::LocalModel>> {
    static LOADED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Arc<evalgap_model::LocalModel>>>,
    > = std::sync::OnceLock::new();
    let mut loaded = LOADED.get_or_init(Default::default).lock().expect("model cache lock");
    if let Some(m) = loaded.get(name) {
        return Ok(m.clone());
    }
    let path = evalgap_model::resolve(name, true)?;
    let model = Arc::new(
        evalgap_model::LocalModel::load(&path)
            .with_context(|| format!("loading the local model {}", path.display()))?,
    );
    loaded.insert(name.to_string(), model.clone());
    Ok(model)
}

/// The model file's sha256 for the protocol card, when the target is local.
fn local_model_sha256(spec: &str) -> Option<String> {
    let name = spec.strip_prefix("local:")?;
    let path = evalgap_model::resolve(name, false).ok()?;
    evalgap_model::file_sha256(&path).ok()
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
    if let evalgap_store::PlanState::Incomplete { trials } = store.plan_state()? {
        eprintln!(
            "note: this run stopped while writing its plan; the report covers the {trials} trials planned so far. \
             The same `evalgap run` command again writes the rest and sends what is pending."
        );
    }
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
    let catalogue = evalgap_judge::catalogue();
    let width = catalogue.iter().map(|i| i.spec.len()).max().unwrap_or(0);
    for info in catalogue {
        let no_target = |_: &str| Err("no target".to_string());
        let version =
            evalgap_judge::build(info.spec, &no_target).map(|j| j.version()).unwrap_or_else(|_| "per target".into());
        println!("{:<width$} {:<16} {}", info.spec, version, info.description);
    }
    Ok(ExitCode::SUCCESS)
}

fn models() -> Result<ExitCode> {
    println!("{:<14} {:<7} {:>10}  {:<16} {:<64}  description", "model", "cached", "size", "packages", "sha256");
    for m in evalgap_model::known_models() {
        let cached = if evalgap_model::is_cached(m.name) { "yes" } else { "no" };
        let size = format!("{:.1} MB", m.size as f64 / 1e6);
        let packages =
            if m.packages.len() == 1 { m.packages[0].name.to_string() } else { format!("{} parts", m.packages.len()) };
        println!("{:<14} {:<7} {:>10}  {:<16} {:<64}  {}", m.name, cached, size, packages, m.sha256, m.description);
    }
    println!(
        "\nCache: {} (set EVALGAP_CACHE to move it). Any GGUF file also works as local:PATH.",
        evalgap_model::cache_dir().display()
    );
    Ok(ExitCode::SUCCESS)
}

fn generate(a: crate::args::GenerateArgs) -> Result<ExitCode> {
    let model = load_local(&a.model)?;
    let mut messages = Vec::new();
    if let Some(sys) = &a.system {
        messages.push(evalgap_core::Message::system(sys.clone()));
    }
    messages.push(evalgap_core::Message::user(a.prompt.clone()));
    let prompt = model.render_chat(&messages, None)?;
    let t0 = std::time::Instant::now();
    let out = model
        .generate(&[evalgap_model::GenRequest {
            max_tokens: a.max_tokens,
            temperature: a.temperature as f32,
            top_p: a.top_p as f32,
            seed: a.seed,
            ..evalgap_model::GenRequest::new(prompt)
        }])?
        .remove(0);
    let secs = t0.elapsed().as_secs_f64();
    println!("{}", out.text);
    eprintln!(
        "[{} prompt tokens, {} generated in {:.2} s ({:.1} tok/s), {:?}]",
        out.prompt_tokens,
        out.tokens.len(),
        secs,
        out.tokens.len() as f64 / secs.max(1e-9),
        out.finish_reason
    );
    Ok(ExitCode::SUCCESS)
}

fn rejudge(a: RejudgeArgs) -> Result<ExitCode> {
    let mut store = evalgap_store::Store::open_existing(&a.dir)?;
    if a.timeout <= 0.0 || !a.timeout.is_finite() {
        bail!("--timeout must be a positive number of seconds");
    }
    let policy = HttpPolicy {
        timeout: Duration::from_secs_f64(a.timeout),
        max_retries: a.retries,
        api_key: api_key(),
        max_connections: a.concurrency.max(1),
        ..HttpPolicy::default()
    };
    let factory = |spec: &str| build_target(spec, &policy).map_err(|e| format!("{e:#}"));
    let judges = a.judges.iter().map(|j| evalgap_judge::build(j, &factory)).collect::<Result<Vec<_>, _>>()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let written = rt.block_on(async {
        let judges = Arc::new(evalgap_run::Judges::new(&judges, &store)?);
        evalgap_run::judge_backlog(&mut store, &judges, a.concurrency).await
    })?;
    let report = evalgap_report::build(&store, None)?;
    let paths = evalgap_report::write(&a.dir, &report)?;
    let faults = store.judge_fault_counts()?;
    if !a.quiet {
        eprintln!("{written} verdicts written; judge faults: {faults:?}");
    }
    for p in paths {
        println!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn transforms() -> Result<ExitCode> {
    for t in evalgap_transform::catalogue() {
        match t.pool_size {
            0 => println!("{} ({})", t.name, t.family),
            n => println!("{} ({}; pool of {n} templates)", t.name, t.family),
        }
        println!("  {}", t.description);
        if !t.params.is_empty() {
            println!("  parameters: {}", t.params);
        }
        let example = evalgap_transform::example(t.name)?;
        let adaptive = evalgap_transform::strategy(&example).is_some();
        let what = if adaptive { "starting point (the loop runs while the trial runs)" } else { "example" };
        println!("  {what}, on \"{}\":", evalgap_transform::EXAMPLE_REQUEST);
        for m in example.messages.iter() {
            let text: String = m.content.chars().take(300).collect();
            let more = if m.content.chars().count() > 300 { " …" } else { "" };
            println!("    [{}] {}{more}", m.role.as_str(), text.replace('\n', "\n    "));
        }
        if let Some(tools) = &example.tools {
            let names: Vec<&str> =
                tools.as_array().into_iter().flatten().filter_map(|t| t.pointer("/function/name")?.as_str()).collect();
            println!("    [tools] {}", names.join(", "));
        }
        println!();
    }
    println!(
        "Chains: `a+b` applies a then b (`roleplay+base64`). `all` runs every template transform on its own: all of the above but `translate` (it needs a language and --translator) and the adaptive `pair`, `crescendo` and `suffix-search` (each trial costs up to N queries)."
    );
    Ok(ExitCode::SUCCESS)
}

fn judge_eval(a: crate::args::JudgeEvalArgs) -> Result<ExitCode> {
    use evalgap_judge::labels::{self, CsvColumns};
    let csv = a.harmful_col.as_ref().map(|h| CsvColumns {
        request: a.request_col.clone(),
        response: a.response_col.clone(),
        harmful: h.clone(),
        refused: a.refused_col.clone(),
        style: a.style_col.clone(),
    });
    let items = labels::load(&a.labels, csv.as_ref())?;
    if items.is_empty() {
        bail!("{}: no labeled responses", a.labels.display());
    }
    let policy = HttpPolicy { api_key: api_key(), max_connections: a.concurrency.max(1), ..HttpPolicy::default() };
    let factory = |spec: &str| build_target(spec, &policy).map_err(|e| format!("{e:#}"));
    let judges = a.judges.iter().map(|j| evalgap_judge::build(j, &factory)).collect::<Result<Vec<_>, _>>()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let items = Arc::new(items);
    let mut scores = Vec::new();
    for judge in judges {
        let verdicts = rt.block_on(async {
            let sem = Arc::new(tokio::sync::Semaphore::new(a.concurrency.max(1)));
            let mut set = tokio::task::JoinSet::new();
            for i in 0..items.len() {
                let (judge, items, sem) = (judge.clone(), items.clone(), sem.clone());
                set.spawn(async move {
                    let _p = sem.acquire().await.expect("open");
                    let it = &items[i];
                    let response = evalgap_core::Response { text: it.response.clone(), ..Default::default() };
                    let input = evalgap_judge::JudgeInput {
                        case_kind: it.kind,
                        request: &it.request,
                        messages: &[],
                        response: &response,
                        expected: None,
                        case: None,
                    };
                    (i, judge.judge(&input).await.ok())
                });
            }
            let mut out = vec![None; items.len()];
            while let Some(r) = set.join_next().await {
                let (i, v) = r.expect("judge task");
                out[i] = v;
            }
            out
        });
        let eval: Vec<evalgap_analysis::EvalItem> = items
            .iter()
            .zip(&verdicts)
            .map(|(it, v)| evalgap_analysis::EvalItem {
                human_harmful: it.harmful,
                judge_harmful: v.as_ref().map(|v| v.harmful),
                human_refused: it.refused,
                judge_refused: v.as_ref().map(|v| v.refused),
                style: it.style.clone(),
            })
            .collect();
        scores.push(evalgap_analysis::score_judge(judge.name(), &eval));
    }
    let mut out = std::io::stdout().lock();
    let text = match a.format {
        ReportFormat::Json => {
            serde_json::to_string_pretty(
                &serde_json::json!({"labels": a.labels.display().to_string(), "items": items.len(), "judges": scores}),
            )? + "\n"
        }
        ReportFormat::Md => judge_eval_markdown(&a.labels.display().to_string(), items.len(), &scores),
    };
    out.write_all(text.as_bytes()).or_else(ignore_broken_pipe)?;
    Ok(ExitCode::SUCCESS)
}

fn judge_eval_markdown(labels: &str, n: usize, scores: &[evalgap_analysis::JudgeScore]) -> String {
    use std::fmt::Write as _;
    let pct = |r: &evalgap_analysis::Rate| {
        format!("{:.1}% [{:.1}, {:.1}] ({}/{})", 100.0 * r.value, 100.0 * r.ci_low, 100.0 * r.ci_high, r.successes, r.n)
    };
    let esc = evalgap_report::escape::markdown;
    let mut s = format!(
        "# Judges against labels\n\n{} labeled responses from {}. Positive class: harmful.\n\n",
        n,
        esc(labels)
    );
    let _ = writeln!(s, "| judge | accuracy | precision | recall | false compliance | false refusal | kappa | TP/FP/TN/FN | no verdict |\n|---|---|---|---|---|---|---|---|---|");
    for j in scores {
        let kappa = j
            .kappa
            .map(|k| format!("{:.3} [{:.3}, {:.3}]", k.value, k.ci_low, k.ci_high))
            .unwrap_or_else(|| "–".into());
        let c = j.confusion;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {}/{}/{}/{} | {} |",
            esc(&j.judge),
            pct(&j.accuracy),
            pct(&j.precision),
            pct(&j.recall),
            pct(&j.false_compliance),
            pct(&j.false_refusal),
            kappa,
            c.tp,
            c.fp,
            c.tn,
            c.fn_,
            j.no_verdict
        );
    }
    let styles: std::collections::BTreeSet<&str> =
        scores.iter().flat_map(|j| j.by_style.iter().map(|x| x.style.as_str())).collect();
    if !styles.is_empty() {
        let _ = writeln!(s, "\n## Accuracy by response style\n");
        let _ = writeln!(s, "| style | {} |", scores.iter().map(|j| esc(&j.judge)).collect::<Vec<_>>().join(" | "));
        let _ = writeln!(s, "|---|{}", "---|".repeat(scores.len()));
        for st in styles {
            let cells: Vec<String> = scores
                .iter()
                .map(|j| {
                    j.by_style.iter().find(|x| x.style == st).map(|x| pct(&x.accuracy)).unwrap_or_else(|| "–".into())
                })
                .collect();
            let _ = writeln!(s, "| {} | {} |", esc(st), cells.join(" | "));
        }
    }
    s
}
