"""A seeded uniform random sample of the core packages' mutants, one name per line.

    python bench/mutation_sample.py [--size N] [--seed S] > bench/mutation_sample.txt

A full mutmut run over every mutant of the core packages takes hours on 2 cores; the score of a
uniform random sample estimates it without bias, with a binomial interval (mutant sampling:
Wong & Mathur, "Reducing the cost of mutation testing: an empirical study", JSS 1995, found a
10% random sample tracks the full score closely). Reads the names mutmut generated
(``mutants/**/*.py.meta``, written by ``mutmut run``'s first phase), sorted, then draws without
replacement with Python's ``random.Random(seed)``: the same generated mutants and seed give the
same sample.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def all_mutants() -> list[str]:
    names = []
    for meta in (ROOT / "mutants").rglob("*.py.meta"):
        names.extend(json.loads(meta.read_text()).get("exit_code_by_key", {}))
    return sorted(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = all_mutants()
    if not names:
        print("no mutants: run `mutmut run` once first (it generates them)", file=sys.stderr)
        return 2
    sample = random.Random(args.seed).sample(names, min(args.size, len(names)))
    print(f"# {len(sample)} of {len(names)} mutants, seed {args.seed}")
    print("\n".join(sorted(sample)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
