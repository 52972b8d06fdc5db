"""``python -m netqa.testworld --out DIR --seed 7 [--small]``: write the test world;
``--district`` writes the synthetic urban district (:mod:`netqa.testworld.district`, seed 12) instead."""

from __future__ import annotations

import argparse
import logging
import sys

from netqa.testworld import generate_world, small_config


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m netqa.testworld", description=__doc__,
                                 epilog="example: python -m netqa.testworld --out testdata --seed 7\n"
                                        "         python -m netqa.testworld --district --out testdata/district --seed 12",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (files in it are replaced)")
    ap.add_argument("--seed", type=int, help="random seed (default 7, the committed world; 12 for --district)")
    ap.add_argument("--small", action="store_true", help="coarse grid and short drives (fast tests)")
    ap.add_argument("--district", action="store_true", help="write the synthetic urban district (antenna audit truth)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if args.district:
        from netqa.testworld.district import generate_district

        info = generate_district(args.out, seed=12 if args.seed is None else args.seed)
        print(f"district: {info['realised']['n_samples']} samples, wrong cells {info['wrong_cells']}", file=sys.stderr)
        return 0
    info = generate_world(args.out, seed=7 if args.seed is None else args.seed, config=small_config() if args.small else None)
    for name, s in info["sessions"].items():
        print(f"{name}: {s['n_samples']} samples, {s['distance_km']} km, events {s['events']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
