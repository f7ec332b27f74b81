//! LSH and local attention against plain full-attention references where they must agree.

mod common;

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use common::{assert_close, random, test_devices};
use reformer_core::NumBuckets;
use reformer_core::attention::{
    BucketOrder, FullSelfAttention, Hashing, LocalSelfAttention, LocalSettings, LshSelfAttention,
    LshSettings, draw_rotations, merge_heads, split_heads,
};

const BATCH: usize = 2;
const LENGTH: usize = 32;
const HIDDEN: usize = 16;
const HEADS: usize = 2;
const HEAD_SIZE: usize = 8;

/// Float32 sums in another order; the outputs are O(1).
const TOLERANCE: f64 = 1e-5;

/// Row 1 has its last three tokens padded.
fn keep_mask(device: &Device) -> Tensor<2, Bool> {
    let values: Vec<bool> = (0..BATCH * LENGTH)
        .map(|i| !(i / LENGTH == 1 && i % LENGTH >= LENGTH - 3))
        .collect();
    Tensor::from_data(TensorData::new(values, [BATCH, LENGTH]), device)
}

fn lsh(settings: LshSettings, device: &Device) -> LshSelfAttention {
    LshSelfAttention::new(HIDDEN, HEAD_SIZE, settings, 0.3, device)
}

fn full_twin(lsh: &LshSelfAttention, causal: bool) -> FullSelfAttention {
    FullSelfAttention {
        query_key: lsh.query_key.clone(),
        value: lsh.value.clone(),
        heads: HEADS,
        causal,
        dropout: 0.0,
    }
}

/// With one round and a window of every chunk, each query sees every key once, whatever the
/// buckets: LSH attention is exactly full attention, with causal and padding masks.
#[test]
fn lsh_with_one_round_and_a_covering_window_is_full_attention() {
    for (name, device) in test_devices() {
        for causal in [false, true] {
            let settings = LshSettings {
                heads: HEADS,
                num_hashes: 1,
                buckets: NumBuckets::Single(4),
                chunk_length: 8,
                chunks_before: 3,
                chunks_after: 0,
                causal,
                dropout: 0.0,
            };
            let layer = lsh(settings.clone(), &device);
            let input = random(1, [BATCH, LENGTH, HIDDEN], &device);
            let rotations = draw_rotations(2, HEADS, HEAD_SIZE, 1, &settings.buckets, &device);
            for keep in [None, Some(keep_mask(&device))] {
                let ours = layer
                    .forward(
                        input.clone(),
                        keep.clone(),
                        Hashing::Rotations(rotations.clone()),
                        None,
                    )
                    .context;
                let reference = full_twin(&layer, causal).forward(input.clone(), keep, None);
                assert_close(
                    &format!("{name} causal={causal}"),
                    &ours,
                    &reference,
                    TOLERANCE,
                );
            }
        }
    }
}

/// With several rounds and a window over all rounds' chunks, every round computes full
/// attention (duplicated keys do not change a softmax), and the merge of identical rounds is
/// the identity.
#[test]
fn lsh_with_several_rounds_and_a_covering_window_is_full_attention() {
    for (name, device) in test_devices() {
        let settings = LshSettings {
            heads: HEADS,
            num_hashes: 3,
            buckets: NumBuckets::Factorized(vec![2, 4]),
            chunk_length: 8,
            chunks_before: 6,
            chunks_after: 5,
            causal: false,
            dropout: 0.0,
        };
        let layer = lsh(settings.clone(), &device);
        let input = random(3, [BATCH, LENGTH, HIDDEN], &device);
        let rotations = draw_rotations(4, HEADS, HEAD_SIZE, 3, &settings.buckets, &device);
        let ours = layer
            .forward(input.clone(), None, Hashing::Rotations(rotations), None)
            .context;
        let reference = full_twin(&layer, false).forward(input, None, None);
        assert_close(name, &ours, &reference, TOLERANCE);
    }
}

/// Dense attention with separate Q/K/V and a band of chunks (circular, as HuggingFace's
/// look-adjacent is), written without any chunking.
fn banded_reference(
    layer: &LocalSelfAttention,
    input: Tensor<3>,
    keep: Option<Tensor<2, Bool>>,
) -> Tensor<3> {
    let s = &layer.settings;
    let device = input.device();
    let q = split_heads(layer.query.forward(input.clone()), s.heads);
    let k = split_heads(layer.key.forward(input.clone()), s.heads);
    let v = split_heads(layer.value.forward(input), s.heads);
    let scores = q.matmul(k.swap_dims(2, 3)) / (HEAD_SIZE as f32).sqrt();

    let chunks = LENGTH / s.chunk_length;
    let allowed: Vec<bool> = (0..LENGTH * LENGTH)
        .map(|index| {
            let (i, j) = (index / LENGTH, index % LENGTH);
            let (ci, cj) = (i / s.chunk_length, j / s.chunk_length);
            let in_band = (0..=s.chunks_before + s.chunks_after)
                .any(|o| (ci + chunks + o - s.chunks_before) % chunks == cj);
            in_band && (!s.causal || j <= i)
        })
        .collect();
    let allowed = Tensor::<2, Bool>::from_data(TensorData::new(allowed, [LENGTH, LENGTH]), &device)
        .reshape([1, 1, LENGTH, LENGTH])
        .expand([BATCH, s.heads, LENGTH, LENGTH]);
    let allowed = match keep {
        Some(keep) => allowed.bool_and(
            keep.reshape([BATCH, 1, 1, LENGTH])
                .expand([BATCH, s.heads, LENGTH, LENGTH]),
        ),
        None => allowed,
    };
    let probs = softmax(scores.mask_fill(allowed.bool_not(), -1e9), 3);
    merge_heads(probs.matmul(v))
}

#[test]
fn local_attention_is_full_attention_with_a_band_mask() {
    for (name, device) in test_devices() {
        for (causal, before, after) in [(false, 1, 1), (true, 1, 0), (true, 2, 0), (false, 0, 2)] {
            let layer = LocalSelfAttention::new(
                HIDDEN,
                HEAD_SIZE,
                LocalSettings {
                    heads: HEADS,
                    chunk_length: 8,
                    chunks_before: before,
                    chunks_after: after,
                    causal,
                    dropout: 0.0,
                },
                0.3,
                &device,
            );
            let input = random(5, [BATCH, LENGTH, HIDDEN], &device);
            for keep in [None, Some(keep_mask(&device))] {
                let ours = layer.forward(input.clone(), keep.clone(), None);
                let reference = banded_reference(&layer, input.clone(), keep);
                assert_close(
                    &format!("{name} causal={causal} before={before} after={after}"),
                    &ours,
                    &reference,
                    TOLERANCE,
                );
            }
        }
    }
}

/// Both bucket sorts (radix on the device, counting on the host) put each round's positions in
/// (bucket, position) order, as a plain stable sort does: random buckets with many ties, and
/// padding in the extra last bucket.
#[test]
fn bucket_order_is_the_stable_sort_by_round_bucket_position() {
    for (name, device) in test_devices() {
        for (rounds, buckets) in [(3, 5), (2, 64), (1, 1)] {
            let values: Vec<i64> = (0..BATCH * HEADS * rounds * LENGTH)
                .map(|i| {
                    let hash = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                    if i % 11 == 3 {
                        buckets as i64
                    } else {
                        (hash % buckets as u64) as i64
                    }
                })
                .collect();
            let tensor = Tensor::<4, Int>::from_data(
                TensorData::new(values.clone(), [BATCH, HEADS, rounds, LENGTH]),
                &device,
            );
            for (path, order) in [
                ("chosen", BucketOrder::new(tensor.clone(), buckets + 1)),
                (
                    "on device",
                    BucketOrder::on_device(tensor.clone(), buckets + 1),
                ),
                ("on host", BucketOrder::on_host(tensor, buckets + 1)),
            ] {
                let on_host = |t: Tensor<3, Int>| {
                    t.into_data()
                        .convert::<i64>()
                        .try_into_vec::<i64>()
                        .unwrap()
                };
                let (sorted, undo) = (on_host(order.sorted), on_host(order.undo));
                let total = rounds * LENGTH;
                for row in 0..BATCH * HEADS {
                    let keys = &values[row * total..(row + 1) * total];
                    let mut expected: Vec<usize> = (0..total).collect();
                    expected.sort_by_key(|&t| (t / LENGTH, keys[t], t % LENGTH));
                    let got: Vec<usize> = sorted[row * total..(row + 1) * total]
                        .iter()
                        .map(|&t| t as usize)
                        .collect();
                    assert_eq!(got, expected, "{name} {path}: {buckets} buckets, row {row}");
                    for (rank, &t) in got.iter().enumerate() {
                        assert_eq!(undo[row * total + t] as usize, rank, "{name} {path}: undo");
                    }
                }
            }
        }
    }
}
