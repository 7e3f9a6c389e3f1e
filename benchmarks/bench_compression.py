"""``compress`` beside sentence-transformers' ``quantize_embeddings`` and its floor, in one run.

On ``--n`` x ``--dim`` float32 embeddings (best of ``--repeat``), for ``int8`` (ranges calibrated
on every row) and ``binary`` (packed bits):

* ``ours``: :func:`transferscope.extraction.compression.compress`;
* ``peer``: ``sentence_transformers.util.quantization.quantize_embeddings`` (``int8`` with the
  embeddings as calibration, ``ubinary``): the same codes, code for code;
* ``floor``: what no int8 / binary code can skip: for ``int8`` the per-dimension minimum and
  maximum plus one pass that scales and casts every value; for ``binary`` ``np.packbits(x > 0)``.

It prints ``ours / peer`` (goal <= 1.2x: the same arithmetic; ours also checks that every value is
finite, one pass that the peer skips: it packs a NaN as a 0 bit) and ``ours / floor``, and the
codes' bytes beside the float32 input's (goal: the code size, 4x smaller for int8, 32x for binary).

    python benchmarks/bench_compression.py [--n 100000] [--dim 384] [--repeat 3]
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import best_of  # benchmarks/timing.py, beside this script

GOAL_PEER = 1.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from sentence_transformers.util.quantization import quantize_embeddings

    from transferscope.extraction.compression import compress

    x = np.random.default_rng(0).normal(size=(args.n, args.dim)).astype(np.float32)

    def int8_floor() -> np.ndarray:
        low, high = x.min(axis=0), x.max(axis=0)
        return (x * (255 / (high - low)) + (-128 - low * 255 / (high - low))).astype(np.int8)

    cases = {
        "int8": (lambda: compress(x, "int8"), lambda: quantize_embeddings(x, precision="int8", calibration_embeddings=x),
                 int8_floor),
        "binary": (lambda: compress(x, "binary"), lambda: quantize_embeddings(x, precision="ubinary"),
                   lambda: np.packbits(x > 0, axis=1)),
    }
    for name, (ours, peer, floor) in cases.items():
        codes, theirs = ours(), peer()
        assert np.array_equal(codes, theirs), name
        t_ours, t_peer, t_floor = (best_of(f, args.repeat) for f in (ours, peer, floor))
        print(f"{name}: {args.n} x {args.dim}: ours {t_ours:.3f} s, peer {t_peer:.3f} s, floor {t_floor:.3f} s; "
              f"ours/peer {t_ours / t_peer:.2f}x (goal <= {GOAL_PEER}x), ours/floor {t_ours / t_floor:.2f}x; "
              f"codes {codes.nbytes / 2**20:.1f} MiB against {x.nbytes / 2**20:.1f} MiB of float32 "
              f"({x.nbytes / codes.nbytes:.0f}x smaller), equal to the peer's code for code")


if __name__ == "__main__":
    main()
