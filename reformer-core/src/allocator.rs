//! Keeping freed memory in the process, so tensor buffers are reused instead of page-faulted.
//!
//! glibc's allocator serves large blocks with fresh `mmap`s and hands them back on `free`, so
//! every large tensor a training step creates is faulted in page by page, and trims the top of
//! its heap whenever enough is free. A CPU training step allocates and frees hundreds of
//! sequence-sized tensors: at 4096 tokens this churn took a fifth of the step
//! (`reformer-bench/RESULTS.md`).

/// Tells the C allocator to serve blocks below 32 MiB (its largest setting) from its heaps
/// and never to shrink them, so memory freed by one tensor is reused by the next. Larger
/// blocks still get their own `mmap`, so they cannot fragment the heaps. The process keeps
/// its heap footprint until it exits. Call once at program start, before the first tensor;
/// the `reformer` and `reformer-bench` binaries do. A no-op except on Linux with glibc.
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator parameters; both values are in range.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}
