//! Choosing the compute device by name.

use burn::tensor::Device;

use crate::error::{ReformerError, Result};

/// The device names this build understands, best first.
pub fn available_devices() -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg!(feature = "flex") {
        names.push("flex");
    }
    if cfg!(feature = "wgpu") {
        names.extend(["wgpu", "wgpu-cpu"]);
    }
    if cfg!(feature = "ndarray") {
        names.push("ndarray");
    }
    names
}

/// Parses a device name: `flex` and `ndarray` (CPU), `wgpu` (the best wgpu adapter: a GPU
/// through Vulkan, Metal or DX12), `wgpu-cpu` (a software adapter such as Mesa's lavapipe).
pub fn parse_device(name: &str) -> Result<Device> {
    let unknown = |reason: String| ReformerError::Device {
        name: name.to_string(),
        reason,
    };
    #[allow(unused_variables)]
    let not_built = || {
        unknown(format!(
            "this build was compiled without it; it provides: {} (enable the cargo feature \
             of the same name to add one)",
            available_devices().join(", ")
        ))
    };
    match name {
        "flex" => {
            #[cfg(feature = "flex")]
            return Ok(Device::flex());
            #[allow(unreachable_code)]
            Err(not_built())
        }
        "ndarray" => {
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            return Ok(Device::ndarray());
            #[allow(unreachable_code)]
            Err(not_built())
        }
        "wgpu" => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
            #[allow(unreachable_code)]
            Err(not_built())
        }
        "wgpu-cpu" => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::Cpu));
            #[allow(unreachable_code)]
            Err(not_built())
        }
        _ => Err(unknown(format!(
            "choose one of: {}",
            available_devices().join(", ")
        ))),
    }
}

/// Whether `device` (with or without autodiff) computes in host memory: flex or ndarray, where
/// reading a tensor back is a copy rather than a transfer and a wait.
pub fn is_host(device: &Device) -> bool {
    let device = device.clone().inner();
    #[cfg(feature = "flex")]
    if device == Device::flex() {
        return true;
    }
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    if device == Device::ndarray() {
        return true;
    }
    false
}

/// The name of the device to use when none is named: `BURN_DEVICE` if set, else the first
/// CPU backend compiled in (flex, then ndarray), else wgpu.
pub fn default_device_name() -> String {
    if let Ok(name) = std::env::var("BURN_DEVICE") {
        return name.to_lowercase();
    }
    available_devices()
        .into_iter()
        .find(|&name| name != "wgpu-cpu")
        .unwrap_or("flex")
        .to_string()
}

/// The device [`default_device_name`] names.
pub fn default_device() -> Result<Device> {
    parse_device(&default_device_name())
}

/// The device `name` names, or [`default_device`] without a name (a `--device` flag).
pub fn named_or_default(name: Option<&str>) -> Result<Device> {
    match name {
        Some(name) => parse_device(name),
        None => default_device(),
    }
}
