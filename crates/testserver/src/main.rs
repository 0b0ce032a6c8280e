//! `evalgap-testserver`: serve the planted OpenAI-compatible endpoint until killed.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use evalgap_testserver::{Config, Server};

/// An OpenAI-compatible chat-completions server with planted, deterministic behaviour (for tests and
/// benchmarks only; never a real model).
#[derive(Parser, Debug)]
#[command(name = "evalgap-testserver", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// JSON configuration file (every field optional; see the crate documentation).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Delay before every answer, in milliseconds (overrides the file).
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Default compliance probability in [0, 1] (overrides the file).
    #[arg(long)]
    compliance: Option<f64>,
}

fn load(args: &Args) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("{}:{}:{}: invalid configuration: {e}", path.display(), e.line(), e.column()))?
        }
        None => Config::default(),
    };
    if let Some(ms) = args.latency_ms {
        config.latency_ms = ms;
    }
    if let Some(p) = args.compliance {
        if !(0.0..=1.0).contains(&p) {
            return Err(format!("--compliance must be in [0, 1], got {p}"));
        }
        config.default_compliance = p;
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("evalgap-testserver: {e}");
            return ExitCode::from(2);
        }
    };
    let server = match Server::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, args.port))).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("evalgap-testserver: cannot listen on port {}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", server.base_url);
        let _ = out.flush();
    }
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
