use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spaces requests evenly to at most `per_minute`, shared by every task of a run.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    pub fn per_minute(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        Self { interval: Duration::from_secs_f64(60.0 / per_minute as f64), next: Mutex::new(Instant::now()) }
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests() {
        let l = RateLimiter::per_minute(600); // one per 100 ms
        let t0 = Instant::now();
        for _ in 0..5 {
            l.acquire().await;
        }
        let e = t0.elapsed();
        assert!(e >= Duration::from_millis(400) && e < Duration::from_millis(500), "{e:?}");
    }
}
