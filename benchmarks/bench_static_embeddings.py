"""Static embeddings (model2vec, WordLlama, GloVe) at their floor and beside their own libraries.

For each zoo model with a token table, on N sentences (the built-in sentence-polarity texts,
repeated to N), times in one run, best of ``--repeat``:

* ``ours``: :meth:`StaticEmbeddingEncoder.encode` of layer ``output`` (tokenise, gather, pool);
* ``floor``: its tokenizer alone (``split``): the work no static encoder can skip; gathering and
  pooling the vectors is what ``ours`` adds;
* ``peer`` (model2vec only): model2vec's own ``StaticModel.encode``, what a user would otherwise call.

and prints ``ours / floor`` (goal <= 2.0x) and ``ours / peer`` (goal <= 1.5x; the peer pools in the
table's float16, ours in float64 then float32).

    python benchmarks/bench_static_embeddings.py [--n 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os

from timing import best_of  # benchmarks/timing.py, beside this script

os.environ.setdefault("HF_HUB_OFFLINE", "1")

GOAL_FLOOR = 2.0
GOAL_PEER = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from transferscope.datasets import load_builtin
    from transferscope.extraction.model_zoo import MODEL_ZOO, missing_packages, zoo_model_dir
    from transferscope.extraction.specs import build_encoder

    base = [str(t) for t in load_builtin("sentence-polarity").inputs]
    texts = (base * (args.n // len(base) + 1))[: args.n]
    print(f"{args.n} sentences (sentence-polarity repeated), best of {args.repeat}")
    for name in ("model2vec", "wordllama", "glove"):
        if missing_packages(MODEL_ZOO[name]):
            print(f"{name}: not installed, skipped")
            continue
        enc = build_encoder(name)
        enc.vectors()  # read the table before timing
        tokenizer = enc.tokenizer()
        ours = best_of(lambda: enc.encode(texts, layers=["output"], poolings=["mean"]), args.repeat)
        floor = best_of(lambda: tokenizer.split(texts), args.repeat)
        line = (f"{name:10s} ours {ours:7.3f} s  floor (tokenise) {floor:7.3f} s  ours/floor {ours / floor:5.2f}x "
                f"(goal <= {GOAL_FLOOR}x)")
        if name == "model2vec":
            from model2vec import StaticModel

            peer_model = StaticModel.from_pretrained(str(zoo_model_dir("model2vec")))
            peer = best_of(lambda: peer_model.encode(texts, use_multiprocessing=False), args.repeat)
            line += f"  peer (model2vec encode) {peer:7.3f} s  ours/peer {ours / peer:5.2f}x (goal <= {GOAL_PEER}x)"
        print(line)


if __name__ == "__main__":
    main()
