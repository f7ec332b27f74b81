//! One training step: the loss and the gradient of every parameter, by reversible
//! recomputation (the default) or by plain autodiff.
//!
//! The reversible path follows `shared/DESIGN.md` §4 (RevNet; trax's `reverse_and_grad`): the
//! layers run without a graph, keeping only the last two streams and each layer's buckets;
//! the backward pass then walks the layers from the last, recomputing each layer's inputs from
//! its outputs and differentiating one sub-block at a time. Activations of one layer are alive
//! at any moment, whatever the depth.

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Int, Tensor};

use crate::error::Result;
use crate::grads::{grad_of, inner_product, leaf};
use crate::model::{LayerStack, PreparedInput, ReformerLm};
use crate::randomness::Randomness;

/// The result of one training step.
#[derive(Debug)]
pub struct TrainStep {
    /// The loss, `[1]`, detached from any graph.
    pub loss: Tensor<1>,
    /// The gradient of the loss for every parameter, ready for `ModuleOptimizer::step`.
    pub grads: GradientsParams,
}

impl ReformerLm {
    /// Computes the loss of `labels` (causal LM, -100 ignored) and every parameter's gradient.
    ///
    /// The model's parameters must live on an autodiff device (`device.autodiff()`). With
    /// `reversible`, layer activations are recomputed from the outputs in the backward pass
    /// instead of being stored; without it, Burn's autodiff differentiates the whole forward
    /// pass. Both give the same gradients to float rounding, since the recomputation replays
    /// the forward pass's buckets and dropout masks.
    ///
    /// # Shapes
    /// - input_ids, labels: `[batch, length]`
    /// - attention_mask: `[batch, length]`, 1 for tokens, 0 for padding
    pub fn train_step(
        &self,
        input_ids: Tensor<2, Int>,
        attention_mask: Option<&Tensor<2, Int>>,
        labels: Tensor<2, Int>,
        randomness: &Randomness,
        reversible: bool,
    ) -> Result<TrainStep> {
        if !reversible {
            let output = self.forward(input_ids, attention_mask, randomness)?;
            let loss = self.loss(output.hidden, labels)?;
            let grads = GradientsParams::from_grads(loss.backward(), self);
            return Ok(TrainStep {
                loss: loss.detach().without_autodiff(),
                grads,
            });
        }
        let input = self.prepare(input_ids, attention_mask)?;
        self.reversible_step(&input, labels, randomness)
    }

    fn reversible_step(
        &self,
        input: &PreparedInput,
        labels: Tensor<2, Int>,
        randomness: &Randomness,
    ) -> Result<TrainStep> {
        let device = input.input_ids.device();

        // 1. Forward without a graph, keeping the last streams and every layer's buckets.
        let LayerStack {
            mut y1,
            mut y2,
            buckets: mut hashings,
        } = self.valid().run_layers(input, randomness);

        // 2. Head and loss from fresh leaves.
        let mut accumulator = GradientsAccumulator::<ReformerLm>::new();
        let (l1, l2) = (leaf(y1.clone()), leaf(y2.clone()));
        let loss = self.loss(self.finish(l1.clone(), l2.clone(), randomness), labels)?;
        let mut grads = loss.backward();
        let (mut dy1, mut dy2) = (grad_of(&l1, &grads).inner(), grad_of(&l2, &grads).inner());
        let part = GradientsParams::from_module(&mut grads, self);
        accumulator.accumulate(self, part);

        // 3. Layers from the last: recompute inputs from outputs, one sub-block at a time.
        for (index, layer) in self.layers.iter().enumerate().rev() {
            let seed = randomness.dropout_seed(index);

            // y2 = x2 + G(y1)
            let g = layer
                .feed_forward
                .forward_with_grads(y1.clone(), dy2.clone(), seed);
            let dx1 = dy1 + g.input_grad;
            accumulator.accumulate(self, g.params);
            let x2 = y2 - g.output;

            // y1 = x1 + F(x2), with the forward pass's buckets.
            let hashing = self.replay_hashing(index, hashings[index].take(), randomness, &device);
            let f = layer.attention.forward_with_grads(
                x2.clone(),
                dx1.clone(),
                input.keep.clone(),
                hashing,
                seed,
            );
            let dx2 = dy2 + f.input_grad;
            accumulator.accumulate(self, f.params);
            let x1 = y1 - f.output;

            (y1, y2, dy1, dy2) = (x1, x2, dx1, dx2);
        }

        // 4. Both streams started as the embeddings.
        let embedded = self.embed(input, randomness);
        let mut grads = inner_product(embedded, dy1 + dy2).backward();
        let part = GradientsParams::from_module(&mut grads, &self.embeddings);
        accumulator.accumulate(self, part);

        Ok(TrainStep {
            loss: loss.detach().inner(),
            grads: accumulator.grads(),
        })
    }
}
