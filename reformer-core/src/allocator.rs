//! Keeping freed memory in the process, so tensor buffers are reused instead of page-faulted.
//!
//! glibc's allocator serves large blocks with fresh `mmap`s and hands them back on `free`, so
//! every large tensor a training step creates is faulted in page by page (and its unmapping
//! flushes other cores' TLBs), and it trims the top of its heap whenever enough is free. A CPU
//! training step allocates and frees hundreds of sequence-sized tensors: at 4096 tokens this
//! churn took a fifth of the step, at 65536 tokens a third (`reformer-bench/RESULTS.md`).

/// Tells the C allocator to serve every block from its heaps, never from a block's own
/// `mmap`, and never to shrink the heaps, so memory freed by one tensor is reused by the
/// next. The cost is some fragmentation: a 65536-token training step of the reference model
/// peaks about 13% higher than with 32 MiB blocks and up on their own mappings, and runs a
/// third faster. The process keeps its heap footprint until it exits. Call once at program
/// start, before the first tensor; the `reformer` and `reformer-bench` binaries do. A no-op
/// except on Linux with glibc.
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator parameters; both values are in range. Without
    // `mmap`, glibc still falls back to it when the heap cannot grow.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}
