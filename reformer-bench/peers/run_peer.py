"""One peer measurement for `reformer-bench compare`: timed training steps of the reference
configuration (hidden 256, 4 heads of 64, feed-forward 1024, LSH layers with 2 rounds and
chunk 64, vocab 256, batch 1, causal) in HuggingFace transformers or reformer-pytorch.

Prints one JSON object: seconds per step, tokens per second, peak RSS and RSS before the
model is built (the idle process with PyTorch loaded), in MiB.
"""

import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F


def rss_mib():
    """Current resident set size (Linux), MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def huggingface(length, layers):
    from transformers import ReformerConfig, ReformerModelWithLMHead

    config = ReformerConfig(
        vocab_size=256, hidden_size=256, num_attention_heads=4, attention_head_size=64,
        feed_forward_size=1024, attn_layers=["lsh"] * layers, num_hashes=2,
        lsh_attn_chunk_length=64, is_decoder=True, axial_pos_shape=[length // 64, 64],
        axial_pos_embds_dim=[64, 192], max_position_embeddings=length,
        chunk_size_feed_forward=1024, chunk_size_lm_head=1024, use_cache=False,
        pad_token_id=None, eos_token_id=None,
    )
    model = ReformerModelWithLMHead(config)

    def loss(ids):
        return model(input_ids=ids, labels=ids, use_cache=False).loss

    return model, loss


def reformer_pytorch(length, layers):
    from reformer_pytorch import ReformerLM

    model = ReformerLM(
        num_tokens=256, dim=256, depth=layers, heads=4, dim_head=64, bucket_size=64,
        n_hashes=2, causal=True, max_seq_len=length, ff_chunks=max(1, length // 1024),
        ff_mult=4, axial_position_emb=True, axial_position_shape=(length // 64, 64),
        lsh_dropout=0.0, ff_dropout=0.05, post_attn_dropout=0.05, layer_dropout=0.0,
    )

    def loss(ids):
        logits = model(ids)
        return F.cross_entropy(logits[:, :-1].reshape(-1, 256), ids[:, 1:].reshape(-1))

    return model, loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=["huggingface", "reformer-pytorch"], required=True)
    parser.add_argument("--length", type=int, default=4096)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(0)
    before = rss_mib()
    build = huggingface if args.impl == "huggingface" else reformer_pytorch
    model, loss_of = build(args.length, args.layers)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids = (torch.arange(args.length) * 31 + 7).remainder(256).unsqueeze(0)

    seconds = []
    for _ in range(args.steps + 1):
        start = time.perf_counter()
        loss = loss_of(ids)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds.append(time.perf_counter() - start)
    step_s = sum(seconds[1:]) / max(1, args.steps)
    print(json.dumps({
        "bench": "throughput", "impl": args.impl, "torch": torch.__version__,
        "threads": torch.get_num_threads(), "length": args.length, "layers": args.layers,
        "step_s": step_s, "warmup_s": seconds[0], "tokens_per_second": args.length / step_s,
        "peak_rss_mib": peak_rss_mib(), "rss_before_mib": before, "loss": float(loss),
    }))


if __name__ == "__main__":
    main()
