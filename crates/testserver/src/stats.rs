//! Request statistics, cheap enough for the hot path: atomics, sharded maps, and one small lock for the
//! in-flight integral (held for a few arithmetic operations, never across an await).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// A snapshot of what the server has seen since start or the last reset.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Chat-completions requests received (valid or not).
    pub requests: u64,
    /// Answers by HTTP status (hangs and truncated/garbage answers count as 200).
    pub by_status: BTreeMap<u16, u64>,
    /// Largest number of (valid) requests seen for one seed.
    pub requests_by_seed_max: u32,
    /// Requests being served now.
    pub in_flight_now: u64,
    /// Largest in-flight count since the reset.
    pub max_in_flight: u64,
    /// Time-weighted mean of the in-flight count between the first request after the reset and the last
    /// answer (0 when nothing has been answered yet).
    pub mean_in_flight: f64,
    /// Number of distinct seeds seen.
    pub distinct_seeds: u64,
}

const SHARDS: usize = 64;
const STATUS_SLOTS: usize = 600;

/// A map from `u64` keys to counters, sharded by key so that concurrent requests rarely contend.
pub(crate) struct ShardedCounter {
    shards: Vec<Mutex<HashMap<u64, u32>>>,
}

impl ShardedCounter {
    pub(crate) fn new() -> Self {
        ShardedCounter { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }

    fn shard(&self, key: u64) -> MutexGuard<'_, HashMap<u64, u32>> {
        // Mix the key so that sequential seeds spread over the shards.
        let i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % SHARDS;
        lock(&self.shards[i])
    }

    /// Increment the counter of `key`; returns the new count.
    pub(crate) fn increment(&self, key: u64) -> u32 {
        let mut m = self.shard(key);
        let c = m.entry(key).or_insert(0);
        *c = c.saturating_add(1);
        *c
    }

    pub(crate) fn clear(&self) {
        for s in &self.shards {
            lock(s).clear();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct InFlight {
    now: u64,
    max: u64,
    /// First request start after the reset.
    first: Option<Instant>,
    last_change: Option<Instant>,
    /// Integral of the in-flight count over time (count × seconds) since `first`.
    integral: f64,
    /// `integral` and the time at the last answer.
    answered_integral: f64,
    last_answer: Option<Instant>,
}

/// The collector shared by the request handlers.
pub(crate) struct Collector {
    requests: AtomicU64,
    status: Vec<AtomicU64>,
    seeds: ShardedCounter,
    seed_max: AtomicU32,
    distinct_seeds: AtomicU64,
    in_flight_now: AtomicU64,
    in_flight: Mutex<InFlight>,
}

impl Collector {
    pub(crate) fn new() -> Self {
        Collector {
            requests: AtomicU64::new(0),
            status: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            seeds: ShardedCounter::new(),
            seed_max: AtomicU32::new(0),
            distinct_seeds: AtomicU64::new(0),
            in_flight_now: AtomicU64::new(0),
            in_flight: Mutex::new(InFlight {
                now: 0,
                max: 0,
                first: None,
                last_change: None,
                integral: 0.0,
                answered_integral: 0.0,
                last_answer: None,
            }),
        }
    }

    /// A request arrives: count it and mark it in flight until the guard drops.
    pub(crate) fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        {
            let mut f = lock(&self.in_flight);
            match (f.first, f.last_change) {
                (Some(_), Some(last)) => {
                    f.integral += f.now as f64 * t.saturating_duration_since(last).as_secs_f64();
                }
                _ => f.first = Some(t),
            }
            f.last_change = Some(t);
            f.now += 1;
            f.max = f.max.max(f.now);
            self.in_flight_now.store(f.now, Ordering::Relaxed);
        }
        InFlightGuard { collector: Arc::clone(self) }
    }

    fn leave(&self) {
        let t = Instant::now();
        let mut f = lock(&self.in_flight);
        if f.first.is_some() {
            if let Some(last) = f.last_change {
                f.integral += f.now as f64 * t.saturating_duration_since(last).as_secs_f64();
            }
            f.answered_integral = f.integral;
            f.last_answer = Some(t);
        }
        f.last_change = Some(t);
        f.now = f.now.saturating_sub(1);
        self.in_flight_now.store(f.now, Ordering::Relaxed);
    }

    /// Record the status of an answer.
    pub(crate) fn status(&self, status: u16) {
        let i = (status as usize).min(STATUS_SLOTS - 1);
        self.status[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Record a valid request's seed.
    pub(crate) fn seed(&self, seed: u64) {
        let n = self.seeds.increment(seed);
        if n == 1 {
            self.distinct_seeds.fetch_add(1, Ordering::Relaxed);
        }
        self.seed_max.fetch_max(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let by_status = self
            .status
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let n = c.load(Ordering::Relaxed);
                (n > 0).then_some((i as u16, n))
            })
            .collect();
        let (in_flight_now, max_in_flight, mean_in_flight) = {
            let f = lock(&self.in_flight);
            let mean = match (f.first, f.last_answer) {
                (Some(a), Some(b)) => {
                    let span = b.saturating_duration_since(a).as_secs_f64();
                    if span > 0.0 {
                        f.answered_integral / span
                    } else {
                        0.0
                    }
                }
                _ => 0.0,
            };
            (f.now, f.max, mean)
        };
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            by_status,
            requests_by_seed_max: self.seed_max.load(Ordering::Relaxed),
            in_flight_now,
            max_in_flight,
            mean_in_flight,
            distinct_seeds: self.distinct_seeds.load(Ordering::Relaxed),
        }
    }

    /// Forget everything except the requests still in flight (they count towards the next window).
    pub(crate) fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        for s in &self.status {
            s.store(0, Ordering::Relaxed);
        }
        self.seeds.clear();
        self.seed_max.store(0, Ordering::Relaxed);
        self.distinct_seeds.store(0, Ordering::Relaxed);
        let mut f = lock(&self.in_flight);
        f.max = f.now;
        f.first = None;
        f.last_change = None;
        f.integral = 0.0;
        f.answered_integral = 0.0;
        f.last_answer = None;
    }
}

/// Marks a request in flight; dropping it (answer sent, or the client went away) ends that.
pub(crate) struct InFlightGuard {
    collector: Arc<Collector>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.collector.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn counts_and_integral() {
        let c = Arc::new(Collector::new());
        let g1 = c.enter();
        let g2 = c.enter();
        std::thread::sleep(Duration::from_millis(50));
        drop(g1);
        drop(g2);
        c.status(200);
        c.status(200);
        c.seed(1);
        c.seed(1);
        c.seed(2);
        let s = c.snapshot();
        assert_eq!(s.requests, 2);
        assert_eq!(s.by_status.get(&200), Some(&2));
        assert_eq!(s.requests_by_seed_max, 2);
        assert_eq!(s.distinct_seeds, 2);
        assert_eq!(s.max_in_flight, 2);
        assert_eq!(s.in_flight_now, 0);
        assert!(s.mean_in_flight > 1.9 && s.mean_in_flight <= 2.0, "{s:?}");
        c.reset();
        let s = c.snapshot();
        assert_eq!(s.requests, 0);
        assert!(s.by_status.is_empty());
        assert_eq!(s.max_in_flight, 0);
        assert_eq!(s.mean_in_flight, 0.0);
        assert_eq!(s.distinct_seeds, 0);
    }
}
