//! Seeded initialisation: the initial weights are a function of the seed alone.

mod common;

use common::test_devices;
use reformer_core::grads::named_params;
use reformer_core::{ReformerConfig, ReformerLm};

fn small_config() -> ReformerConfig {
    ReformerConfig {
        vocab_size: 40,
        hidden_size: 32,
        num_attention_heads: 2,
        attention_head_size: 16,
        feed_forward_size: 64,
        axial_pos_shape: vec![4, 8],
        axial_pos_embds_dim: vec![8, 24],
        initializer_range: 0.02,
        axial_norm_std: 1.0,
        ..ReformerConfig::default()
    }
}

#[test]
fn the_seed_alone_fixes_the_weights_on_every_device() {
    let config = small_config();
    let reference = named_params(&ReformerLm::seeded(&config, 7, &test_devices()[0].1).unwrap());
    for (name, device) in test_devices() {
        let again = named_params(&ReformerLm::seeded(&config, 7, &device).unwrap());
        for (a, b) in reference.iter().zip(&again) {
            assert_eq!(a.path, b.path);
            assert_eq!(a.values, b.values, "{name}: {}", a.path);
        }
    }
    let other = named_params(&ReformerLm::seeded(&config, 8, &test_devices()[0].1).unwrap());
    let word = |params: &[reformer_core::grads::NamedValues]| {
        params
            .iter()
            .find(|p| p.path.contains("word_embeddings"))
            .unwrap()
            .values
            .clone()
    };
    assert_ne!(word(&reference), word(&other));
}

#[test]
fn seeded_weights_follow_huggingface_initialisation() {
    let config = small_config();
    let params = named_params(&ReformerLm::seeded(&config, 3, &test_devices()[0].1).unwrap());
    for param in &params {
        let values = param.values.as_ref().unwrap();
        let name = param.path.rsplit('.').next().unwrap();
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let std = (values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        match name {
            "bias" | "beta" => assert!(values.iter().all(|&v| v == 0.0), "{}", param.path),
            "gamma" => assert!(values.iter().all(|&v| v == 1.0), "{}", param.path),
            _ => {
                let expected = if param.path.contains("position_embeddings") {
                    1.0
                } else {
                    0.02
                };
                assert!(
                    (std / expected - 1.0).abs() < 0.25
                        && mean.abs() < 0.25 * expected + 3.0 * expected / n.sqrt(),
                    "{}: mean {mean}, std {std}, expected std {expected}",
                    param.path
                );
            }
        }
    }
}
