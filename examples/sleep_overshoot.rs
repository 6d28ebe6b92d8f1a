//! Measures how late `sleep(1ms)` wakes: the distribution of the overshoot
//! past the deadline (it is never early).
//!
//! ```text
//! cargo run --release --example sleep_overshoot [samples]
//! ```

use std::time::{Duration, Instant};

fn main() {
    let samples: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut overshoot: Vec<Duration> = edgeloop::block_on(async move {
        let mut out = Vec::with_capacity(samples);
        for _ in 0..samples {
            let deadline = Instant::now() + Duration::from_millis(1);
            edgeloop::time::sleep_until(deadline).await;
            let woke = Instant::now();
            assert!(woke >= deadline, "a timer fired early");
            out.push(woke - deadline);
        }
        out
    });
    overshoot.sort();
    let pick = |q: f64| overshoot[((overshoot.len() - 1) as f64 * q) as usize];
    println!(
        "sleep(1ms) overshoot over {samples} samples: min {:?}  p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        overshoot[0],
        pick(0.5),
        pick(0.9),
        pick(0.99),
        overshoot[overshoot.len() - 1]
    );
}
