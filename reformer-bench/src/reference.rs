//! The reference configuration the issues measure: hidden 256, 4 heads of 64, feed-forward
//! 1024, LSH layers with 2 rounds and chunk 64, byte vocabulary, batch 1.

use reformer_core::{AttentionKind, ReformerConfig};

/// The reference model with `layers` LSH layers for sequences of `seq_len` tokens.
pub fn reference_config(layers: usize, seq_len: usize) -> ReformerConfig {
    let columns = 64.min(seq_len);
    ReformerConfig {
        vocab_size: 256,
        hidden_size: 256,
        num_attention_heads: 4,
        attention_head_size: 64,
        feed_forward_size: 1024,
        attn_layers: vec![AttentionKind::Lsh; layers],
        num_hashes: 2,
        num_buckets: None,
        lsh_attn_chunk_length: 64,
        is_decoder: true,
        axial_pos_shape: vec![seq_len / columns, columns],
        axial_pos_embds_dim: vec![64, 192],
        max_position_embeddings: seq_len,
        chunk_size_feed_forward: 1024,
        chunk_size_lm_head: 1024,
        ..ReformerConfig::default()
    }
}
