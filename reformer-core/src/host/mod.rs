//! Kernels over host memory for the CPU backends (flex, ndarray).
//!
//! Where a tensor formulation runs many small operations, each a pass over memory (and most
//! of them on one thread in Burn's CPU backends), these do the same computation in a few
//! passes over row blocks, with their backward derived by hand. The tensor formulations stay:
//! they run on the other devices and under autodiff, and the tests hold the kernels to them.

mod feed_forward;
mod hashing;
mod lsh_attention;
mod matmul;
mod softmax;

pub use feed_forward::{HostFeedForward, HostFeedForwardGrads};
pub use hashing::HostHashing;
pub use lsh_attention::{HostLsh, HostLshGrads, HostLshInputs};

use burn::tensor::{Device, Tensor, TensorData};

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
