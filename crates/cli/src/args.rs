use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Audit the safety of LLMs, and measure where "passed the benchmark" and "is robust" part ways.
///
/// Every rate is reported with its sample size and a 95% interval; every report carries a
/// protocol card that is enough to reproduce it. Runs resume: the same `run` command again sends
/// only the trials that have no recorded response.
#[derive(Parser, Debug)]
#[command(name = "evalgap", version, about, long_about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run (or resume) an audit: send every trial of a suite to a target, judge, record, report.
    Run(Box<RunArgs>),
    /// Print the report of a run (and refresh report.json / report.md in its folder).
    Report(ReportArgs),
    /// Export every trial of a run, one JSON object per line.
    Export(ExportArgs),
    /// Add judges to a finished run (or re-read with upgraded ones): judges every recorded
    /// response, sends no trial, then refreshes the reports.
    Rejudge(RejudgeArgs),
    /// List the built-in suites with their case counts and versions.
    Suites,
    /// List the judges and their versions.
    Judges,
    /// Measure judges against labeled responses: accuracy, precision, recall, false-compliance and
    /// false-refusal rates, kappa with the labels, confusion matrix, by response style.
    JudgeEval(JudgeEvalArgs),
    /// List the attack transforms, their parameters and one harmless example each.
    Transforms,
    /// List the known local models: cached or not, sizes, checksums, where they come from.
    Models,
    /// One chat completion from a local model, for a quick look.
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The prompt (one user message).
    pub prompt: String,
    /// A known local model (see `evalgap models`) or a GGUF path.
    #[arg(long, default_value = "qwen2.5-0.5b")]
    pub model: String,
    #[arg(long, default_value_t = 128)]
    pub max_tokens: u32,
    /// 0 is greedy.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// An optional system message.
    #[arg(long)]
    pub system: Option<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Suite: `builtin:NAME` (see `evalgap suites`) or a file (native JSONL, HarmBench, AdvBench,
    /// JailbreakBench CSV/JSON, XSTest, StrongREJECT, MultiJail; the format is detected from the header).
    #[arg(long, default_value = "builtin:core")]
    pub suite: String,
    /// Force the suite file format instead of detecting it.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Target: `openai:MODEL@BASE_URL` (vLLM, ollama, llama.cpp server, hosted APIs; the API key is
    /// read from EVALGAP_API_KEY or OPENAI_API_KEY and never recorded), or `local:NAME` / `local:PATH`
    /// for a GGUF model run on this machine (see `evalgap models`). Default: the local model
    /// qwen2.5-0.5b with a budget that fits in a few minutes on 2 cores (printed at the start).
    #[arg(long)]
    pub target: Option<String>,
    /// Attack transform (repeatable): a name (`roleplay`, `hierarchy`, `suffix`, `suffix:FILE`,
    /// `manyshot:N`, `base64`, `rot13`, `leet`, `multiturn`, `agentic`), a chain (`roleplay+base64`),
    /// or `all` for the catalogue. Every case is also sent plain. See `evalgap transforms`.
    #[arg(long = "transform", value_name = "SPEC")]
    pub transforms: Vec<String>,
    /// Flag a language whose refusal rate differs from English's by more than this many points.
    #[arg(long, default_value_t = 10.0, value_name = "POINTS")]
    pub gap_threshold: f64,
    /// Rotation ledger shared by runs: which transformed variants earlier runs sent, so the report
    /// splits numbers on new and reused variants. Default with --transform: rotation-ledger.sqlite
    /// beside the run folder.
    #[arg(long, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// Target that translates `translate:LANG` variants (any target spec); translations are cached
    /// in the run's store.
    #[arg(long, value_name = "TARGET")]
    pub translator: Option<String>,
    /// Attacker model for the adaptive attacks `pair` and `crescendo` (any target spec, e.g.
    /// local:qwen2.5-0.5b or openai:MODEL@URL). Adaptive attacks stop early when the run's first
    /// --judge reads success.
    #[arg(long, value_name = "TARGET")]
    pub attacker: Option<String>,
    /// Rotation cycle: each cycle draws its templates from another share of each pool, so a model
    /// tuned to last cycle's variants shows up as a gap.
    #[arg(long, default_value_t = 0)]
    pub cycle: u32,
    /// Attempts per variant: ASR@k is reported for k = 1..attempts. [default: 5; 3 for the zero-setup run]
    #[arg(long)]
    pub attempts: Option<u32>,
    /// Run folder (store and reports). Default: runs/<UTC timestamp>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only the first N cases of the suite.
    #[arg(long, value_name = "N", conflicts_with = "sample")]
    pub limit: Option<usize>,
    /// A random subset of N cases (deterministic given --seed).
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Protocol seed: drives the per-attempt sampling seeds and --sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f64,
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    /// Most tokens per response. [default: 256; 48 for local targets]
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Requests in flight at once (for a local model: the generation batch size).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Requests per minute over the whole run (default: no limit).
    #[arg(long, value_name = "N")]
    pub rpm: Option<u32>,
    /// Seconds before a request counts as timed out.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// Retries after a 429, 5xx, timeout, transport error or malformed body; then the trial is a fault.
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    /// Base of the exponential backoff between retries, in milliseconds (full jitter).
    #[arg(long, default_value_t = 500)]
    pub backoff_ms: u64,
    /// Extra HTTP header `Name: value` (repeatable). Values are not recorded.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Judge (repeatable; the first is the headline judge). See `evalgap judges`.
    #[arg(long = "judge", default_value = "markers")]
    pub judges: Vec<String>,
    /// What the audit assumes of the attacker; recorded in the protocol card.
    #[arg(
        long,
        default_value = "black-box user: plain chat requests, k sampled attempts per request, no system prompt control"
    )]
    pub threat_model: String,
    /// Sync every commit to disk (survives power loss, slower). Process crashes are always safe.
    #[arg(long)]
    pub durable: bool,
    /// No progress bar (it is also off when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Md,
    Json,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run folder.
    pub dir: PathBuf,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Judge whose verdicts the headline numbers use (default: the run's first judge).
    #[arg(long)]
    pub judge: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The run folder.
    pub dir: PathBuf,
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RejudgeArgs {
    /// The run folder.
    pub dir: PathBuf,
    /// Judge to add (repeatable). See `evalgap judges`.
    #[arg(long = "judge", required = true)]
    pub judges: Vec<String>,
    /// Judge requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Seconds before a judge request counts as timed out.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct JudgeEvalArgs {
    /// Labeled responses: JSONL (request, response, harmful, refused?, style?, kind?), a
    /// JailbreakBench artifact JSON, or a CSV with the columns named below.
    #[arg(long)]
    pub labels: PathBuf,
    /// Judge to measure (repeatable).
    #[arg(long = "judge", required = true)]
    pub judges: Vec<String>,
    /// CSV: the request column (giving any CSV column flag reads the file as CSV).
    #[arg(long, default_value = "request")]
    pub request_col: String,
    #[arg(long, default_value = "response")]
    pub response_col: String,
    /// CSV: the label column (true/false, 1/0, yes/no, harmful/unharmful, unsafe/safe).
    #[arg(long)]
    pub harmful_col: Option<String>,
    #[arg(long)]
    pub refused_col: Option<String>,
    #[arg(long)]
    pub style_col: Option<String>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Judge requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}
