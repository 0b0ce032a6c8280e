//! A small thread pool for the forward pass: the workers spin between jobs for a short while
//! instead of sleeping, because one decoding step runs about a hundred parallel products a few
//! microseconds apart, and waking sleeping threads for each of them costs more than the products.
//! After about 0.2 ms without work the workers sleep until the next job (`EVALGAP_SPIN_US`).
//!
//! Jobs are "run `f(i)` for every `i < n`": tasks are handed out through an atomic counter, and
//! the calling thread works too. One job runs at a time; a caller that finds the pool busy (two
//! threads generating at once) runs its tasks itself.
//!
//! The size is the number of CPUs, or `EVALGAP_THREADS`.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

type Task = dyn Fn(usize) + Sync;

struct Shared {
    /// The current job (a lifetime-erased pointer, valid while `run` waits for it), its task
    /// count and its generation.
    job: Mutex<Option<(*const Task, usize, u32)>>,
    generation: AtomicU64,
    /// Generation (high 32 bits) and next task index (low 32 bits): a worker still holding an
    /// older job cannot claim a task of a newer one.
    next: AtomicU64,
    done: AtomicUsize,
    wake: Condvar,
    sleep_lock: Mutex<()>,
    busy: AtomicBool,
    panicked: AtomicBool,
}

// SAFETY: the raw job pointer is only dereferenced while `run` keeps the closure alive, and the
// closure is `Sync`.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

pub struct Pool {
    shared: Arc<Shared>,
    n_threads: usize,
}

/// How long an idle worker spins before it sleeps (`EVALGAP_SPIN_US`, default 200).
fn spin_time() -> Duration {
    static T: OnceLock<Duration> = OnceLock::new();
    *T.get_or_init(|| {
        let us = std::env::var("EVALGAP_SPIN_US").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
        Duration::from_micros(us)
    })
}

impl Pool {
    fn new(n_threads: usize) -> Pool {
        let shared = Arc::new(Shared {
            job: Mutex::new(None),
            generation: AtomicU64::new(0),
            next: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            wake: Condvar::new(),
            sleep_lock: Mutex::new(()),
            busy: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
        });
        for w in 1..n_threads {
            let s = shared.clone();
            std::thread::Builder::new()
                .name(format!("evalgap-model-{w}"))
                .spawn(move || worker(&s))
                .expect("spawn worker thread");
        }
        Pool { shared, n_threads }
    }

    pub fn n_threads(&self) -> usize {
        self.n_threads
    }

    /// Runs `f(i)` for every `i < n` on all threads; returns when all are done.
    pub fn run(&self, n: usize, f: &(dyn Fn(usize) + Sync)) {
        let s = &*self.shared;
        if n == 0 {
            return;
        }
        if n == 1 || self.n_threads == 1 || s.busy.swap(true, Ordering::Acquire) {
            (0..n).for_each(f);
            return;
        }
        // SAFETY: `f` outlives this call, and this call does not return before every task of
        // the job has finished (`done == n`), after which no worker touches the pointer.
        let ptr: *const Task = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static Task>(f) };
        let gen = (s.generation.load(Ordering::Acquire) as u32).wrapping_add(1);
        s.done.store(0, Ordering::Release);
        *s.job.lock().unwrap() = Some((ptr, n, gen));
        s.next.store((gen as u64) << 32, Ordering::Release);
        s.generation.store(gen as u64, Ordering::Release);
        {
            let _g = s.sleep_lock.lock().unwrap();
            s.wake.notify_all();
        }
        work(s, f, n, gen);
        // A worker may still run a task; if it was descheduled (the machine is shared), yield
        // rather than spin so it can finish.
        let mut spins = 0u32;
        while s.done.load(Ordering::Acquire) < n {
            spins += 1;
            if spins < 256 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        *s.job.lock().unwrap() = None;
        let panicked = s.panicked.swap(false, Ordering::AcqRel);
        s.busy.store(false, Ordering::Release);
        if panicked {
            panic!("a task of the model's thread pool panicked");
        }
    }
}

/// Claims the next task of job `gen`, if that job is still current and has tasks left.
fn claim(s: &Shared, gen: u32, n: usize) -> Option<usize> {
    let mut cur = s.next.load(Ordering::Acquire);
    loop {
        let idx = (cur & 0xffff_ffff) as usize;
        if (cur >> 32) as u32 != gen || idx >= n {
            return None;
        }
        match s.next.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(idx),
            Err(c) => cur = c,
        }
    }
}

/// Runs tasks of job `gen` until none is left. A panicking task is caught (so that `run` can
/// wait for every task before the closure goes away) and reported to `run`.
fn work(s: &Shared, f: &(dyn Fn(usize) + Sync), n: usize, gen: u32) {
    while let Some(i) = claim(s, gen, n) {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(i))).is_err() {
            s.panicked.store(true, Ordering::Release);
        }
        s.done.fetch_add(1, Ordering::AcqRel);
    }
}

fn worker(s: &Shared) {
    let mut seen = 0u64;
    loop {
        // Spin for new work, then sleep.
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let g = s.generation.load(Ordering::Acquire);
            if g != seen {
                seen = g;
                break;
            }
            spins += 1;
            if spins > 1024 {
                std::thread::yield_now();
            }
            if spins.is_multiple_of(64) && start.elapsed() > spin_time() {
                let guard = s.sleep_lock.lock().unwrap();
                if s.generation.load(Ordering::Acquire) == seen {
                    let _unused = s.wake.wait_timeout(guard, Duration::from_millis(100)).unwrap();
                }
                continue;
            }
            std::hint::spin_loop();
        }
        let job = *s.job.lock().unwrap();
        if let Some((ptr, n, gen)) = job {
            // SAFETY: see `Pool::run`: a task is only run after `claim` succeeds for the job's
            // own generation, and `run` waits for every claimed task before returning.
            let f = unsafe { &*ptr };
            work(s, f, n, gen);
        }
    }
}

/// The process-wide pool.
pub fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = std::env::var("EVALGAP_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Pool::new(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_task_is_reported_and_the_pool_keeps_working() {
        let p = pool();
        let r = std::panic::catch_unwind(|| {
            p.run(8, &|i| {
                if i == 3 {
                    panic!("boom");
                }
            })
        });
        assert!(r.is_err());
        let hits = AtomicUsize::new(0);
        p.run(8, &|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn runs_every_task_once_even_when_called_from_many_threads() {
        let p = pool();
        std::thread::scope(|sc| {
            for _ in 0..4 {
                sc.spawn(|| {
                    for n in [0usize, 1, 7, 100] {
                        let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                        p.run(n, &|i| {
                            hits[i].fetch_add(1, Ordering::Relaxed);
                        });
                        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
                    }
                });
            }
        });
    }
}
