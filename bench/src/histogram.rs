//! A fixed-size latency histogram: log-linear buckets, under 1.6 % error.
//!
//! Values below 128 ns are exact; above, each power of two is split into 64
//! buckets. Recording is an index computation and one increment, so the load
//! generator can record every message without allocating.

use std::time::Duration;

/// Values below this are recorded exactly.
const EXACT: u64 = 128;
/// Buckets per power of two above [`EXACT`].
const SUB_BUCKETS: u64 = 64;
/// `log2(SUB_BUCKETS)`.
const SUB_BITS: u32 = 6;
/// Enough buckets for any `u64` nanosecond value.
const BUCKETS: usize = (EXACT + (64 - 7) * SUB_BUCKETS) as usize;

/// Counts of durations, in nanosecond buckets.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
    max: u64,
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
            max: 0,
        }
    }

    /// Records one duration.
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[index(ns)] += 1;
        self.total += 1;
        self.max = self.max.max(ns);
    }

    /// How many durations were recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The duration at quantile `q` (0.0 ..= 1.0): the midpoint of the bucket
    /// holding it, never above the largest value recorded. Zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(midpoint(i).min(self.max));
            }
        }
        Duration::from_nanos(self.max)
    }
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

fn index(ns: u64) -> usize {
    if ns < EXACT {
        return ns as usize;
    }
    let msb = 63 - ns.leading_zeros(); // >= 7
    let shift = msb - SUB_BITS;
    (EXACT + u64::from(msb - 7) * SUB_BUCKETS + ((ns >> shift) - SUB_BUCKETS)) as usize
}

fn midpoint(i: usize) -> u64 {
    let i = i as u64;
    if i < EXACT {
        return i;
    }
    let octave = (i - EXACT) / SUB_BUCKETS;
    let shift = octave as u32 + 1; // msb - SUB_BITS, with msb = octave + 7
    let low = ((i - EXACT) % SUB_BUCKETS + SUB_BUCKETS) << shift;
    low + (1 << shift) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_u64_and_round_trip_within_two_percent() {
        assert!(index(u64::MAX) < BUCKETS);
        for ns in [
            0,
            1,
            127,
            128,
            129,
            1_000,
            65_432,
            1_000_000,
            123_456_789_012,
        ] {
            let mid = midpoint(index(ns)) as f64;
            assert!(
                (mid - ns as f64).abs() <= ns as f64 * 0.016 + 1.0,
                "{ns} -> {mid}"
            );
        }
    }

    #[test]
    fn quantiles_of_a_uniform_range() {
        let mut h = Histogram::new();
        for us in 1..=1000 {
            h.record(Duration::from_micros(us));
        }
        let p50 = h.quantile(0.5).as_secs_f64() * 1e6;
        let p99 = h.quantile(0.99).as_secs_f64() * 1e6;
        assert!((p50 - 500.0).abs() < 10.0, "{p50}");
        assert!((p99 - 990.0).abs() < 20.0, "{p99}");
        assert_eq!(
            h.quantile(1.0),
            Duration::from_micros(1000).min(h.quantile(1.0))
        );
        assert_eq!(h.len(), 1000);
    }
}
