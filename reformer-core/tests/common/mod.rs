//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use burn::tensor::{Device, Int, Tensor};
use reformer_core::device::parse_device;
use reformer_core::hf::relative_error;

/// The devices every model test runs on: the CPU backends compiled in, and wgpu on the
/// adapter `REFORMER_TEST_WGPU` names: `wgpu-cpu` (a software adapter such as Mesa's
/// lavapipe, which `.ci/run` installs) by default, `wgpu` for the machine's GPU, `none` to
/// leave wgpu out.
pub fn test_devices() -> Vec<(&'static str, Device)> {
    let wgpu = std::env::var("REFORMER_TEST_WGPU").unwrap_or_else(|_| "wgpu-cpu".into());
    let wgpu: &'static str = match wgpu.as_str() {
        "none" => "none",
        "wgpu" => "wgpu",
        _ => "wgpu-cpu",
    };
    ["flex", "ndarray", wgpu]
        .into_iter()
        .filter(|&name| {
            name != "none" && reformer_core::device::available_devices().contains(&name)
        })
        .map(|name| (name, parse_device(name).expect("a compiled-in device")))
        .collect()
}

/// Whether `name` is a GPU-style device, whose f32 reductions run in another order (and
/// whose `exp` is a hardware approximation) than the CPU backends'.
pub fn is_gpu(name: &str) -> bool {
    name.starts_with("wgpu")
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
