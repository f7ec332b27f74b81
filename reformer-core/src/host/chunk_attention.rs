//! Chunked attention (LSH's over sorted buckets, local attention's in position order) as one
//! kernel over host memory, with its derived backward.
//!
//! On the CPU backends the tensor formulation ([`crate::attention::attend`]) materialises every
//! score-sized intermediate (scores, masks, exponentials, probabilities) for all heads and
//! rounds at once, gathers key windows into new tensors, and autodiff keeps most of it for the
//! backward pass. This kernel runs one (batch, head) per task and one chunk at a time: it
//! copies the head's rows out of the projections once (scaling the keys itself), gathers each
//! chunk's rows by position, keeps one chunk's scores in a small buffer, and in the reversible
//! step's backward keeps the probabilities of one head at most.
//!
//! Products run on the task's own thread: the heads are the parallelism.
//!
//! It computes what the tensor formulation computes, to float rounding: the same masks, the
//! same `exp(s − max)·exp(max − lse)` normalisation, the same dropout draws, the same merge of
//! rounds. The tensor formulation stays the reference the tests hold it to, and the path on
//! other devices.

use rayon::prelude::*;

use super::matmul::{Parallelism, View, matmul};
use super::softmax::{dot, softmax_grad_rows, softmax_rows};
use crate::attention::{MASK_VALUE, SELF_MASK_VALUE};
use crate::random::KeepScales;

/// Shape and settings of one chunked-attention call.
#[derive(Debug, Clone)]
pub struct HostChunkAttention {
    /// Batch size.
    pub batch: usize,
    /// Heads.
    pub heads: usize,
    /// Sequence length, a multiple of `chunk_length`.
    pub length: usize,
    /// Size of a query, key or value vector.
    pub head_size: usize,
    /// Hash rounds (1 for local attention).
    pub num_hashes: usize,
    /// Chunk length of the sorted (or, for local attention, position-ordered) sequence.
    pub chunk_length: usize,
    /// Chunks before each chunk its queries see.
    pub chunks_before: usize,
    /// Chunks after each chunk its queries see.
    pub chunks_after: usize,
    /// Forbid keys at later positions than the query.
    pub causal: bool,
    /// LSH's shared query/key: the keys are the queries scaled to unit length, and a query's
    /// own position gets the self-mask score. Otherwise (local attention) the keys come from
    /// their own projection, scaled by `1/√head_size`, and there is no self mask.
    pub shared_query_key: bool,
    /// Dropout on the probabilities, drawn as [`seeded_dropout`](crate::dropout::seeded_dropout)
    /// draws it over the tensor formulation's `[batch, heads, chunks, chunk_length, window]`
    /// probabilities.
    pub dropout: Option<KeepScales>,
}

/// The inputs of one call, flattened row-major.
#[derive(Debug, Clone, Copy)]
pub struct HostChunkInputs<'a> {
    /// The query projection, `[batch, length, heads·head_size]` (with a shared query/key, the
    /// keys too, once scaled to unit length).
    pub queries: &'a [f32],
    /// The key projection, `[batch, length, heads·head_size]`, unless shared with the queries.
    pub keys: Option<&'a [f32]>,
    /// The value projection, `[batch, length, heads·head_size]`.
    pub values: &'a [f32],
    /// `[batch, heads, num_hashes·length]`: for each sorted slot, `round·length + position`
    /// ([`BucketOrder::sorted`](crate::attention::BucketOrder)); `None` for position order.
    pub sorted: Option<&'a [usize]>,
    /// `[batch, length]`, false at padding.
    pub keep: Option<&'a [bool]>,
}

/// The output of [`HostChunkAttention::forward_backward`], each
/// `[batch, length, heads·head_size]`.
#[derive(Debug)]
pub struct HostChunkGrads {
    /// The attention output.
    pub context: Vec<f32>,
    /// Gradient for the query projection (with a shared query/key, through the keys too).
    pub queries: Vec<f32>,
    /// Gradient for the key projection; `None` with a shared query/key.
    pub keys: Option<Vec<f32>>,
    /// Gradient for the value projection.
    pub values: Vec<f32>,
}

/// One head's rows, `[length, head_size]` each, in position order.
struct HeadRows {
    queries: Vec<f32>,
    /// Scaled: to unit length with a shared query/key (as
    /// [`unit_norm_keys`](crate::attention::unit_norm_keys)), else by `1/√head_size`.
    keys: Vec<f32>,
    values: Vec<f32>,
    /// With a shared query/key, each key's `1 / rms(query)`, `[length]`.
    inv_rms: Vec<f32>,
}

/// Every round's output `[rounds, length, head_size]` and log-normaliser `[rounds, length]`
/// for one head, in position order.
struct Rounds {
    out: Vec<f32>,
    lse: Vec<f32>,
}

/// One chunk's round, positions and gathered rows.
struct Chunk {
    round: usize,
    /// `[c]`
    query_positions: Vec<usize>,
    /// `[w]`
    key_positions: Vec<usize>,
    /// `[w]`, true for padding.
    key_padded: Vec<bool>,
    /// `[c, d]`
    queries: Vec<f32>,
    /// `[w, d]`
    keys: Vec<f32>,
    /// `[w, d]`
    values: Vec<f32>,
    /// Dropout factors `[c, w]` (empty without dropout).
    factors: Vec<f32>,
}

impl HostChunkAttention {
    fn window(&self) -> usize {
        self.chunk_length * (1 + self.chunks_before + self.chunks_after)
    }

    fn chunks(&self) -> usize {
        self.num_hashes * self.length / self.chunk_length
    }

    fn head_len(&self) -> usize {
        self.length * self.head_size
    }

    /// The attention output, `[batch, length, heads·head_size]`.
    pub fn forward(&self, inputs: HostChunkInputs) -> Vec<f32> {
        let contexts: Vec<Vec<f32>> = (0..self.batch * self.heads)
            .into_par_iter()
            .map(|head| {
                let rows = self.head_rows(head, inputs);
                let rounds = self.head_forward(head, inputs, &rows, None);
                let mut context = vec![0.0; self.head_len()];
                self.merge(&rounds, &mut context);
                context
            })
            .collect();
        self.interleave(&contexts)
    }

    /// The attention output and the gradients of `Σ output · output_grad` for the query, key
    /// and value projections.
    ///
    /// # Shapes
    /// - output_grad: `[batch, length, heads·head_size]`
    pub fn forward_backward(&self, inputs: HostChunkInputs, output_grad: &[f32]) -> HostChunkGrads {
        let heads: Vec<[Vec<f32>; 4]> = (0..self.batch * self.heads)
            .into_par_iter()
            .map(|head| {
                let rows = self.head_rows(head, inputs);
                let mut probs = vec![0.0; self.chunks() * self.chunk_length * self.window()];
                let rounds = self.head_forward(head, inputs, &rows, Some(&mut probs));
                let mut context = vec![0.0; self.head_len()];
                self.merge(&rounds, &mut context);
                let output_grad = self.head_of(head, output_grad);
                let (d_out, d_lse) = self.merge_backward(&rounds, &context, &output_grad);
                let [dq, dk, dv] = self.head_backward(head, inputs, &rows, &probs, &d_out, &d_lse);
                if self.shared_query_key {
                    [context, self.query_key_grad(&rows, dq, &dk), Vec::new(), dv]
                } else {
                    let scale = (self.head_size as f32).sqrt().recip();
                    [context, dq, dk.into_iter().map(|g| g * scale).collect(), dv]
                }
            })
            .collect();
        let part = |i: usize| self.interleave(&heads.iter().map(|h| &h[i]).collect::<Vec<_>>());
        HostChunkGrads {
            context: part(0),
            queries: part(1),
            keys: (!self.shared_query_key).then(|| part(2)),
            values: part(3),
        }
    }

    /// Flat head `head`'s (`batch·heads + head`) rows of a `[batch, length, heads·head_size]`
    /// tensor, `[length, head_size]`.
    fn head_of(&self, head: usize, x: &[f32]) -> Vec<f32> {
        let (b, h, d) = (head / self.heads, head % self.heads, self.head_size);
        let mut rows = Vec::with_capacity(self.head_len());
        for position in 0..self.length {
            let first = ((b * self.length + position) * self.heads + h) * d;
            rows.extend_from_slice(&x[first..first + d]);
        }
        rows
    }

    /// The inverse of [`head_of`](Self::head_of) for every head at once.
    fn interleave<V: AsRef<[f32]>>(&self, heads: &[V]) -> Vec<f32> {
        let d = self.head_size;
        let mut out = vec![0.0; self.batch * self.heads * self.head_len()];
        for (head, rows) in heads.iter().enumerate() {
            let (b, h) = (head / self.heads, head % self.heads);
            for (position, row) in rows.as_ref().chunks_exact(d).enumerate() {
                let first = ((b * self.length + position) * self.heads + h) * d;
                out[first..first + d].copy_from_slice(row);
            }
        }
        out
    }

    /// One head's queries, scaled keys and values.
    fn head_rows(&self, head: usize, inputs: HostChunkInputs) -> HeadRows {
        let d = self.head_size;
        let queries = self.head_of(head, inputs.queries);
        let unit = (d as f32).sqrt().recip();
        let (keys, inv_rms) = match inputs.keys {
            Some(keys) => {
                let mut keys = self.head_of(head, keys);
                keys.iter_mut().for_each(|x| *x *= unit);
                (keys, Vec::new())
            }
            None => {
                let mut keys = queries.clone();
                let mut inv_rms = vec![0.0; self.length];
                for (key, inv_rms) in keys.chunks_exact_mut(d).zip(&mut inv_rms) {
                    *inv_rms = (dot(key, key) / d as f32 + 1e-6).sqrt().recip();
                    key.iter_mut().for_each(|x| *x = *x * *inv_rms * unit);
                }
                (keys, inv_rms)
            }
        };
        HeadRows {
            queries,
            keys,
            values: self.head_of(head, inputs.values),
            inv_rms,
        }
    }

    /// The gradient for one head's query/key rows: `dq` plus the keys' gradient `dk` through
    /// the scaling to unit length, `k = x·r/√d` with `r = 1/√(mean(x²) + ε)`:
    /// `dx = (r/√d)·(dk − x·r²·(dk·x)/d)`.
    fn query_key_grad(&self, rows: &HeadRows, mut dq: Vec<f32>, dk: &[f32]) -> Vec<f32> {
        let d = self.head_size;
        let unit = (d as f32).sqrt().recip();
        let per_row = dq
            .chunks_exact_mut(d)
            .zip(dk.chunks_exact(d))
            .zip(rows.queries.chunks_exact(d))
            .zip(&rows.inv_rms);
        for (((dq, dk), x), &r) in per_row {
            let along = dot(dk, x) * r * r / d as f32;
            for ((g, &dk), &x) in dq.iter_mut().zip(dk).zip(x) {
                *g += r * unit * (dk - x * along);
            }
        }
        dq
    }

    fn new_chunk(&self) -> Chunk {
        let (c, w, d) = (self.chunk_length, self.window(), self.head_size);
        Chunk {
            round: 0,
            query_positions: vec![0; c],
            key_positions: vec![0; w],
            key_padded: vec![false; w],
            queries: vec![0.0; c * d],
            keys: vec![0.0; w * d],
            values: vec![0.0; w * d],
            factors: if self.dropout.is_some() {
                vec![0.0; c * w]
            } else {
                Vec::new()
            },
        }
    }

    /// Fills `chunk` with sorted chunk `n` of head `head` (a flat `batch·heads` index): its
    /// queries, and the keys and values of its window, which is the chunk itself with
    /// `chunks_before` chunks before it and `chunks_after` after it, circularly.
    fn load(
        &self,
        head: usize,
        n: usize,
        inputs: HostChunkInputs,
        rows: &HeadRows,
        chunk: &mut Chunk,
    ) {
        let (c, l, d) = (self.chunk_length, self.length, self.head_size);
        let total = self.num_hashes * l;
        let sorted = inputs
            .sorted
            .map(|sorted| &sorted[head * total..(head + 1) * total]);
        // The positions of sorted chunk `m`.
        let positions_of = |m: usize, positions: &mut [usize]| match sorted {
            Some(sorted) => {
                for (position, &slot) in positions.iter_mut().zip(&sorted[m * c..]) {
                    *position = slot % l;
                }
            }
            None => {
                for (i, position) in positions.iter_mut().enumerate() {
                    *position = (m * c + i) % l;
                }
            }
        };
        chunk.round = n * c / l;
        positions_of(n, &mut chunk.query_positions);
        let chunks = self.chunks() as isize;
        let offsets = -(self.chunks_before as isize)..=self.chunks_after as isize;
        for (offset, positions) in offsets.zip(chunk.key_positions.chunks_exact_mut(c)) {
            positions_of((n as isize + offset).rem_euclid(chunks) as usize, positions);
        }
        gather(&rows.queries, &chunk.query_positions, d, &mut chunk.queries);
        gather(&rows.keys, &chunk.key_positions, d, &mut chunk.keys);
        gather(&rows.values, &chunk.key_positions, d, &mut chunk.values);
        if let Some(keep) = inputs.keep {
            let keep = &keep[head / self.heads * l..][..l];
            for (padded, &key) in chunk.key_padded.iter_mut().zip(&chunk.key_positions) {
                *padded = !keep[key];
            }
        }
        if let Some(draws) = self.dropout {
            let first = ((head * self.chunks() + n) * c * self.window()) as u64;
            draws.fill(first, &mut chunk.factors);
        }
    }

    /// Whether the causal or padding mask forbids a query/key pair.
    fn forbidden(&self, query: usize, key: usize, key_padded: bool) -> bool {
        key_padded || (self.causal && query < key)
    }

    /// Whether the self mask applies to a query/key pair (shared query/key only).
    fn is_self(&self, query: usize, key: usize) -> bool {
        self.shared_query_key && query == key
    }

    /// The chunk's probabilities `[c, w]` before dropout and log-normalisers `[c]`: the
    /// causal and padding masks set a forbidden pair's score to [`MASK_VALUE`], then the self
    /// mask sets a query's own key's to [`SELF_MASK_VALUE`] (overriding, as the tensor
    /// formulation does).
    fn probabilities(&self, chunk: &Chunk, probs: &mut [f32], lse: &mut [f32]) {
        let (c, w, d) = (self.chunk_length, self.window(), self.head_size);
        let queries = View::rows(&chunk.queries, c, d);
        matmul(
            probs,
            queries,
            View::rows(&chunk.keys, w, d).t(),
            Parallelism::None,
        );
        for (row, &query) in probs.chunks_exact_mut(w).zip(&chunk.query_positions) {
            let keys = chunk.key_positions.iter().zip(&chunk.key_padded);
            for (score, (&key, &padded)) in row.iter_mut().zip(keys) {
                if self.is_self(query, key) {
                    *score = SELF_MASK_VALUE;
                } else if self.forbidden(query, key, padded) {
                    *score = MASK_VALUE;
                }
            }
        }
        softmax_rows(probs, w, lse);
    }

    /// Each round's output and log-normaliser for one head; with `store`, each chunk's
    /// probabilities too, `[chunks, c, w]`.
    fn head_forward(
        &self,
        head: usize,
        inputs: HostChunkInputs,
        rows: &HeadRows,
        mut store: Option<&mut [f32]>,
    ) -> Rounds {
        let (c, w, d, l) = (
            self.chunk_length,
            self.window(),
            self.head_size,
            self.length,
        );
        let mut rounds = Rounds {
            out: vec![0.0; self.num_hashes * l * d],
            lse: vec![0.0; self.num_hashes * l],
        };
        let mut chunk = self.new_chunk();
        let (mut scratch, mut dropped) = (vec![0.0; c * w], vec![0.0; c * w]);
        let (mut lse, mut out) = (vec![0.0; c], vec![0.0; c * d]);
        for n in 0..self.chunks() {
            self.load(head, n, inputs, rows, &mut chunk);
            let probs = match store.as_deref_mut() {
                Some(store) => &mut store[n * c * w..(n + 1) * c * w],
                None => &mut scratch[..],
            };
            self.probabilities(&chunk, probs, &mut lse);
            let weights = apply_factors(probs, &chunk.factors, &mut dropped);
            matmul(
                &mut out,
                View::rows(weights, c, w),
                View::rows(&chunk.values, w, d),
                Parallelism::None,
            );
            let first = chunk.round * l;
            for ((row, lse), &position) in out.chunks_exact(d).zip(&lse).zip(&chunk.query_positions)
            {
                let at = first + position;
                rounds.out[at * d..(at + 1) * d].copy_from_slice(row);
                rounds.lse[at] = *lse;
            }
        }
        rounds
    }

    /// The weight of each round at `position`: `softmax` over the rounds' log-normalisers.
    fn round_weights(&self, lse: &[f32], position: usize, weights: &mut [f32]) {
        let l = self.length;
        let at = |r: usize| lse[r * l + position];
        let max = (0..self.num_hashes)
            .map(at)
            .fold(f32::NEG_INFINITY, f32::max);
        let total = (0..self.num_hashes)
            .map(|r| (at(r) - max).exp())
            .sum::<f32>()
            .ln()
            + max;
        for (r, weight) in weights.iter_mut().enumerate() {
            *weight = (at(r) - total).exp();
        }
    }

    /// `context = Σ_r weight_r · out_r` for one head, `[length, head_size]`.
    fn merge(&self, rounds: &Rounds, context: &mut [f32]) {
        if self.num_hashes == 1 {
            context.copy_from_slice(&rounds.out);
            return;
        }
        let (l, d) = (self.length, self.head_size);
        let mut weights = vec![0.0; self.num_hashes];
        for (position, context) in context.chunks_exact_mut(d).enumerate() {
            self.round_weights(&rounds.lse, position, &mut weights);
            context.fill(0.0);
            for (r, &weight) in weights.iter().enumerate() {
                let out = &rounds.out[(r * l + position) * d..][..d];
                for (x, &o) in context.iter_mut().zip(out) {
                    *x += o * weight;
                }
            }
        }
    }

    /// The gradients for each round's output and log-normaliser, from the context's:
    /// `d out_r = weight_r · d context` and `d lse_r = weight_r · (d context · (out_r − context))`.
    fn merge_backward(
        &self,
        rounds: &Rounds,
        context: &[f32],
        context_grad: &[f32],
    ) -> (Vec<f32>, Vec<f32>) {
        let (l, d) = (self.length, self.head_size);
        if self.num_hashes == 1 {
            return (context_grad.to_vec(), vec![0.0; l]);
        }
        let mut d_out = vec![0.0; rounds.out.len()];
        let mut d_lse = vec![0.0; rounds.lse.len()];
        let mut weights = vec![0.0; self.num_hashes];
        for position in 0..l {
            self.round_weights(&rounds.lse, position, &mut weights);
            let grad = &context_grad[position * d..][..d];
            let along_context = dot(grad, &context[position * d..][..d]);
            for (r, &weight) in weights.iter().enumerate() {
                let at = r * l + position;
                for (x, &g) in d_out[at * d..][..d].iter_mut().zip(grad) {
                    *x = g * weight;
                }
                d_lse[at] = weight * (dot(grad, &rounds.out[at * d..][..d]) - along_context);
            }
        }
        (d_out, d_lse)
    }

    /// One head's query, key and value gradients (`[length, head_size]` each) from each
    /// round's output and log-normaliser gradients, accumulated chunk by chunk:
    /// `dV = Pᵀ·dO`, `dP = dO·Vᵀ`, `dS = P ⊙ (dP − rowsum(P ⊙ dP) + d lse)`, zero where a mask
    /// replaced the score (dropout factors applied to `P` and `dP` alike), `dQ = dS·K`,
    /// `dK = dSᵀ·Q`.
    fn head_backward(
        &self,
        head: usize,
        inputs: HostChunkInputs,
        rows: &HeadRows,
        store: &[f32],
        d_out: &[f32],
        d_lse: &[f32],
    ) -> [Vec<f32>; 3] {
        let [mut dq, mut dk, mut dv] = [(); 3].map(|_| vec![0.0; self.head_len()]);
        let (c, w, d, l) = (
            self.chunk_length,
            self.window(),
            self.head_size,
            self.length,
        );
        let mut chunk = self.new_chunk();
        let (mut dropped, mut lse_grads) = (vec![0.0; c * w], vec![0.0; c]);
        let (mut d_rows, mut d_scores) = (vec![0.0; c * d], vec![0.0; c * w]);
        let (mut d_queries, mut d_window) = (vec![0.0; c * d], vec![0.0; w * d]);
        for n in 0..self.chunks() {
            self.load(head, n, inputs, rows, &mut chunk);
            let probs = &store[n * c * w..(n + 1) * c * w];
            let weights = apply_factors(probs, &chunk.factors, &mut dropped);
            let first = chunk.round * l;
            gather(&d_out[first * d..], &chunk.query_positions, d, &mut d_rows);

            let d_rows_view = View::rows(&d_rows, c, d);
            matmul(
                &mut d_window,
                View::rows(weights, c, w).t(),
                d_rows_view,
                Parallelism::None,
            );
            scatter_add(&mut dv, &chunk.key_positions, d, &d_window);

            matmul(
                &mut d_scores,
                d_rows_view,
                View::rows(&chunk.values, w, d).t(),
                Parallelism::None,
            );
            if !chunk.factors.is_empty() {
                d_scores
                    .iter_mut()
                    .zip(&chunk.factors)
                    .for_each(|(g, f)| *g *= f);
            }
            for (lse_grad, &query) in lse_grads.iter_mut().zip(&chunk.query_positions) {
                *lse_grad = d_lse[first + query];
            }
            softmax_grad_rows(probs, &mut d_scores, w, &lse_grads);
            for (row, &query) in d_scores.chunks_exact_mut(w).zip(&chunk.query_positions) {
                let keys = chunk.key_positions.iter().zip(&chunk.key_padded);
                for (grad, (&key, &padded)) in row.iter_mut().zip(keys) {
                    if self.is_self(query, key) || self.forbidden(query, key, padded) {
                        *grad = 0.0;
                    }
                }
            }

            let d_scores_view = View::rows(&d_scores, c, w);
            matmul(
                &mut d_queries,
                d_scores_view,
                View::rows(&chunk.keys, w, d),
                Parallelism::None,
            );
            scatter_add(&mut dq, &chunk.query_positions, d, &d_queries);
            let queries = View::rows(&chunk.queries, c, d);
            matmul(&mut d_window, d_scores_view.t(), queries, Parallelism::None);
            scatter_add(&mut dk, &chunk.key_positions, d, &d_window);
        }
        [dq, dk, dv]
    }
}

/// `probs` times the dropout `factors` into `scratch`, or `probs` itself without dropout.
fn apply_factors<'a>(probs: &'a [f32], factors: &[f32], scratch: &'a mut [f32]) -> &'a [f32] {
    if factors.is_empty() {
        return probs;
    }
    for ((x, &p), &f) in scratch.iter_mut().zip(probs).zip(factors) {
        *x = p * f;
    }
    scratch
}

/// Row `positions[i]` of `rows` (`[_, d]`) into row `i` of `out`.
fn gather(rows: &[f32], positions: &[usize], d: usize, out: &mut [f32]) {
    for (out, &position) in out.chunks_exact_mut(d).zip(positions) {
        out.copy_from_slice(&rows[position * d..(position + 1) * d]);
    }
}

/// Adds row `i` of `values` to row `positions[i]` of `rows`.
fn scatter_add(rows: &mut [f32], positions: &[usize], d: usize, values: &[f32]) {
    for (values, &position) in values.chunks_exact(d).zip(positions) {
        for (x, &v) in rows[position * d..(position + 1) * d]
            .iter_mut()
            .zip(values)
        {
            *x += v;
        }
    }
}
