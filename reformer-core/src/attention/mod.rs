//! The attention kinds of the Reformer and the pieces they share.

mod attend;
mod block;
mod chunks;
mod full;
mod hashing;
mod heads;
mod local;
mod lsh;
mod softmax;
mod sort;

pub use attend::{AttendOptions, MASK_VALUE, SELF_MASK_VALUE, attend};
pub use block::{AttentionBlock, AttentionOutput, SelfAttention};
pub use chunks::look_adjacent;
pub use full::{FullSelfAttention, shared_qk_attention};
pub use hashing::{draw_rotations, hash_vectors};
pub use heads::{gather_rows, merge_heads, split_heads, unit_norm_keys};
pub use local::{LocalSelfAttention, LocalSettings};
pub use lsh::{Hashing, LshOutput, LshSelfAttention, LshSettings};
pub use softmax::logsumexp;
pub use sort::{BucketOrder, sorted_on_host};
