//! The attention half of a Reformer layer: layer norm, self-attention, output projection.

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::optim::GradientsParams;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::full::FullSelfAttention;
use super::local::{LocalSelfAttention, LocalSettings};
use super::lsh::{Hashing, LshSelfAttention, LshSettings};
use crate::config::{AttentionKind, ReformerConfig};
use crate::device::is_host;
use crate::dropout::seeded_dropout;
use crate::grads::{BlockGradients, grad_of, inner_product, leaf};
use crate::init::normal_linear;
use crate::random::{Site, site_seed};

/// One of the attention kinds a layer can use.
#[derive(Module, Debug)]
pub enum SelfAttention {
    /// LSH attention.
    Lsh(LshSelfAttention),
    /// Local (chunked) attention.
    Local(LocalSelfAttention),
    /// Full shared-QK attention.
    Full(FullSelfAttention),
}

/// `Attn(x) = dropout(W_o · SelfAttention(LayerNorm(x)))`, the function `F` of the reversible
/// layer `y1 = x1 + F(x2)`.
#[derive(Module, Debug)]
pub struct AttentionBlock {
    /// Layer norm of the input.
    pub layer_norm: LayerNorm,
    /// The attention itself.
    pub self_attention: SelfAttention,
    /// Output projection `heads·head_size -> hidden`, no bias.
    pub output: Linear,
    /// Dropout after the output projection.
    pub dropout: f64,
}

/// What an attention block produced.
#[derive(Debug, Clone)]
pub struct AttentionOutput {
    /// `[batch, length, hidden]`
    pub hidden: Tensor<3>,
    /// The LSH buckets used, `[batch, heads, num_hashes, length]`, if any.
    pub buckets: Option<Tensor<4, Int>>,
}

impl AttentionBlock {
    /// Creates the block of kind `kind` as `config` describes it.
    pub fn new(config: &ReformerConfig, kind: AttentionKind, device: &Device) -> Self {
        let hidden = config.hidden_size;
        let heads = config.num_attention_heads;
        let head_size = config.attention_head_size;
        let std = config.initializer_range;
        let self_attention = match kind {
            AttentionKind::Lsh => SelfAttention::Lsh(LshSelfAttention::new(
                hidden,
                head_size,
                LshSettings {
                    heads,
                    num_hashes: config.num_hashes,
                    buckets: config.resolved_num_buckets(),
                    chunk_length: config.lsh_attn_chunk_length,
                    chunks_before: config.lsh_num_chunks_before,
                    chunks_after: config.lsh_num_chunks_after,
                    causal: config.is_decoder,
                    dropout: config.lsh_attention_probs_dropout_prob,
                },
                std,
                device,
            )),
            AttentionKind::Local => SelfAttention::Local(LocalSelfAttention::new(
                hidden,
                head_size,
                LocalSettings {
                    heads,
                    chunk_length: config.local_attn_chunk_length,
                    chunks_before: config.local_num_chunks_before,
                    chunks_after: config.local_num_chunks_after,
                    causal: config.is_decoder,
                    dropout: config.local_attention_probs_dropout_prob,
                },
                std,
                device,
            )),
            AttentionKind::Full => SelfAttention::Full(FullSelfAttention::new(
                hidden,
                heads,
                head_size,
                config.is_decoder,
                config.local_attention_probs_dropout_prob,
                std,
                device,
            )),
        };
        Self {
            layer_norm: LayerNormConfig::new(hidden)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            self_attention,
            output: normal_linear(heads * head_size, hidden, false, std, device),
            dropout: config.hidden_dropout_prob,
        }
    }

    /// # Shapes
    /// - input: `[batch, length, hidden]`
    /// - keep: `[batch, length]`, false at padding
    /// - hashing: used by LSH layers only
    pub fn forward(
        &self,
        input: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        hashing: Option<Hashing>,
        layer_seed: Option<u64>,
    ) -> AttentionOutput {
        let normed = self.layer_norm.forward(input);
        let probs_seed = layer_seed.map(|seed| site_seed(seed, Site::AttentionProbs, 0));
        let (context, buckets) = match &self.self_attention {
            SelfAttention::Lsh(lsh) => {
                let hashing = hashing.expect("an LSH layer needs rotations or buckets");
                let out = lsh.forward(normed, keep, hashing, probs_seed);
                (out.context, out.buckets)
            }
            SelfAttention::Local(local) => (local.forward(normed, keep, probs_seed), None),
            SelfAttention::Full(full) => (full.forward(normed, keep, probs_seed), None),
        };
        AttentionOutput {
            hidden: self.project_output(context, layer_seed),
            buckets,
        }
    }

    /// The output at `input` and the gradients of `Σ output · output_grad` for the input and
    /// the parameters: the reversible backward's step through `F`.
    ///
    /// On a CPU backend, an LSH layer replaying its buckets and a local layer differentiate
    /// their attention with the host kernel ([`LshSelfAttention::forward_with_grads`],
    /// [`LocalSelfAttention::forward_with_grads`]), which keeps no autodiff graph of the
    /// scores; everything else goes through autodiff.
    ///
    /// # Shapes
    /// - input, output_grad: `[batch, length, hidden]`, without autodiff
    /// - keep: `[batch, length]`, false at padding
    pub fn forward_with_grads(
        &self,
        input: Tensor<3>,
        output_grad: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        hashing: Option<Hashing>,
        layer_seed: Option<u64>,
    ) -> BlockGradients {
        let input = leaf(input);
        let on_host = is_host(&input.device());
        let (output, attention_objective) = match (&self.self_attention, hashing) {
            (SelfAttention::Lsh(lsh), Some(Hashing::Buckets(buckets)))
                if on_host && input.dims()[1] > lsh.settings.chunk_length =>
            {
                self.attend_on_host(&input, &output_grad, layer_seed, |normed, grad, seed| {
                    lsh.forward_with_grads(normed, grad, keep, buckets, seed)
                })
            }
            (SelfAttention::Local(local), _) if on_host => {
                self.attend_on_host(&input, &output_grad, layer_seed, |normed, grad, seed| {
                    local.forward_with_grads(normed, grad, keep, seed)
                })
            }
            (_, hashing) => {
                let output = self
                    .forward(input.clone(), keep, hashing, layer_seed)
                    .hidden;
                (output, None)
            }
        };
        let mut objective = inner_product(output.clone(), output_grad);
        if let Some(attention_objective) = attention_objective {
            objective = objective + attention_objective;
        }
        let mut grads = objective.backward();
        BlockGradients {
            output: output.detach().inner(),
            input_grad: grad_of(&input, &grads).inner(),
            params: GradientsParams::from_module(&mut grads, self),
        }
    }

    /// The output of the block whose attention `attend` computes on the host kernel (from the
    /// normalised input, the context's gradient and the dropout seed, giving the context and
    /// its objective), and that objective.
    fn attend_on_host(
        &self,
        input: &Tensor<3>,
        output_grad: &Tensor<3>,
        layer_seed: Option<u64>,
        attend: impl FnOnce(Tensor<3>, Tensor<3>, Option<u64>) -> (Tensor<3>, Tensor<1>),
    ) -> (Tensor<3>, Option<Tensor<1>>) {
        let normed = self.layer_norm.forward(input.clone());
        let probs_seed = layer_seed.map(|seed| site_seed(seed, Site::AttentionProbs, 0));
        let context_grad = self.context_grad(output_grad.clone(), layer_seed);
        let (context, objective) = attend(normed, context_grad, probs_seed);
        let output = self.project_output(context.autodiff(), layer_seed);
        (output, Some(objective))
    }

    /// `dropout(W_o · context)`.
    ///
    /// # Shapes
    /// - context: `[batch, length, heads·head_size]`
    /// - output: `[batch, length, hidden]`
    fn project_output(&self, context: Tensor<3>, layer_seed: Option<u64>) -> Tensor<3> {
        let output_seed = layer_seed.map(|seed| site_seed(seed, Site::AttentionOutput, 0));
        seeded_dropout(self.output.forward(context), self.dropout, output_seed)
    }

    /// The gradient for the context of `Σ project_output(context) · output_grad`, which does
    /// not depend on the context (the projection is affine): `dropout(output_grad) · W_oᵀ`,
    /// with the same dropout draws.
    ///
    /// # Shapes
    /// - output_grad: `[batch, length, hidden]`
    /// - output: `[batch, length, heads·head_size]`
    fn context_grad(&self, output_grad: Tensor<3>, layer_seed: Option<u64>) -> Tensor<3> {
        let output_seed = layer_seed.map(|seed| site_seed(seed, Site::AttentionOutput, 0));
        let weight = self.output.weight.val().detach().inner();
        seeded_dropout(output_grad, self.dropout, output_seed)
            .matmul(weight.transpose().unsqueeze::<3>())
    }
}
