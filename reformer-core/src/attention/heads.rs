//! Splitting the projection into heads and merging them back.

use burn::tensor::{Int, Tensor};

/// # Shapes
/// - input: `[batch, length, heads·head_size]`
/// - output: `[batch, heads, length, head_size]`
pub fn split_heads(x: Tensor<3>, heads: usize) -> Tensor<4> {
    let [batch, length, width] = x.dims();
    x.reshape([batch, length, heads, width / heads])
        .swap_dims(1, 2)
}

/// # Shapes
/// - input: `[batch, heads, length, head_size]`
/// - output: `[batch, length, heads·head_size]`
pub fn merge_heads(x: Tensor<4>) -> Tensor<3> {
    let [batch, heads, length, head_size] = x.dims();
    x.swap_dims(1, 2)
        .reshape([batch, length, heads * head_size])
}

/// Scales each vector to unit root-mean-square, then by `1/√head_size`: unit L2 norm.
/// These are the keys of shared-QK attention (`1e-6` guards a zero vector, as in HuggingFace).
///
/// # Shapes
/// - input and output: `[batch, heads, length, head_size]`
pub fn unit_norm_keys(x: Tensor<4>) -> Tensor<4> {
    let head_size = x.dims()[3];
    let inv_rms = (x.clone().square().mean_dim(3) + 1e-6).sqrt().recip();
    x * inv_rms * (head_size as f32).sqrt().recip()
}

/// Row `index[b, h, i]` of `x[b, h]` for every `i`: a gather of whole vectors, done as one
/// `select` over the flattened `batch·heads·length` rows (a row copy, and a row scatter in the
/// backward pass) instead of an element-wise `gather` with an expanded index.
///
/// # Shapes
/// - x: `[batch, heads, length, head_size]`
/// - index: `[batch, heads, rows]`, values in `0..length`
/// - output: `[batch, heads, rows, head_size]`
pub fn gather_rows(x: Tensor<4>, index: Tensor<3, Int>) -> Tensor<4> {
    let [batch, heads, length, head_size] = x.dims();
    let rows = index.dims()[2];
    let device = index.device();
    let offsets =
        Tensor::<1, Int>::arange_step(0..(batch * heads * length) as i64, length, &device)
            .reshape([batch, heads, 1])
            .cast(index.dtype());
    let flat = (index + offsets).reshape([batch * heads * rows]);
    x.reshape([batch * heads * length, head_size])
        .select(0, flat)
        .reshape([batch, heads, rows, head_size])
}
