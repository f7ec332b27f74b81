//! The learning-rate schedule: linear warm-up, then a decay.

use serde::{Deserialize, Serialize};

/// The decay after the warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// The peak rate throughout.
    Constant,
    /// `peak · sqrt(warmup / step)`: trax's `linear_warmup * rsqrt_decay`, as the authors'
    /// Reformer configurations use, normalised so that the peak is the learning rate.
    RsqrtDecay,
    /// Half a cosine from the peak to 0 at the last step.
    Cosine,
}

/// The learning rate of optimizer step `step` (0-based) of a run of `total_steps`.
pub fn learning_rate(
    schedule: Schedule,
    peak: f64,
    warmup_steps: u64,
    step: u64,
    total_steps: u64,
) -> f64 {
    let t = (step + 1) as f64;
    let warmup = warmup_steps as f64;
    let warm = if warmup_steps == 0 {
        1.0
    } else {
        (t / warmup).min(1.0)
    };
    let decay = match schedule {
        Schedule::Constant => 1.0,
        Schedule::RsqrtDecay => (warmup.max(1.0) / t.max(warmup)).sqrt(),
        Schedule::Cosine => {
            let span = total_steps.saturating_sub(warmup_steps).max(1) as f64;
            let progress = ((t - warmup).max(0.0) / span).min(1.0);
            0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
        }
    };
    peak * warm * decay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_then_decay() {
        let lr = |schedule, step| learning_rate(schedule, 1e-3, 100, step, 1100);
        assert!((lr(Schedule::RsqrtDecay, 49) - 0.5e-3).abs() < 1e-12);
        assert!((lr(Schedule::RsqrtDecay, 99) - 1e-3).abs() < 1e-12);
        assert!((lr(Schedule::RsqrtDecay, 399) - 0.5e-3).abs() < 1e-12);
        assert!((lr(Schedule::Constant, 999) - 1e-3).abs() < 1e-12);
        assert!((lr(Schedule::Cosine, 599) - 0.5e-3).abs() < 1e-12);
        assert!(lr(Schedule::Cosine, 1099).abs() < 1e-12);
        assert_eq!(learning_rate(Schedule::Constant, 2.0, 0, 0, 10), 2.0);
    }
}
