//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use burn::tensor::{Device, Int, Tensor};
use reformer_core::device::parse_device;
use reformer_core::hf::relative_error;

/// The CPU devices compiled into this test build.
pub fn cpu_devices() -> Vec<(&'static str, Device)> {
    ["flex", "ndarray"]
        .into_iter()
        .filter_map(|name| parse_device(name).ok().map(|device| (name, device)))
        .collect()
}

/// The shipped HuggingFace fixture (`shared/` lies beside the repository).
pub fn public_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/hf-reformer-public")
}

/// Asserts `‖a − b‖ / ‖b‖ <= tolerance`.
#[track_caller]
pub fn assert_close<const D: usize>(
    what: &str,
    ours: &Tensor<D>,
    reference: &Tensor<D>,
    tolerance: f64,
) {
    assert_eq!(ours.dims(), reference.dims(), "{what}: shapes differ");
    let error = relative_error(ours, reference);
    assert!(
        error <= tolerance,
        "{what}: relative error {error:e} exceeds {tolerance:e}"
    );
}

/// A `[d0, d1, d2]` tensor of standard-normal values from `seed`.
pub fn random<const D: usize>(seed: u64, shape: [usize; D], device: &Device) -> Tensor<D> {
    reformer_core::random::standard_normal(seed, shape, device)
}

/// The values of an integer tensor.
pub fn ints<const D: usize>(tensor: &Tensor<D, Int>) -> Vec<i64> {
    tensor
        .to_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap()
}
