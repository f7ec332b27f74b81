//! Kernels over host memory for the CPU backends (flex, ndarray).
//!
//! Where a tensor formulation runs many small operations, each a pass over memory (and most
//! of them on one thread in Burn's CPU backends), these do the same computation in a few
//! passes over row blocks, with their backward derived by hand. The tensor formulations stay:
//! they run on the other devices and under autodiff, and the tests hold the kernels to them.

mod chunk_attention;
mod feed_forward;
mod hashing;
mod matmul;
mod softmax;

pub use chunk_attention::{HostChunkAttention, HostChunkGrads, HostChunkInputs};
pub use feed_forward::{HostFeedForward, HostFeedForwardGrads};
pub use hashing::HostHashing;

use burn::tensor::{Bool, Device, Tensor, TensorData};

/// A float tensor's values in row-major order, as `f32`.
pub fn host_values<const D: usize>(x: Tensor<D>) -> Vec<f32> {
    x.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float values")
}

/// Row-major `values` as a tensor of `shape` on `device`.
pub fn upload<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// A boolean tensor's values in row-major order.
pub fn host_bools<const D: usize>(x: Tensor<D, Bool>) -> Vec<bool> {
    x.int().into_data().iter::<i64>().map(|k| k != 0).collect()
}

/// A chunked attention layer's projections and masks, read into host memory for
/// [`HostChunkAttention`].
#[derive(Debug)]
pub struct HostProjections {
    /// Of each projection: `[batch, length, heads·head_size]`.
    pub shape: [usize; 3],
    /// Where the results go back to.
    pub device: Device,
    /// The query projection (LSH: the shared query/key).
    pub queries: Vec<f32>,
    /// The key projection, unless shared with the queries.
    pub keys: Option<Vec<f32>>,
    /// The value projection.
    pub values: Vec<f32>,
    /// LSH's sorted order, `[batch, heads, num_hashes·length]`; `None` for position order.
    pub sorted: Option<Vec<usize>>,
    /// `[batch, length]`, false at padding.
    pub keep: Option<Vec<bool>>,
}

impl HostProjections {
    /// Reads the projections (each `[batch, length, heads·head_size]`, without autodiff) and
    /// the padding mask into host memory, in position order (`sorted` is left for the caller).
    pub fn new(
        queries: Tensor<3>,
        keys: Option<Tensor<3>>,
        values: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
    ) -> Self {
        Self {
            shape: queries.dims(),
            device: queries.device(),
            queries: host_values(queries),
            keys: keys.map(host_values),
            values: host_values(values),
            sorted: None,
            keep: keep.map(host_bools),
        }
    }

    /// The kernel's view of these values.
    pub fn inputs(&self) -> HostChunkInputs<'_> {
        HostChunkInputs {
            queries: &self.queries,
            keys: self.keys.as_deref(),
            values: &self.values,
            sorted: self.sorted.as_deref(),
            keep: self.keep.as_deref(),
        }
    }

    /// `[batch, length, heads·head_size]` values as a tensor on the projections' device.
    pub fn upload(&self, values: Vec<f32>) -> Tensor<3> {
        upload(values, self.shape, &self.device)
    }
}
