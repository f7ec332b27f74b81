//! Chunked feed-forward and chunked LM head against their unchunked forms.

mod common;

use burn::tensor::{Int, Tensor, TensorData};
use common::{assert_close, random, test_devices};
use reformer_core::ReformerConfig;
use reformer_core::feed_forward::ChunkedFeedForward;
use reformer_core::init::normal_linear;
use reformer_core::lm_head::{IGNORE_INDEX, causal_lm_loss, causal_lm_scores, chunked_logits};

/// Chunking only splits independent rows: the results agree to float rounding.
const TOLERANCE: f64 = 1e-6;

#[test]
fn chunked_feed_forward_equals_unchunked() {
    for (name, device) in test_devices() {
        let config = ReformerConfig {
            hidden_size: 16,
            feed_forward_size: 48,
            hidden_dropout_prob: 0.0,
            ..ReformerConfig::default()
        };
        let whole = ChunkedFeedForward::new(&config, &device);
        let input = random(7, [2, 30, 16], &device);
        let reference = whole.forward(input.clone(), None);
        for chunk in [1, 7, 8, 30, 64] {
            let chunked = ChunkedFeedForward {
                chunk_size: chunk,
                ..whole.clone()
            };
            let ours = chunked.forward(input.clone(), None);
            assert_close(
                &format!("{name} chunk {chunk}"),
                &ours,
                &reference,
                TOLERANCE,
            );
        }
    }
}

#[test]
fn chunked_lm_head_and_loss_equal_unchunked() {
    for (name, device) in test_devices() {
        let head = normal_linear(12, 40, true, 0.5, &device);
        let hidden = random(8, [2, 30, 12], &device);
        let mut labels: Vec<i64> = (0..60).map(|i| (i * 13 % 40) as i64).collect();
        labels[5] = IGNORE_INDEX;
        labels[40] = IGNORE_INDEX;
        let labels = Tensor::<2, Int>::from_data(TensorData::new(labels, [2, 30]), &device);

        let logits = chunked_logits(&head, hidden.clone(), 0);
        let loss = causal_lm_loss(&head, hidden.clone(), labels.clone(), 0);
        let manual = manual_scores(logits.clone(), labels.clone());
        let manual_loss = Tensor::<1>::from_data(
            TensorData::new(vec![(manual.nll_sum / manual.count as f64) as f32], [1]),
            &device,
        );
        assert_close(&format!("{name} loss vs manual"), &loss, &manual_loss, 1e-6);
        for chunk in [1, 4, 7, 29] {
            let chunked = chunked_logits(&head, hidden.clone(), chunk);
            assert_close(
                &format!("{name} logits chunk {chunk}"),
                &chunked,
                &logits,
                TOLERANCE,
            );
            let chunked_loss = causal_lm_loss(&head, hidden.clone(), labels.clone(), chunk);
            assert_close(
                &format!("{name} loss chunk {chunk}"),
                &chunked_loss,
                &loss,
                TOLERANCE,
            );
            let scores = causal_lm_scores(&head, hidden.clone(), labels.clone(), chunk);
            let scalar = |t: Tensor<1>| f64::from(t.into_scalar::<f32>());
            let nll_sum = scalar(scores.nll_sum);
            assert!(
                (nll_sum - manual.nll_sum).abs() <= 1e-5 * manual.nll_sum,
                "{name} chunk {chunk}: summed NLL {nll_sum} vs host {}",
                manual.nll_sum
            );
            assert_eq!(scalar(scores.count), manual.count as f64, "{name} count");
            assert_eq!(scalar(scores.correct), manual.hits as f64, "{name} hits");
        }
    }
}

/// Causal-LM scores written out on the host.
struct HostScores {
    nll_sum: f64,
    hits: usize,
    count: usize,
}

/// Over t with `labels[t+1]` scored: −log softmax(logits[t])[labels[t+1]] summed, argmax hits.
fn manual_scores(logits: Tensor<3>, labels: Tensor<2, Int>) -> HostScores {
    let [batch, length, vocab] = logits.dims();
    let logits = logits.to_data().try_into_vec::<f32>().unwrap();
    let labels = labels
        .to_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap();
    let mut scores = HostScores {
        nll_sum: 0.0,
        hits: 0,
        count: 0,
    };
    for b in 0..batch {
        for t in 0..length - 1 {
            let target = labels[b * length + t + 1];
            if target == IGNORE_INDEX {
                continue;
            }
            let row = &logits[(b * length + t) * vocab..(b * length + t + 1) * vocab];
            let max = row.iter().cloned().fold(f32::MIN, f32::max) as f64;
            let lse = max
                + row
                    .iter()
                    .map(|&x| (x as f64 - max).exp())
                    .sum::<f64>()
                    .ln();
            scores.nll_sum += lse - row[target as usize] as f64;
            scores.hits += usize::from(row[target as usize] as f64 == max);
            scores.count += 1;
        }
    }
    scores
}
