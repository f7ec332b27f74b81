//! Matrix products over host slices, on `gemm` (the kernel behind flex's own products).

pub use gemm::Parallelism;
use gemm::gemm;

/// A matrix read from a slice with any row and column strides.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> View<'a> {
    /// The first `rows·cols` values of `data` as a row-major `[rows, cols]` matrix.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert!(
            data.len() >= rows * cols,
            "a {rows}x{cols} matrix needs {} values",
            rows * cols
        );
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// A `[rows, cols]` matrix whose row `i` starts at `data[i·row_stride]`.
    pub fn strided(data: &'a [f32], rows: usize, cols: usize, row_stride: usize) -> Self {
        let needed = rows.saturating_sub(1) * row_stride + cols;
        assert!(
            data.len() >= needed,
            "a strided {rows}x{cols} matrix needs {needed} values"
        );
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride: 1,
        }
    }

    /// Number of rows.
    pub fn row_count(&self) -> usize {
        self.rows
    }

    /// The transpose, without moving data.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `out = a·b`, `out` row-major `[a.rows, b.cols]`.
pub fn matmul(out: &mut [f32], a: View, b: View, parallelism: Parallelism) {
    product(out, a, b, false, parallelism);
}

/// `out += a·b`, `out` row-major `[a.rows, b.cols]`.
pub fn matmul_add(out: &mut [f32], a: View, b: View, parallelism: Parallelism) {
    product(out, a, b, true, parallelism);
}

fn product(out: &mut [f32], a: View, b: View, accumulate: bool, parallelism: Parallelism) {
    assert_eq!(a.cols, b.rows, "inner sizes of a matrix product differ");
    assert!(
        out.len() >= a.rows * b.cols,
        "matrix product output too small"
    );
    // SAFETY: `View::rows` and `View::strided` checked that each operand's slice holds every
    // element its shape and strides address (a transpose addresses the same elements), and `out` holds
    // `a.rows · b.cols` values; the three slices cannot alias (`out` is borrowed mutably).
    unsafe {
        gemm(
            a.rows,
            b.cols,
            a.cols,
            out.as_mut_ptr(),
            1,
            b.cols as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
