//! On the CPU backends LSH attention and the feed-forward run as host kernels with derived
//! backwards; they must compute what the tensor formulations (the path on other devices, and
//! under autodiff) compute, forward and backward, over every setting that changes them.

mod common;

use burn::module::Module;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use common::{assert_close, random};
use reformer_core::attention::{
    Hashing, LocalSelfAttention, LocalSettings, LshSelfAttention, LshSettings, draw_rotations,
};
use reformer_core::device::{is_host, parse_device};
use reformer_core::feed_forward::ChunkedFeedForward;
use reformer_core::{Activation, NumBuckets, ReformerConfig};

const BATCH: usize = 2;
const LENGTH: usize = 48;
const HIDDEN: usize = 12;
const HEADS: usize = 3;
const HEAD_SIZE: usize = 8;

/// Float32 sums in another order; outputs and gradients are O(1).
const TOLERANCE: f64 = 1e-5;

fn host_devices() -> Vec<(&'static str, Device)> {
    ["flex", "ndarray"]
        .into_iter()
        .filter(|name| reformer_core::device::available_devices().contains(name))
        .map(|name| (name, parse_device(name).unwrap()))
        .inspect(|(_, device)| assert!(is_host(device)))
        .collect()
}

/// Row 0 has its last five tokens padded.
fn keep_mask(device: &Device) -> Tensor<2, Bool> {
    let values: Vec<bool> = (0..BATCH * LENGTH)
        .map(|i| !(LENGTH - 5..LENGTH).contains(&i))
        .collect();
    Tensor::from_data(TensorData::new(values, [BATCH, LENGTH]), device)
}

/// (rounds, chunks before, chunks after, causal, padding, dropout)
const CASES: [(usize, usize, usize, bool, bool, f64); 6] = [
    (1, 1, 0, true, false, 0.0),
    (2, 1, 0, true, true, 0.0),
    (3, 0, 1, false, true, 0.0),
    (2, 2, 1, false, false, 0.3),
    (4, 1, 0, true, true, 0.2),
    (2, 0, 0, true, true, 0.0),
];

#[test]
fn host_kernel_equals_the_tensor_formulation_forward_and_backward() {
    for (name, device) in host_devices() {
        let autodiff = device.clone().autodiff();
        for (case, &(rounds, before, after, causal, padding, dropout)) in CASES.iter().enumerate() {
            let what = format!("{name} case {case}");
            let settings = LshSettings {
                heads: HEADS,
                num_hashes: rounds,
                buckets: if case % 2 == 0 {
                    NumBuckets::Single(4)
                } else {
                    NumBuckets::Factorized(vec![2, 4])
                },
                chunk_length: 8,
                chunks_before: before,
                chunks_after: after,
                causal,
                dropout,
            };
            let layer = LshSelfAttention::new(HIDDEN, HEAD_SIZE, settings.clone(), 0.3, &autodiff);
            let input = random(case as u64, [BATCH, LENGTH, HIDDEN], &device);
            let keep = padding.then(|| keep_mask(&device));
            let rotations = draw_rotations(7, HEADS, HEAD_SIZE, rounds, &settings.buckets, &device);
            let seed = Some(11 + case as u64);

            // Under autodiff the layer takes the tensor formulation: the reference.
            let tracked = input.clone().autodiff().require_grad();
            let reference = layer.forward(
                tracked.clone(),
                keep.clone(),
                Hashing::Rotations(rotations.clone()),
                seed,
            );
            let buckets = reference.buckets.clone().expect("the layer hashed");
            let context_grad = random(100 + case as u64, reference.context.dims(), &device);
            let grads = (reference.context.clone() * context_grad.clone().autodiff())
                .sum()
                .backward();
            let input_grad = tracked.grad(&grads).unwrap();
            let weight_grad = layer.query_key.weight.val().grad(&grads).unwrap();

            // Without autodiff, on a CPU backend: the host hashing and the kernel's forward.
            let ours = layer.valid().forward(
                input.clone(),
                keep.clone(),
                Hashing::Rotations(rotations.clone()),
                seed,
            );
            let ours_buckets: Vec<i64> = ours.buckets.unwrap().into_data().iter().collect();
            let reference_buckets: Vec<i64> = buckets.clone().into_data().iter().collect();
            assert_eq!(ours_buckets, reference_buckets, "{what} buckets");
            let reference_context = reference.context.detach().inner();
            assert_close(
                &format!("{what} forward"),
                &ours.context,
                &reference_context,
                TOLERANCE,
            );

            // The kernel's backward.
            let leaf = input.autodiff().require_grad();
            let (context, objective) =
                layer.forward_with_grads(leaf.clone(), context_grad, keep, buckets, seed);
            assert_close(
                &format!("{what} context"),
                &context,
                &reference_context,
                TOLERANCE,
            );
            let grads = objective.backward();
            let ours_input = leaf.grad(&grads).unwrap();
            let ours_weight = layer.query_key.weight.val().grad(&grads).unwrap();
            assert_close(
                &format!("{what} input grad"),
                &ours_input,
                &input_grad,
                TOLERANCE,
            );
            assert_close(
                &format!("{what} weight grad"),
                &ours_weight,
                &weight_grad,
                TOLERANCE,
            );
        }
    }
}

#[test]
fn host_feed_forward_equals_the_tensor_formulation_forward_and_backward() {
    let activations = [
        Activation::Relu,
        Activation::Gelu,
        Activation::GeluNew,
        Activation::Silu,
    ];
    for (name, device) in host_devices() {
        for (case, (activation, dropout, chunk)) in activations
            .into_iter()
            .zip([0.2, 0.0, 0.3, 0.1])
            .zip([7, 0, 48, 16])
            .map(|((a, d), c)| (a, d, c))
            .enumerate()
        {
            let what = format!("{name} {activation:?} dropout {dropout} chunk {chunk}");
            let config = ReformerConfig {
                hidden_size: HIDDEN,
                feed_forward_size: 20,
                hidden_act: activation,
                hidden_dropout_prob: dropout,
                chunk_size_feed_forward: chunk,
                ..ReformerConfig::default()
            };
            let layer = ChunkedFeedForward::new(&config, &device.clone().autodiff());
            let input = random(20 + case as u64, [BATCH, LENGTH, HIDDEN], &device);
            let output_grad = random(40 + case as u64, [BATCH, LENGTH, HIDDEN], &device);
            let seed = Some(5 + case as u64);

            // Under autodiff the block takes the tensor formulation: the reference.
            let tracked = input.clone().autodiff().require_grad();
            let reference = layer.forward(tracked.clone(), seed);
            let grads = (reference.clone() * output_grad.clone().autodiff())
                .sum()
                .backward();
            let reference = reference.detach().inner();
            let input_grad = tracked.grad(&grads).unwrap();
            let dense_grad = layer.dense.weight.val().grad(&grads).unwrap();
            let bias_grad = layer
                .output
                .bias
                .as_ref()
                .unwrap()
                .val()
                .grad(&grads)
                .unwrap();

            let ours = layer.valid().forward(input.clone(), seed);
            assert_close(&format!("{what} forward"), &ours, &reference, TOLERANCE);

            let ours = layer.forward_with_grads(input, output_grad, seed);
            assert_close(
                &format!("{what} output"),
                &ours.output,
                &reference,
                TOLERANCE,
            );
            assert_close(
                &format!("{what} input grad"),
                &ours.input_grad,
                &input_grad,
                TOLERANCE,
            );
            let param = |param: &burn::module::Param<Tensor<2>>| {
                ours.params
                    .get::<2>(param.id)
                    .expect("a parameter gradient")
            };
            assert_close(
                &format!("{what} dense grad"),
                &param(&layer.dense.weight),
                &dense_grad,
                TOLERANCE,
            );
            let bias = layer.output.bias.as_ref().unwrap();
            let ours_bias = ours.params.get::<1>(bias.id).expect("a bias gradient");
            assert_close(
                &format!("{what} bias grad"),
                &ours_bias,
                &bias_grad,
                TOLERANCE,
            );
        }
    }
}

#[test]
fn host_local_attention_equals_the_tensor_formulation_forward_and_backward() {
    // (chunk length, chunks before, chunks after, causal, padding, dropout)
    let cases = [
        (8, 1, 0, true, true, 0.0),
        (16, 0, 1, false, true, 0.2),
        (8, 2, 1, true, false, 0.1),
        (LENGTH * 2, 1, 0, true, true, 0.0),
    ];
    for (name, device) in host_devices() {
        for (case, &(chunk_length, before, after, causal, padding, dropout)) in
            cases.iter().enumerate()
        {
            let what = format!("{name} local case {case}");
            let settings = LocalSettings {
                heads: HEADS,
                chunk_length,
                chunks_before: before,
                chunks_after: after,
                causal,
                dropout,
            };
            let layer = LocalSelfAttention::new(
                HIDDEN,
                HEAD_SIZE,
                settings,
                0.3,
                &device.clone().autodiff(),
            );
            let input = random(60 + case as u64, [BATCH, LENGTH, HIDDEN], &device);
            let context_grad = random(
                80 + case as u64,
                [BATCH, LENGTH, HEADS * HEAD_SIZE],
                &device,
            );
            let keep = padding.then(|| keep_mask(&device));
            let seed = Some(3 + case as u64);

            let tracked = input.clone().autodiff().require_grad();
            let reference = layer.forward(tracked.clone(), keep.clone(), seed);
            let grads = (reference.clone() * context_grad.clone().autodiff())
                .sum()
                .backward();
            let reference = reference.detach().inner();
            let input_grad = tracked.grad(&grads).unwrap();
            let key_grad = layer.key.weight.val().grad(&grads).unwrap();

            let ours = layer.valid().forward(input.clone(), keep.clone(), seed);
            assert_close(&format!("{what} forward"), &ours, &reference, TOLERANCE);

            let leaf = input.autodiff().require_grad();
            let (context, objective) =
                layer.forward_with_grads(leaf.clone(), context_grad, keep, seed);
            assert_close(&format!("{what} context"), &context, &reference, TOLERANCE);
            let grads = objective.backward();
            let ours_input = leaf.grad(&grads).unwrap();
            let ours_key = layer.key.weight.val().grad(&grads).unwrap();
            assert_close(
                &format!("{what} input grad"),
                &ours_input,
                &input_grad,
                TOLERANCE,
            );
            assert_close(&format!("{what} key grad"), &ours_key, &key_grad, TOLERANCE);
        }
    }
}
