//! The host kernel's row softmax and its gradient, written so the compiler vectorises them.
//!
//! A score row holds a chunk's window of keys (128 for the reference model). Summing it with
//! one accumulator, or calling libm's scalar `expf` per score, costs more than the row's share
//! of the matrix products; here every row is reduced in [`LANES`] independent lanes and the
//! exponential is a polynomial the compiler turns into vector code. Each function is compiled
//! for AVX-512 and for AVX2 with FMA besides the baseline, and picked at run time.

/// Independent accumulators per row: one AVX-512 register of `f32`.
const LANES: usize = 16;

/// Replaces each row of `scores` (`[rows, width]`) by `exp(s − max)·exp(max − lse)`, its
/// softmax, and writes each row's log-normaliser `lse = max + ln Σ exp(s − max)` to `lse`.
pub fn softmax_rows(scores: &mut [f32], width: usize, lse: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { softmax_rows_avx512(scores, width, lse) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: as above.
            return unsafe { softmax_rows_avx2(scores, width, lse) };
        }
    }
    softmax_rows_portable(scores, width, lse);
}

/// The gradient for the scores of [`softmax_rows`] with log-normalisers, in place: each row
/// of `grads` (`[rows, width]`, the gradient for the probabilities) becomes
/// `p ⊙ (g − Σ p ⊙ g + lse_grad)`, with `probs` the softmax and `lse_grad` (`[rows]`) the
/// gradient for the log-normalisers.
pub fn softmax_grad_rows(probs: &[f32], grads: &mut [f32], width: usize, lse_grad: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { softmax_grad_rows_avx512(probs, grads, width, lse_grad) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: as above.
            return unsafe { softmax_grad_rows_avx2(probs, grads, width, lse_grad) };
        }
    }
    softmax_grad_rows_portable(probs, grads, width, lse_grad);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn softmax_rows_avx512(scores: &mut [f32], width: usize, lse: &mut [f32]) {
    softmax_rows_portable(scores, width, lse);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softmax_rows_avx2(scores: &mut [f32], width: usize, lse: &mut [f32]) {
    softmax_rows_portable(scores, width, lse);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn softmax_grad_rows_avx512(probs: &[f32], grads: &mut [f32], width: usize, lse_grad: &[f32]) {
    softmax_grad_rows_portable(probs, grads, width, lse_grad);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softmax_grad_rows_avx2(probs: &[f32], grads: &mut [f32], width: usize, lse_grad: &[f32]) {
    softmax_grad_rows_portable(probs, grads, width, lse_grad);
}

#[inline(always)]
fn softmax_rows_portable(scores: &mut [f32], width: usize, lse: &mut [f32]) {
    for (row, lse) in scores.chunks_exact_mut(width).zip(lse) {
        let max = max_of(row);
        let mut sums = [0.0f32; LANES];
        let mut lanes = row.chunks_exact_mut(LANES);
        for lane in &mut lanes {
            for (x, sum) in lane.iter_mut().zip(&mut sums) {
                *x = exp_non_positive(*x - max);
                *sum += *x;
            }
        }
        let mut sum = sums.iter().sum::<f32>();
        for x in lanes.into_remainder() {
            *x = exp_non_positive(*x - max);
            sum += *x;
        }
        *lse = sum.ln() + max;
        let scale = exp_non_positive(max - *lse);
        row.iter_mut().for_each(|x| *x *= scale);
    }
}

#[inline(always)]
fn softmax_grad_rows_portable(probs: &[f32], grads: &mut [f32], width: usize, lse_grad: &[f32]) {
    let rows = probs.chunks_exact(width).zip(grads.chunks_exact_mut(width));
    for ((p, g), &lse_grad) in rows.zip(lse_grad) {
        let shift = lse_grad - dot(p, g);
        for (g, &p) in g.iter_mut().zip(p) {
            *g = p * (*g + shift);
        }
    }
}

#[inline(always)]
fn max_of(row: &[f32]) -> f32 {
    let mut maxima = [f32::NEG_INFINITY; LANES];
    let mut lanes = row.chunks_exact(LANES);
    for lane in &mut lanes {
        for (m, &x) in maxima.iter_mut().zip(lane) {
            *m = m.max(x);
        }
    }
    let remainder = lanes.remainder().iter().copied();
    maxima
        .into_iter()
        .chain(remainder)
        .fold(f32::NEG_INFINITY, f32::max)
}

/// `Σ a ⊙ b` in [`LANES`] accumulators.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; LANES];
    let (mut a_lanes, mut b_lanes) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    for (a, b) in (&mut a_lanes).zip(&mut b_lanes) {
        for ((sum, &x), &y) in sums.iter_mut().zip(a).zip(b) {
            *sum += x * y;
        }
    }
    let tail = a_lanes.remainder().iter().zip(b_lanes.remainder());
    sums.iter().sum::<f32>() + tail.map(|(x, y)| x * y).sum::<f32>()
}

/// `eˣ` for `x ≤ 0`, within two units in the last place, and 0 below −86 (where the exact
/// value, under 3·10⁻³⁸, is at the edge of `f32`'s normal range; computing subnormals costs a
/// microcode assist per element): `2ⁿ · eʳ` with `n = round(x / ln 2)`, `r = x − n·ln 2` split
/// in two parts (Cody–Waite), and Cephes' degree-6 polynomial for `eʳ` on `|r| ≤ ln 2 / 2`.
#[inline(always)]
fn exp_non_positive(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN_2_HIGH: f32 = 0.693_359_4;
    const LN_2_LOW: f32 = -2.121_944_4e-4;
    // Adding 1.5·2²³ rounds to an integer, which the low mantissa bits then hold.
    const ROUND: f32 = 12_582_912.0;
    const SMALLEST: f32 = -86.0;
    let clamped = x.max(SMALLEST);
    let shifted = clamped * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = clamped - n * LN_2_HIGH - n * LN_2_LOW;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let exponent = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let two_n = f32::from_bits((exponent.wrapping_add(127) as u32) << 23);
    if x < SMALLEST { 0.0 } else { e_r * two_n }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_is_within_two_ulp_of_libm() {
        let mut x = 0.0f32;
        while x > -86.0 {
            let (ours, reference) = (exp_non_positive(x), x.exp());
            let ulp = (reference.to_bits() as i64 - ours.to_bits() as i64).abs();
            assert!(
                ulp <= 2,
                "exp({x}) = {ours}, libm {reference}: {ulp} ulp apart"
            );
            x -= 0.0137;
        }
        assert_eq!(exp_non_positive(0.0), 1.0);
        assert_eq!(exp_non_positive(-1e9), 0.0);
        assert_eq!(exp_non_positive(-86.5), 0.0);
    }

    #[test]
    fn rows_match_a_plain_softmax() {
        let width = 37;
        let mut scores: Vec<f32> = (0..3 * width)
            .map(|i| ((i * 7919) % 101) as f32 / 9.0)
            .collect();
        scores[width + 5] = -1e9;
        let mut lse = vec![0.0; 3];
        let mut probs = scores.clone();
        softmax_rows(&mut probs, width, &mut lse);
        for ((scores, probs), lse) in scores.chunks(width).zip(probs.chunks(width)).zip(&lse) {
            let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let sum: f64 = scores.iter().map(|&s| (s as f64 - max).exp()).sum();
            let expected_lse = sum.ln() + max;
            assert!((*lse as f64 - expected_lse).abs() <= 1e-6 * expected_lse.abs());
            for (&s, &p) in scores.iter().zip(probs) {
                let expected = (s as f64 - expected_lse).exp();
                assert!(
                    (p as f64 - expected).abs() <= 1e-6,
                    "probability {p}, expected {expected}"
                );
            }
        }
    }

    /// A row of nothing but mask values gives probabilities of 1, not `1/width`, exactly as
    /// PyTorch's `exp(s − logsumexp(s))` does in float32: HuggingFace parity depends on it.
    #[test]
    fn a_fully_masked_row_keeps_the_float32_quirk() {
        let mut row = vec![-1e9f32; 24];
        let mut lse = [0.0];
        softmax_rows(&mut row, 24, &mut lse);
        assert_eq!(lse[0], -1e9);
        assert!(row.iter().all(|&p| p == 1.0));
    }

    #[test]
    fn gradient_matches_the_formula_in_f64() {
        let width = 21;
        let probs: Vec<f32> = (0..2 * width)
            .map(|i| ((i * 31) % 17) as f32 / 170.0)
            .collect();
        let grads: Vec<f32> = (0..2 * width)
            .map(|i| ((i * 13) % 7) as f32 - 3.0)
            .collect();
        let lse_grad = [0.25f32, -1.5];
        let mut ours = grads.clone();
        softmax_grad_rows(&probs, &mut ours, width, &lse_grad);
        for (row, &lse_grad) in lse_grad.iter().enumerate() {
            let span = row * width..(row + 1) * width;
            let (p, g) = (&probs[span.clone()], &grads[span.clone()]);
            let inner: f64 = p.iter().zip(g).map(|(&p, &g)| p as f64 * g as f64).sum();
            for ((&p, &g), &o) in p.iter().zip(g).zip(&ours[span]) {
                let expected = p as f64 * (g as f64 - inner + lse_grad as f64);
                assert!(
                    (o as f64 - expected).abs() <= 1e-6,
                    "{o} against {expected}"
                );
            }
        }
    }
}
