//! Fresh autodiff leaves, and reading gradients out by parameter for comparisons and reports.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// A sub-block's output at one input and the gradients of `Σ output · output_grad`: one step
/// of the reversible backward.
#[derive(Debug)]
pub struct BlockGradients {
    /// `[batch, length, hidden]`, without autodiff.
    pub output: Tensor<3>,
    /// The gradient for the input, `[batch, length, hidden]`, without autodiff.
    pub input_grad: Tensor<3>,
    /// The gradients of the sub-block's parameters.
    pub params: GradientsParams,
}

/// A float tensor as a fresh leaf of an autodiff graph.
pub(crate) fn leaf<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.detach().autodiff().require_grad()
}

/// `Σ x ⊙ grad`: an objective whose gradient for `x`, and through `x` for whatever it was
/// computed from, is `grad`.
pub(crate) fn inner_product<const D: usize>(x: Tensor<D>, grad: Tensor<D>) -> Tensor<1> {
    (x * grad.autodiff()).sum()
}

/// The gradient of `x`'s leaf, which every leaf that reaches the objective has.
pub(crate) fn grad_of<const D: usize>(x: &Tensor<D>, grads: &burn::tensor::Gradients) -> Tensor<D> {
    x.grad(grads).expect("the leaf reaches the objective")
}

/// A parameter's path in the module (`layers.0.attention.output.weight`) and flattened values.
#[derive(Debug, Clone)]
pub struct NamedValues {
    /// Dotted path of the parameter.
    pub path: String,
    /// Row-major values; `None` where a gradient was asked for and there is none.
    pub values: Option<Vec<f32>>,
}

struct Collector<'a> {
    path: Vec<String>,
    grads: Option<&'a GradientsParams>,
    out: Vec<NamedValues>,
}

fn flatten<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .to_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float data")
}

impl ModuleVisitor for Collector<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = match self.grads {
            Some(grads) => grads.get::<D>(param.id).map(flatten),
            None => Some(flatten(param.val())),
        };
        self.out.push(NamedValues {
            path: self.path.join("."),
            values,
        });
    }
}

/// Every float parameter's gradient in `grads`, in the module's order.
pub fn named_grads<M: Module>(module: &M, grads: &GradientsParams) -> Vec<NamedValues> {
    let mut collector = Collector {
        path: Vec::new(),
        grads: Some(grads),
        out: Vec::new(),
    };
    module.visit(&mut collector);
    collector.out
}

/// Every float parameter's value, in the module's order.
pub fn named_params<M: Module>(module: &M) -> Vec<NamedValues> {
    let mut collector = Collector {
        path: Vec::new(),
        grads: None,
        out: Vec::new(),
    };
    module.visit(&mut collector);
    collector.out
}

/// `‖a − b‖ / ‖b‖` of two flattened tensors (`‖a − b‖` when `b` is zero).
pub fn relative_error_of(ours: &[f32], reference: &[f32]) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (x, y) in ours.iter().zip(reference) {
        diff += (*x as f64 - *y as f64).powi(2);
        norm += (*y as f64).powi(2);
    }
    if norm == 0.0 {
        diff.sqrt()
    } else {
        (diff / norm).sqrt()
    }
}
