//! Parity with HuggingFace's Reformer on the shipped fixture (`shared/fixtures`).

mod common;

use common::{assert_close, ints, public_fixture, test_devices};
use reformer_core::attention::{BucketOrder, Hashing, SelfAttention, hash_vectors, split_heads};
use reformer_core::hf::HfFixture;

/// HuggingFace's own replay reproduces the fixture exactly; float32 rounding in another
/// order of operations stays far below this.
const TOLERANCE: f64 = 1e-4;

#[test]
fn logits_and_loss_match_huggingface() {
    let fixture = HfFixture::open(public_fixture()).expect("fixture opens");
    for (name, device) in test_devices() {
        let report = fixture.check(&device).expect("fixture runs");
        assert!(
            report.logits_rel_err <= TOLERANCE && report.loss_rel_err <= TOLERANCE,
            "{name}: {report:?}"
        );
    }
}

#[test]
fn intermediate_tensors_match_huggingface() {
    let fixture = HfFixture::open(public_fixture()).expect("fixture opens");
    let io = fixture.io();
    for (name, device) in test_devices() {
        let model = fixture.model(&device).expect("model loads");
        let randomness = fixture.randomness(&model, &device).expect("rotations load");
        let input = model
            .prepare(fixture.input_ids(&device).unwrap(), None)
            .expect("valid input");
        let embedded = model.embed(&input, &randomness);
        assert_close(
            &format!("{name} embeddings"),
            &embedded,
            &io.float::<3>("debug.embeddings", &device).unwrap(),
            1e-6,
        );

        // Layer 0 is LSH: the buckets and the sort must match exactly.
        let layer = &model.layers[0];
        let normed = layer.attention.layer_norm.forward(embedded.clone());
        let SelfAttention::Lsh(lsh) = &layer.attention.self_attention else {
            panic!("layer 0 of the fixture is LSH");
        };
        let query_key = split_heads(lsh.query_key.forward(normed), lsh.settings.heads);
        assert_close(
            &format!("{name} query_key"),
            &query_key,
            &io.float::<4>("debug.layer0.lsh.query_key", &device)
                .unwrap(),
            1e-5,
        );
        let Some(Hashing::Rotations(rotations)) = model.hashing(0, &randomness, &device) else {
            panic!("layer 0 hashes with rotations");
        };
        let buckets = hash_vectors(query_key, rotations, &lsh.settings.buckets, None);
        let expected = io.int::<4>("buckets.layer0", &device).unwrap();
        // The recorded buckets carry HuggingFace's per-round offsets (round · num_buckets).
        let [_, _, rounds, length] = buckets.dims();
        let total = lsh.settings.buckets.total() as i64;
        let offset: Vec<i64> = ints(&buckets)
            .iter()
            .enumerate()
            .map(|(i, b)| b + ((i / length) % rounds) as i64 * total)
            .collect();
        assert_eq!(offset, ints(&expected), "{name} buckets");
        let order = BucketOrder::new(buckets, lsh.settings.buckets.total() + 1);
        let sorted = io
            .int::<3>("debug.layer0.lsh.sorted_bucket_idx", &device)
            .unwrap();
        let undo = io
            .int::<3>("debug.layer0.lsh.undo_sorted_bucket_idx", &device)
            .unwrap();
        assert_eq!(ints(&order.sorted), ints(&sorted), "{name} sort");
        assert_eq!(ints(&order.undo), ints(&undo), "{name} undo");

        // Every layer's two streams.
        let (mut x1, mut x2) = (embedded.clone(), embedded);
        for (index, layer) in model.layers.iter().enumerate() {
            let out = layer.forward(
                x1,
                x2,
                None,
                model.hashing(index, &randomness, &device),
                None,
            );
            for (stream, ours) in [("attn_output", &out.y1), ("hidden_states", &out.y2)] {
                let key = format!("debug.layer{index}.{stream}");
                assert_close(
                    &format!("{name} {key}"),
                    ours,
                    &io.float::<3>(&key, &device).unwrap(),
                    1e-5,
                );
            }
            (x1, x2) = (out.y1, out.y2);
        }
    }
}
