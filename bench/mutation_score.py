"""The mutation score of the last `make mutation` run, from mutmut's result files.

    python bench/mutation_score.py [--survivors] [--sample] [GLOB ...]

Reads ``mutants/**/*.meta`` (mutmut 3 stores each mutant's pytest exit code there),
``bench/mutation_equivalent.txt`` (mutants shown equivalent to the original) and
``bench/mutation_rechecked.txt`` (mutants the run left alive that tests added since kill, each
checked with ``bench/mutation_recheck.sh``): one name per line, ``#`` starts the reason. Prints, per source file and in all, the mutants run, killed, survived
(no test failed, or no test reaches the code) and timed out, and the score

    score = killed / (run − equivalent)

where a timeout counts as killed (mutmut's own convention) unless the mutant is listed as
equivalent.
GLOBs (fnmatch on mutant names) restrict the count to the mutants a partial run covered;
``--sample`` to the names in ``bench/mutation_sample.txt`` (``bench/mutation_sample.py``), and
adds the Wilson 95% interval of the score of all mutants that the sample's score estimates.
"""

from __future__ import annotations

import fnmatch
import json
import math
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).parents[1]
KILLED, SURVIVED, NO_TESTS, TIMEOUT = {1, 3}, {0}, {5, 33}, {36, 24, -24, 152, 255}


def listed(name: str) -> set[str]:
    path = ROOT / "bench" / name
    if not path.is_file():
        return set()
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def outcome(code: int | None) -> str:
    if code is None:
        return "not run"
    for name, codes in (("killed", KILLED), ("survived", SURVIVED), ("no tests", NO_TESTS),
                        ("timeout", TIMEOUT)):  # fmt: skip
        if code in codes:
            return name
    return "other"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion k / n (Wilson 1927)."""
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


def results(globs: list[str], names: set[str] | None = None) -> dict[str, dict[str, str]]:
    """{source file: {mutant name: outcome}} for the mutants matching any glob (and in
    ``names`` when given)."""
    rechecked = listed("mutation_rechecked.txt")
    out: dict[str, dict[str, str]] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        source = str(meta.relative_to(ROOT / "mutants"))[: -len(".meta")]
        for name, code in codes.items():
            if names is not None and name not in names:
                continue
            if not globs or any(fnmatch.fnmatch(name, g) for g in globs):
                killed_since = code is not None and name in rechecked
                out.setdefault(source, {})[name] = "killed" if killed_since else outcome(code)
    return out


def main(argv: list[str]) -> int:
    show = "--survivors" in argv
    globs = [a for a in argv if not a.startswith("--")]
    names = listed("mutation_sample.txt") if "--sample" in argv else None
    equivalent, total = listed("mutation_equivalent.txt"), Counter()
    print(f"{'file':52} {'run':>5} {'killed':>6} {'alive':>5} {'equiv':>5} {'score':>6}")
    for source, by_name in results(globs, names).items():
        c = Counter(by_name.values())
        run = sum(n for k, n in c.items() if k != "not run")
        if not run:
            continue
        # An equivalent mutant leaves the count whatever mutmut made of it (a slow machine can
        # time out on one: a timeout is not always a kill).
        equiv = sum(m in equivalent for m, o in by_name.items() if o != "not run")
        killed = sum(o in ("killed", "timeout") and m not in equivalent for m, o in by_name.items())
        alive = [m for m, o in by_name.items() if o in ("survived", "no tests", "other")]
        total.update(run=run, killed=killed, alive=len(alive), equiv=equiv)
        score = killed / (run - equiv) if run > equiv else 1.0
        print(f"{source:52} {run:5d} {killed:6d} {len(alive):5d} {equiv:5d} {score:6.1%}")
        if show:
            for m in alive:
                print(f"    {m}{'  (equivalent)' if m in equivalent else ''} [{by_name[m]}]")
    denominator = total["run"] - total["equiv"]
    score = total["killed"] / denominator if denominator else 1.0
    print(f"{'all':52} {total['run']:5d} {total['killed']:6d} {total['alive']:5d} "
          f"{total['equiv']:5d} {score:6.1%}")  # fmt: skip
    if names is not None and denominator:
        low, high = wilson(total["killed"], denominator)
        print(
            f"a sample of {len(names)} mutants: the score of all lies in "
            f"[{low:.1%}, {high:.1%}] (95%, Wilson)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
