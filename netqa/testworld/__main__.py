"""``python -m netqa.testworld --out DIR --seed 7 [--small]``: write the test world."""

from __future__ import annotations

import argparse
import logging
import sys

from netqa.testworld import generate_world, small_config


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m netqa.testworld", description=__doc__,
                                 epilog="example: python -m netqa.testworld --out testdata --seed 7")
    ap.add_argument("--out", required=True, help="output folder (files in it are replaced)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7, the committed world)")
    ap.add_argument("--small", action="store_true", help="coarse grid and short drives (fast tests)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    info = generate_world(args.out, seed=args.seed, config=small_config() if args.small else None)
    for name, s in info["sessions"].items():
        print(f"{name}: {s['n_samples']} samples, {s['distance_km']} km, events {s['events']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
