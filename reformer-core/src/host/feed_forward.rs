//! The feed-forward after its layer norm as a host kernel, with its derived backward.
//!
//! `FF(y) = dropout(W2 · act(dropout(W1 · y + b1)) + b2)`, over chunks of positions, as
//! [`ChunkedFeedForward`](crate::feed_forward::ChunkedFeedForward) computes it with tensors,
//! with the same dropout draws. The matrix products run on `gemm` across all threads; the
//! element-wise work of a chunk (bias, dropout, activation, and their gradients) is one
//! parallel pass over its rows instead of a single-threaded backend operation each.

use std::ops::Range;

use rayon::prelude::*;

use super::matmul::{Parallelism, View, matmul, matmul_add};
use crate::config::Activation;
use crate::random::{KeepScales, Site, site_seed};

/// The feed-forward's products are large enough to split over every thread.
const ALL_THREADS: Parallelism = Parallelism::Rayon(0);

/// Shapes, parameters and settings of one call; matrices row-major.
#[derive(Debug, Clone, Copy)]
pub struct HostFeedForward<'a> {
    /// Batch size.
    pub batch: usize,
    /// Positions per sequence.
    pub length: usize,
    /// Model width.
    pub hidden: usize,
    /// Width between the projections.
    pub inner: usize,
    /// Positions per chunk; 0 (or at least `length`) for the whole sequence at once.
    pub chunk_size: usize,
    /// `W1`, `[hidden, inner]`.
    pub dense_weight: &'a [f32],
    /// `b1`, `[inner]`.
    pub dense_bias: Option<&'a [f32]>,
    /// `W2`, `[inner, hidden]`.
    pub output_weight: &'a [f32],
    /// `b2`, `[hidden]`.
    pub output_bias: Option<&'a [f32]>,
    /// Activation between the projections.
    pub activation: Activation,
    /// Dropout after each projection, `(probability, layer seed)`; each chunk draws from its
    /// own seeds over its `[batch, positions, width]` values, as the tensor formulation does.
    pub dropout: Option<(f64, u64)>,
}

/// The output of [`HostFeedForward::forward_backward`] and the gradients of
/// `Σ output · output_grad`.
#[derive(Debug)]
pub struct HostFeedForwardGrads {
    /// The output, `[batch, length, hidden]`.
    pub output: Vec<f32>,
    /// For the input, `[batch, length, hidden]`.
    pub input: Vec<f32>,
    /// For `W1`, `[hidden, inner]`.
    pub dense_weight: Vec<f32>,
    /// For `b1`, `[inner]`.
    pub dense_bias: Vec<f32>,
    /// For `W2`, `[inner, hidden]`.
    pub output_weight: Vec<f32>,
    /// For `b2`, `[hidden]`.
    pub output_bias: Vec<f32>,
}

/// One chunk's values, rows ordered `(batch, position)`.
struct Chunk {
    /// `[rows, hidden]`
    input: Vec<f32>,
    /// The activation's input (after bias and dropout), `[rows, inner]`.
    pre_activation: Vec<f32>,
    /// `[rows, inner]`
    activated: Vec<f32>,
    /// The inner dropout's factors, `[rows, inner]` (empty without dropout).
    inner_factors: Vec<f32>,
    /// `[rows, hidden]`
    output: Vec<f32>,
}

impl HostFeedForward<'_> {
    /// The output, `[batch, length, hidden]`.
    ///
    /// # Shapes
    /// - input: `[batch, length, hidden]`
    pub fn forward(&self, input: &[f32]) -> Vec<f32> {
        let mut output = vec![0.0; input.len()];
        for (index, positions) in self.chunks() {
            let chunk = self.forward_chunk(index, positions.clone(), input);
            self.scatter(&chunk.output, positions, &mut output);
        }
        output
    }

    /// The output and the gradients of `Σ output · output_grad`.
    ///
    /// # Shapes
    /// - input, output_grad: `[batch, length, hidden]`
    pub fn forward_backward(&self, input: &[f32], output_grad: &[f32]) -> HostFeedForwardGrads {
        let (hidden, inner) = (self.hidden, self.inner);
        let mut grads = HostFeedForwardGrads {
            output: vec![0.0; input.len()],
            input: vec![0.0; input.len()],
            dense_weight: vec![0.0; hidden * inner],
            dense_bias: vec![0.0; inner],
            output_weight: vec![0.0; inner * hidden],
            output_bias: vec![0.0; hidden],
        };
        for (index, positions) in self.chunks() {
            let chunk = self.forward_chunk(index, positions.clone(), input);
            self.scatter(&chunk.output, positions.clone(), &mut grads.output);
            let rows = chunk.input.len() / hidden;

            // Output projection and its dropout.
            let mut d_output = self.gather(output_grad, positions.clone());
            if let Some(draws) = self.draws(Site::FeedForwardOutput, index) {
                apply_draws(&mut d_output, draws);
            }
            let d_output_view = View::rows(&d_output, rows, hidden);
            let activated = View::rows(&chunk.activated, rows, inner);
            add_linear_grads(
                [&mut grads.output_weight, &mut grads.output_bias],
                activated,
                d_output_view,
            );

            // Activation, inner dropout and dense projection.
            let mut d_inner = vec![0.0; rows * inner];
            let output_weight = View::rows(self.output_weight, inner, hidden);
            matmul(&mut d_inner, d_output_view, output_weight.t(), ALL_THREADS);
            d_inner
                .par_chunks_mut(inner)
                .zip(chunk.pre_activation.par_chunks(inner))
                .for_each(|(grads, pre)| {
                    for (g, &x) in grads.iter_mut().zip(pre) {
                        *g *= slope(self.activation, x);
                    }
                });
            if !chunk.inner_factors.is_empty() {
                multiply(&mut d_inner, &chunk.inner_factors);
            }
            let d_inner_view = View::rows(&d_inner, rows, inner);
            let input_view = View::rows(&chunk.input, rows, hidden);
            add_linear_grads(
                [&mut grads.dense_weight, &mut grads.dense_bias],
                input_view,
                d_inner_view,
            );
            let mut d_input = vec![0.0; rows * hidden];
            let dense_weight = View::rows(self.dense_weight, hidden, inner);
            matmul(&mut d_input, d_inner_view, dense_weight.t(), ALL_THREADS);
            self.scatter(&d_input, positions, &mut grads.input);
        }
        grads
    }

    /// Each chunk's index and positions.
    fn chunks(&self) -> impl Iterator<Item = (usize, Range<usize>)> + '_ {
        let size = match self.chunk_size {
            0 => self.length,
            size => size.min(self.length),
        };
        (0..self.length)
            .step_by(size)
            .enumerate()
            .map(move |(index, start)| (index, start..(start + size).min(self.length)))
    }

    /// The rows of `positions` of every batch element, `[batch·positions, hidden]`.
    fn gather(&self, x: &[f32], positions: Range<usize>) -> Vec<f32> {
        let h = self.hidden;
        let mut rows = Vec::with_capacity(self.batch * positions.len() * h);
        for b in 0..self.batch {
            let first = b * self.length;
            rows.extend_from_slice(&x[(first + positions.start) * h..(first + positions.end) * h]);
        }
        rows
    }

    /// The inverse of [`gather`](Self::gather): writes `rows` back into `x`.
    fn scatter(&self, rows: &[f32], positions: Range<usize>, x: &mut [f32]) {
        let h = self.hidden;
        let span = positions.len() * h;
        for (b, rows) in rows.chunks_exact(span).enumerate() {
            let first = (b * self.length + positions.start) * h;
            x[first..first + span].copy_from_slice(rows);
        }
    }

    /// The dropout draws at `site` of chunk `chunk`.
    fn draws(&self, site: Site, chunk: usize) -> Option<KeepScales> {
        self.dropout
            .map(|(prob, seed)| KeepScales::new(site_seed(seed, site, chunk), prob))
    }

    /// Runs chunk `index` (covering `positions`) forward, keeping what its backward needs.
    fn forward_chunk(&self, index: usize, positions: Range<usize>, input: &[f32]) -> Chunk {
        let (hidden, inner) = (self.hidden, self.inner);
        let x = self.gather(input, positions);
        let rows = x.len() / hidden;

        let mut pre_activation = vec![0.0; rows * inner];
        let dense_weight = View::rows(self.dense_weight, hidden, inner);
        matmul(
            &mut pre_activation,
            View::rows(&x, rows, hidden),
            dense_weight,
            ALL_THREADS,
        );
        pre_activation
            .par_chunks_mut(inner)
            .for_each(|row| add_bias(row, self.dense_bias));
        let mut inner_factors = Vec::new();
        if let Some(draws) = self.draws(Site::FeedForwardInner, index) {
            inner_factors = apply_draws(&mut pre_activation, draws);
        }
        let mut activated = vec![0.0; rows * inner];
        activated
            .par_chunks_mut(inner)
            .zip(pre_activation.par_chunks(inner))
            .for_each(|(activated, pre)| {
                for (a, &x) in activated.iter_mut().zip(pre) {
                    *a = activate(self.activation, x);
                }
            });

        let mut output = vec![0.0; rows * hidden];
        let output_weight = View::rows(self.output_weight, inner, hidden);
        matmul(
            &mut output,
            View::rows(&activated, rows, inner),
            output_weight,
            ALL_THREADS,
        );
        output
            .par_chunks_mut(hidden)
            .for_each(|row| add_bias(row, self.output_bias));
        if let Some(draws) = self.draws(Site::FeedForwardOutput, index) {
            apply_draws(&mut output, draws);
        }
        Chunk {
            input: x,
            pre_activation,
            activated,
            inner_factors,
            output,
        }
    }
}

fn add_bias(row: &mut [f32], bias: Option<&[f32]>) {
    if let Some(bias) = bias {
        row.iter_mut().zip(bias).for_each(|(x, b)| *x += b);
    }
}

/// Multiplies element `i` of `values` by factor `i` of `draws`; returns the factors.
fn apply_draws(values: &mut [f32], draws: KeepScales) -> Vec<f32> {
    let factors = draws.all(values.len());
    multiply(values, &factors);
    factors
}

/// `values ⊙= factors`, in parallel blocks.
fn multiply(values: &mut [f32], factors: &[f32]) {
    const BLOCK: usize = 1 << 14;
    values
        .par_chunks_mut(BLOCK)
        .zip(factors.par_chunks(BLOCK))
        .for_each(|(values, factors)| values.iter_mut().zip(factors).for_each(|(x, f)| *x *= f));
}

/// Adds a linear layer's weight gradient `inputᵀ·output_grad` and bias gradient (the column
/// sums of `output_grad`).
fn add_linear_grads([weight, bias]: [&mut [f32]; 2], input: View, output_grad: View) {
    let ones = vec![1.0; input.row_count()];
    matmul_add(weight, input.t(), output_grad, ALL_THREADS);
    matmul_add(
        bias,
        View::rows(&ones, 1, ones.len()),
        output_grad,
        ALL_THREADS,
    );
}

/// √(2/π), of the tanh approximation of GELU.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh approximation of GELU.
const GELU_CUBIC: f32 = 0.044_715;

/// The activation at `x`, as the tensor formulation defines it.
fn activate(activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Relu => x.max(0.0),
        Activation::Gelu => 0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2)),
        Activation::GeluNew => {
            let t = (SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)).tanh();
            0.5 * x * (1.0 + t)
        }
        Activation::Silu => x / (1.0 + (-x).exp()),
    }
}

/// The activation's derivative at `x` (ReLU's is 0 at 0, as Burn's backward takes it).
fn slope(activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Relu => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::Gelu => {
            let cdf = 0.5 * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2));
            let density = (-0.5 * x * x).exp() * 0.398_942_3;
            cdf + x * density
        }
        Activation::GeluNew => {
            let t = (SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)).tanh();
            let inner_slope = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner_slope
        }
        Activation::Silu => {
            let sigmoid = 1.0 / (1.0 + (-x).exp());
            sigmoid * (1.0 + x * (1.0 - sigmoid))
        }
    }
}
