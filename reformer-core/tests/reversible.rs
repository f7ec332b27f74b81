//! The reversible backward against plain autodiff, finite differences and HuggingFace.

mod common;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{assert_close, public_fixture, random, test_devices};
use reformer_core::grads::{named_grads, relative_error_of};
use reformer_core::hf::HfFixture;
use reformer_core::{
    Activation, AttentionKind, NumBuckets, Randomness, ReformerConfig, ReformerLm,
};

/// Reversible and plain gradients differ only by the float rounding of `x = y − F(...)`.
const GRAD_TOLERANCE: f64 = 1e-4;

fn mixed_config(dropout: f64) -> ReformerConfig {
    ReformerConfig {
        vocab_size: 20,
        hidden_size: 16,
        num_attention_heads: 2,
        attention_head_size: 8,
        feed_forward_size: 24,
        attn_layers: vec![
            AttentionKind::Lsh,
            AttentionKind::Local,
            AttentionKind::Full,
            AttentionKind::Lsh,
        ],
        num_hashes: 2,
        num_buckets: Some(NumBuckets::Factorized(vec![2, 2])),
        lsh_attn_chunk_length: 8,
        local_attn_chunk_length: 8,
        is_decoder: true,
        axial_pos_shape: vec![4, 8],
        axial_pos_embds_dim: vec![4, 12],
        hidden_dropout_prob: dropout,
        lsh_attention_probs_dropout_prob: dropout,
        local_attention_probs_dropout_prob: dropout,
        chunk_size_feed_forward: 8,
        chunk_size_lm_head: 12,
        initializer_range: 0.2,
        ..ReformerConfig::default()
    }
}

fn tokens(seed: u64, batch: usize, length: usize, vocab: usize, device: &Device) -> Tensor<2, Int> {
    let values: Vec<i64> = (0..batch * length)
        .map(|i| ((i as u64 * 7 + seed * 13 + (i as u64 * i as u64) % 5) % vocab as u64) as i64)
        .collect();
    Tensor::from_data(TensorData::new(values, [batch, length]), device)
}

#[test]
fn reversible_gradients_equal_plain_autodiff_with_dropout() {
    for (name, device) in test_devices() {
        let device = device.autodiff();
        device.seed(11);
        let model = ReformerLm::new(&mixed_config(0.1), &device).unwrap();
        let ids = tokens(1, 2, 32, 20, &device);
        let mask_values: Vec<i64> = (0..64).map(|i| i64::from(i < 32 || i % 32 < 29)).collect();
        let mask = Tensor::<2, Int>::from_data(TensorData::new(mask_values, [2, 32]), &device);
        let randomness = Randomness::train(5);
        let step = |reversible| {
            model
                .train_step(
                    ids.clone(),
                    Some(&mask),
                    ids.clone(),
                    &randomness,
                    reversible,
                )
                .unwrap()
        };
        let (reversible, plain) = (step(true), step(false));
        assert_close(&format!("{name} loss"), &reversible.loss, &plain.loss, 1e-6);

        let ours = named_grads(&model, &reversible.grads);
        let reference = named_grads(&model, &plain.grads);
        assert_eq!(ours.len(), reference.len());
        for (ours, reference) in ours.iter().zip(&reference) {
            let reference = reference.values.as_ref().unwrap_or_else(|| {
                panic!(
                    "{name}: plain autodiff gives {} no gradient",
                    reference.path
                )
            });
            let values = ours.values.as_ref().unwrap_or_else(|| {
                panic!(
                    "{name}: the reversible step gives {} no gradient",
                    ours.path
                )
            });
            let error = relative_error_of(values, reference);
            assert!(error <= GRAD_TOLERANCE, "{name} {}: {error:e}", ours.path);
        }
    }
}

#[test]
fn dropout_changes_the_loss_and_replays_with_the_same_seed() {
    let device = test_devices()[0].1.clone();
    device.seed(3);
    let model = ReformerLm::new(&mixed_config(0.3), &device).unwrap();
    let ids = tokens(2, 1, 32, 20, &device);
    let loss = |randomness: &Randomness| {
        let output = model.forward(ids.clone(), None, randomness).unwrap();
        model
            .loss(output.hidden, ids.clone())
            .unwrap()
            .into_scalar::<f32>()
    };
    let (a, b, c) = (
        loss(&Randomness::train(1)),
        loss(&Randomness::train(1)),
        loss(&Randomness::train(2)),
    );
    assert_eq!(a, b, "the same seed replays the same masks");
    assert_ne!(a, c, "another seed draws other masks");
    assert_ne!(a, loss(&Randomness::eval(1)), "evaluation has no dropout");
}

#[test]
fn layer_inputs_are_recovered_from_outputs() {
    for (name, device) in test_devices() {
        device.seed(4);
        let model = ReformerLm::new(&mixed_config(0.1), &device).unwrap();
        let randomness = Randomness::train(9);
        for (index, layer) in model.layers.iter().enumerate() {
            let x1 = random(20 + index as u64, [2, 32, 16], &device);
            let x2 = random(40 + index as u64, [2, 32, 16], &device);
            let seed = randomness.dropout_seed(index);
            let out = layer.forward(
                x1.clone(),
                x2.clone(),
                None,
                model.hashing(index, &randomness, &device),
                seed,
            );
            let x2_back = out.y2 - layer.feed_forward.forward(out.y1.clone(), seed);
            let hashing = model.replay_hashing(index, out.buckets, &randomness, &device);
            let attention = layer
                .attention
                .forward(x2_back.clone(), None, hashing, seed);
            let x1_back = out.y1 - attention.hidden;
            assert_close(&format!("{name} layer {index} x2"), &x2_back, &x2, 1e-5);
            assert_close(&format!("{name} layer {index} x1"), &x1_back, &x1, 1e-5);
        }
    }
}

#[test]
fn gradients_match_huggingface() {
    let fixture = HfFixture::open(public_fixture()).unwrap();
    for (name, device) in test_devices() {
        for reversible in [true, false] {
            let errors = fixture.check_grads(&device, reversible).unwrap();
            let (path, worst) = &errors[0];
            assert!(
                *worst <= GRAD_TOLERANCE,
                "{name} reversible={reversible}: {path} has relative error {worst:e}"
            );
        }
    }
}

/// Adds `delta` to element `index` of the parameter `id`.
struct Nudge {
    id: ParamId,
    index: usize,
    delta: f32,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if param.id != self.id {
            return param;
        }
        let (index, delta) = (self.index, self.delta);
        param.map(move |tensor| {
            let shape = tensor.shape();
            let device = tensor.device();
            let mut values = tensor
                .to_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap();
            values[index] += delta;
            Tensor::from_data(TensorData::new(values, shape), &device)
        })
    }
}

struct Ids(Vec<ParamId>);

impl burn::module::ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.id);
    }
}

/// Central differences on a tiny float32 model. The LSH layer's window covers the whole
/// sequence, so its output does not depend on the buckets and a nudge cannot flip one.
///
/// Tolerance: with ε = 1e-2 the truncation error ε²·|f'''|/6 is below 1e-4 for this smooth,
/// O(1) loss, and float32 rounding of the loss (a few ulps of ~3, i.e. ~1e-6) contributes
/// ~1e-6 / 2ε = 5e-5; 5e-4 absolute plus 1% relative leaves a margin over both.
#[test]
fn gradients_match_central_finite_differences() {
    let device = test_devices()[0].1.clone().autodiff();
    let config = ReformerConfig {
        vocab_size: 12,
        hidden_size: 8,
        num_attention_heads: 2,
        attention_head_size: 4,
        feed_forward_size: 12,
        // Smooth: a ReLU kink between θ−ε and θ+ε would spoil the difference quotient.
        hidden_act: Activation::Gelu,
        attn_layers: vec![AttentionKind::Lsh, AttentionKind::Local],
        num_hashes: 1,
        num_buckets: Some(NumBuckets::Single(4)),
        lsh_attn_chunk_length: 4,
        lsh_num_chunks_before: 3,
        local_attn_chunk_length: 4,
        is_decoder: true,
        axial_pos_shape: vec![4, 4],
        axial_pos_embds_dim: vec![4, 4],
        hidden_dropout_prob: 0.0,
        local_attention_probs_dropout_prob: 0.0,
        initializer_range: 0.5,
        ..ReformerConfig::default()
    };
    device.seed(21);
    let model = ReformerLm::new(&config, &device).unwrap();
    let ids = tokens(3, 2, 16, 12, &device);
    let randomness = Randomness::eval(2);
    let step = model
        .train_step(ids.clone(), None, ids.clone(), &randomness, true)
        .unwrap();
    let grads = named_grads(&model, &step.grads);
    let mut ids_visitor = Ids(Vec::new());
    model.visit(&mut ids_visitor);

    let eps = 1e-2f32;
    let plain = model.valid();
    let loss_of = |model: &ReformerLm| {
        let output = model
            .forward(ids.clone().inner(), None, &randomness)
            .unwrap();
        model
            .loss(output.hidden, ids.clone().inner())
            .unwrap()
            .into_scalar::<f32>() as f64
    };
    for (grad, id) in grads.iter().zip(ids_visitor.0) {
        if grad.path.starts_with("lm_head.bias") {
            continue;
        }
        let values = grad
            .values
            .as_ref()
            .expect("every parameter has a gradient");
        // The entry with the largest gradient, where a wrong sign or scale shows most.
        let (index, &analytic) = values
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap();
        let nudged = |delta| plain.clone().map(&mut Nudge { id, index, delta });
        let numeric = (loss_of(&nudged(eps)) - loss_of(&nudged(-eps))) / (2.0 * eps as f64);
        let error = (numeric - analytic as f64).abs();
        assert!(
            error <= 5e-4 + 1e-2 * numeric.abs(),
            "{}[{index}]: analytic {analytic:e}, numeric {numeric:e}",
            grad.path
        );
    }
}
