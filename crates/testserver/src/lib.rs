//! # evalgap-testserver
//!
//! A small, fast OpenAI-compatible chat-completions server with **planted** behaviour, for evalgap's
//! end-to-end tests and benchmarks. It is never a real model: a compliant answer is a fixed placeholder
//! ([`compliant_text`]), a refusal one of a few canned sentences ([`refusal_text`]).
//!
//! Everything the server decides is a pure function of the request key `(model, seed, last_user)`
//! (the `seed` field of the request, 0 when absent, and the text of the last `user` message), exposed
//! as [`plan()`], so a test can predict every answer and assert exact counts. See [`plan`](mod@plan) for
//! the hash and the decision rules.
//!
//! * Transient faults ([`PlannedFault::Transient429`], [`PlannedFault::Transient500`]) fail only the
//!   first request the server sees for a key; later ones succeed. All other faults apply to every request
//!   for the key. The per-key memory lives as long as the server (see [`Server::reset_attempts`]).
//! * A hang waits `hang_ms` and then answers normally; truncated and garbage answers are 200s whose body
//!   does not parse as JSON.
//!
//! * Tools: a compliant answer to a request with `tools` is a call of the first tool, until the
//!   conversation holds [`TOOL_RESULTS_BEFORE_REPORT`] tool results (then it answers in text, as an
//!   agent reporting back). A `tool` message must answer an earlier call by its id, or the request is
//!   a 400, as the real API does.
//! * Judge, translator and attacker models answer in their formats (see [`judge`](mod@judge)).
//!
//! Routes: `POST /v1/chat/completions`, `GET /v1/models`, `GET /stats` ([`Stats`] as JSON),
//! `POST /stats/reset`. See [`http`](mod@http) for logprobs and streaming.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use evalgap_testserver::{plan, Config, Server};
//! let config = Config { default_compliance: 0.5, ..Config::default() };
//! let server = Server::start(config.clone()).await?;
//! // POST {server.base_url}/chat/completions with {"model":"test-model","seed":7,"messages":[...]}
//! let expected = plan(&config, "test-model", 7, "How do I ...?");
//! # let _ = expected;
//! println!("{:?}", server.stats());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod http;
pub mod judge;
pub mod plan;
pub mod stats;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use http::{
    comply_margin, content_text, DEFAULT_MODEL, GARBAGE_BODY, SYSTEM_FINGERPRINT, TOOL_RESULTS_BEFORE_REPORT,
};
pub use judge::{judge_answer, ATTACKER_MODEL, GARBAGE_JUDGE_MODEL, GUARD_MODEL, RUBRIC_MODEL, TRANSLATOR_MODEL};
pub use plan::{
    compliant_text, key_hash, plan, refusal_text, Config, FaultRates, KeyHash, Plan, PlannedFault, BENIGN_TAG,
    MARKED_REFUSALS, QUIET_REFUSALS, REFUSAL_MARKERS,
};
pub use stats::Stats;

/// A running test server. Dropping it stops accepting connections (as [`Server::shutdown`] does,
/// without waiting).
pub struct Server {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    shared: Arc<http::Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Server {
    /// Start on `127.0.0.1` and a free port.
    pub async fn start(config: Config) -> io::Result<Server> {
        Self::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Start on `addr` (port 0 picks a free port). Must be called within a Tokio runtime.
    pub async fn start_on(config: Config, addr: SocketAddr) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let host = if addr.ip().is_unspecified() {
            Ipv4Addr::LOCALHOST.to_string()
        } else {
            match addr {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        };
        let base_url = format!("http://{host}:{}/v1", addr.port());
        let shared = Arc::new(http::Shared::new(config));
        let app = http::router(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A send or a dropped sender both stop the server.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Server { addr, base_url, shared, stop: Some(stop), task: Some(task) })
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// A snapshot of the statistics.
    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    /// Reset the statistics (requests still in flight carry over into the new window).
    /// The per-key memory of transient faults is kept.
    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    /// Forget how many requests each key has had, so transient faults fire again.
    pub fn reset_attempts(&self) {
        self.shared.attempts.clear();
    }

    /// Stop accepting connections and wait (at most 2 s) for open requests to finish; requests still
    /// running after that (a hang, say) are abandoned.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(2), &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
