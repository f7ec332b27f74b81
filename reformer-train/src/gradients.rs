//! Whole-model gradient operations the optimizer does not do: the global norm, and scaling
//! (averaging accumulated micro-batches, global-norm clipping).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = grad.powi_scalar(2).sum();
            self.sum = Some(match self.sum.take() {
                Some(sum) => sum + squares,
                None => squares,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f32,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad * self.factor);
        }
    }
}

/// The L2 norm of all of `module`'s gradients together.
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> f32 {
    let mut visitor = SquaredNorm { grads, sum: None };
    module.visit(&mut visitor);
    visitor
        .sum
        .map_or(0.0, |sum| sum.into_scalar::<f32>().sqrt())
}

/// Multiplies every gradient of `module` by `factor`.
pub fn scale<M: Module>(module: &M, grads: &mut GradientsParams, factor: f32) {
    if factor != 1.0 {
        module.visit(&mut Scale { grads, factor });
    }
}

/// The factor that brings a global norm of `norm` down to `max_norm` (1 when it is below).
pub fn clip_factor(norm: f32, max_norm: Option<f32>) -> f32 {
    match max_norm {
        Some(max) if norm > max => max / norm,
        _ => 1.0,
    }
}
