//! Where a run's wall time goes, seen from the server: start-up (spawn to the first request the server
//! sees), sending (first request to last), and the tail (last request to exit: for evalgap, the store
//! catching up and the reports). The orchestrator polls the server's `/stats` every [`POLL`] while the
//! child runs, so every boundary is known to within one poll.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Poll interval.
pub const POLL: Duration = Duration::from_millis(10);

/// Seconds spent in each phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    pub startup_s: f64,
    pub sending_s: f64,
    pub tail_s: f64,
}

/// When the server first saw a request, and when it saw the last new one.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    first: Option<Instant>,
    last: Option<Instant>,
}

/// Polls `/stats` on its own thread until [`Poller::finish`].
pub struct Poller {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Seen>,
}

impl Poller {
    /// Start polling `stats_url` (the server's stats must have been reset just before).
    pub fn start(stats_url: String) -> std::io::Result<Poller> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new().name("stats-poller".into()).spawn(move || poll(&stats_url, &flag))?;
        Ok(Poller { stop, handle })
    }

    /// Stop polling; the phases of a child that ran from `started` to `ended`.
    pub fn finish(self, started: Instant, ended: Instant) -> Option<Phases> {
        self.stop.store(true, Ordering::SeqCst);
        let seen = self.handle.join().ok()?;
        let (first, last) = (seen.first?, seen.last?);
        Some(Phases {
            startup_s: first.saturating_duration_since(started).as_secs_f64(),
            sending_s: last.saturating_duration_since(first).as_secs_f64(),
            tail_s: ended.saturating_duration_since(last).as_secs_f64(),
        })
    }
}

fn poll(url: &str, stop: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return seen };
    let http = reqwest::Client::new();
    let mut prev = 0;
    while !stop.load(Ordering::SeqCst) {
        let n = rt.block_on(async {
            let v: serde_json::Value = http.get(url).send().await.ok()?.json().await.ok()?;
            v["requests"].as_u64()
        });
        let now = Instant::now();
        if let Some(n) = n {
            if n > 0 && seen.first.is_none() {
                seen.first = Some(now);
            }
            if n > prev {
                seen.last = Some(now);
                prev = n;
            }
        }
        std::thread::sleep(POLL);
    }
    seen
}
