//! Every invalid configuration and input gives its typed error.

mod common;

use burn::tensor::{Int, Tensor, TensorData};
use common::test_devices;
use reformer_core::{
    AttentionKind, NumBuckets, Randomness, ReformerConfig, ReformerError, ReformerLm,
};

fn small_config() -> ReformerConfig {
    ReformerConfig {
        vocab_size: 32,
        hidden_size: 16,
        num_attention_heads: 2,
        attention_head_size: 8,
        feed_forward_size: 32,
        attn_layers: vec![AttentionKind::Lsh, AttentionKind::Local],
        num_hashes: 2,
        num_buckets: Some(NumBuckets::Single(4)),
        lsh_attn_chunk_length: 8,
        local_attn_chunk_length: 4,
        is_decoder: true,
        axial_pos_shape: vec![4, 8],
        axial_pos_embds_dim: vec![8, 8],
        ..ReformerConfig::default()
    }
}

fn field_of(result: Result<(), ReformerError>) -> &'static str {
    match result {
        Err(ReformerError::InvalidConfig { field, .. }) => field,
        other => panic!("expected an invalid-config error, got {other:?}"),
    }
}

#[test]
fn invalid_configurations_name_their_field() {
    assert!(small_config().validate().is_ok());
    let cases: Vec<(&str, ReformerConfig)> = vec![
        (
            "num_buckets",
            ReformerConfig {
                num_buckets: Some(NumBuckets::Single(5)),
                ..small_config()
            },
        ),
        (
            "num_buckets",
            ReformerConfig {
                num_buckets: Some(NumBuckets::Factorized(vec![2, 3])),
                ..small_config()
            },
        ),
        (
            "num_buckets",
            ReformerConfig {
                num_buckets: Some(NumBuckets::Factorized(vec![])),
                ..small_config()
            },
        ),
        (
            "axial_pos_embds_dim",
            ReformerConfig {
                axial_pos_embds_dim: vec![8, 4],
                ..small_config()
            },
        ),
        (
            "axial_pos_embds_dim",
            ReformerConfig {
                axial_pos_embds_dim: vec![16],
                axial_pos_shape: vec![32, 1],
                ..small_config()
            },
        ),
        (
            "axial_pos_shape",
            ReformerConfig {
                axial_pos_shape: vec![4, 4, 2],
                axial_pos_embds_dim: vec![4, 4, 8],
                ..small_config()
            },
        ),
        (
            "attn_layers",
            ReformerConfig {
                attn_layers: vec![],
                ..small_config()
            },
        ),
        (
            "num_attention_heads",
            ReformerConfig {
                num_attention_heads: 0,
                ..small_config()
            },
        ),
        (
            "vocab_size",
            ReformerConfig {
                vocab_size: 0,
                ..small_config()
            },
        ),
        (
            "num_hashes",
            ReformerConfig {
                num_hashes: 0,
                ..small_config()
            },
        ),
        (
            "lsh_attn_chunk_length",
            ReformerConfig {
                lsh_attn_chunk_length: 0,
                ..small_config()
            },
        ),
        (
            "hidden_dropout_prob",
            ReformerConfig {
                hidden_dropout_prob: 1.0,
                ..small_config()
            },
        ),
        (
            "layer_norm_eps",
            ReformerConfig {
                layer_norm_eps: 0.0,
                ..small_config()
            },
        ),
        (
            "tie_word_embeddings",
            ReformerConfig {
                tie_word_embeddings: true,
                ..small_config()
            },
        ),
    ];
    for (field, config) in cases {
        assert_eq!(field_of(config.validate()), field);
        let device = test_devices()[0].1.clone();
        assert!(matches!(
            ReformerLm::new(&config, &device),
            Err(ReformerError::InvalidConfig { .. })
        ));
    }
}

#[test]
fn config_json_with_unknown_layer_kind_is_rejected() {
    let text = r#"{"attn_layers": ["lsh", "sparse"]}"#;
    let error = serde_json::from_str::<ReformerConfig>(text).unwrap_err();
    assert!(error.to_string().contains("sparse"), "{error}");
}

#[test]
fn invalid_inputs_give_typed_errors() {
    for (name, device) in test_devices() {
        let model = ReformerLm::new(&small_config(), &device).unwrap();
        let ids = |values: Vec<i64>, shape: [usize; 2]| {
            Tensor::<2, Int>::from_data(TensorData::new(values, shape), &device)
        };
        let run = |input: Tensor<2, Int>, mask: Option<Tensor<2, Int>>| {
            model
                .forward(input, mask.as_ref(), &Randomness::eval(0))
                .map(|_| ())
        };

        let mut tokens = vec![1i64; 32];
        tokens[17] = 32;
        match run(ids(tokens, [1, 32]), None) {
            Err(ReformerError::TokenOutOfVocabulary {
                id: 32,
                batch: 0,
                position: 17,
                vocab_size: 32,
            }) => {}
            other => panic!("{name}: {other:?}"),
        }
        let mut tokens = vec![1i64; 32];
        tokens[3] = -1;
        assert!(matches!(
            run(ids(tokens, [1, 32]), None),
            Err(ReformerError::TokenOutOfVocabulary { id: -1, .. })
        ));

        match run(ids(vec![1; 32], [1, 32]), Some(ids(vec![1; 16], [1, 16]))) {
            Err(ReformerError::InputShape {
                name: "attention_mask",
                expected,
                got,
            }) => {
                assert_eq!((expected, got), (vec![1, 32], vec![1, 16]));
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(matches!(
            run(ids(vec![1; 32], [1, 32]), Some(ids(vec![2; 32], [1, 32]))),
            Err(ReformerError::InvalidMask { value: 2 })
        ));

        // 20 tokens: longer than the LSH chunk (8) but not a multiple of it.
        match run(ids(vec![1; 20], [1, 20]), None) {
            Err(ReformerError::InvalidLength { length: 20, reason }) => {
                assert!(reason.contains("pad the input to 24"), "{reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
        // 40 tokens: more than the 32 positions of the axial embeddings.
        assert!(matches!(
            run(ids(vec![1; 40], [1, 40]), None),
            Err(ReformerError::InvalidLength { length: 40, .. })
        ));
        // Short sequences that fit in one chunk are fine; so is a padded batch.
        assert!(run(ids(vec![1; 4], [1, 4]), None).is_ok());
        let mask: Vec<i64> = (0..64).map(|i| i64::from(i % 32 < 28)).collect();
        assert!(run(ids(vec![1; 64], [2, 32]), Some(ids(mask, [2, 32]))).is_ok());

        let output = model
            .forward(ids(vec![1; 32], [1, 32]), None, &Randomness::eval(0))
            .unwrap();
        assert!(matches!(
            model.loss(output.hidden, ids(vec![1; 16], [1, 16])),
            Err(ReformerError::InputShape { name: "labels", .. })
        ));
    }
}

#[test]
fn loading_mismatched_weights_names_the_tensor() {
    let device = test_devices()[0].1.clone();
    let fixture = common::public_fixture();
    // A model with a wider feed-forward than the checkpoint's.
    let mut config = ReformerConfig::from_json_file(fixture.join("config.json")).unwrap();
    config.feed_forward_size = 48;
    let mut model = ReformerLm::new(&config, &device).unwrap();
    match model.load_hf_weights(fixture.join("model.safetensors")) {
        Err(ReformerError::Weights { reason, .. }) => {
            assert!(reason.contains("feed_forward.dense.weight"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A model with a layer the checkpoint lacks.
    let mut config = ReformerConfig::from_json_file(fixture.join("config.json")).unwrap();
    config.attn_layers.push(AttentionKind::Local);
    let mut model = ReformerLm::new(&config, &device).unwrap();
    match model.load_hf_weights(fixture.join("model.safetensors")) {
        Err(ReformerError::Weights { reason, .. }) => {
            assert!(
                reason.contains("missing") && reason.contains("layers.2"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Not a safetensors file at all.
    let mut model = ReformerLm::new(&small_config(), &device).unwrap();
    assert!(matches!(
        model.load_hf_weights(fixture.join("config.json")),
        Err(ReformerError::Weights { .. })
    ));
}
