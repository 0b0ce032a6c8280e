//! Throughput check (ignored by default; run with
//! `cargo test --release -p evalgap-testserver --test throughput -- --ignored --nocapture`).
//! The server runs on a single-threaded runtime (one core); the load comes from another runtime.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use evalgap_testserver::{Config, Server};
use serde_json::json;

#[test]
#[ignore]
fn one_core_throughput() {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let s = Server::start(Config::default()).await.unwrap();
            tx.send((s.base_url.clone(), ())).unwrap();
            let _ = stop_rx.await;
            let st = s.stats();
            s.shutdown().await;
            st
        })
    });
    let (base, ()) = rx.recv().unwrap();
    let workers: usize = std::env::var("TS_CONNS").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    let secs: u64 = std::env::var("TS_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (n, elapsed) = rt.block_on(async move {
        let c = reqwest::Client::new();
        let url = format!("{base}/chat/completions");
        let t = Instant::now();
        let deadline = t + Duration::from_secs(secs);
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let c = c.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let body = json!({"model": "test-model", "seed": (w as u64) << 32 | n,
                            "messages": [{"role": "user", "content": "How do I do the thing?"}]});
                        let r = c.post(&url).json(&body).send().await.unwrap();
                        assert_eq!(r.status(), 200);
                        let _ = r.bytes().await.unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut n = 0;
        for h in handles {
            n += h.await.unwrap();
        }
        (n, t.elapsed())
    });
    stop_tx.send(()).unwrap();
    let st = server_thread.join().unwrap();
    let rate = n as f64 / elapsed.as_secs_f64();
    println!("{n} requests in {elapsed:?}: {rate:.0} req/s; server stats: {st:?}");
    assert_eq!(st.requests, n);
}
