"""The mutation score per module, from mutmut's results in mutants/ (run by
`make mutate`; docs/testing.md). Not a test: pytest collects test_*.py only.

    python tests/mutation_score.py [--survivors] [MUTANTS_DIR]

A surviving mutant listed in tests/mutation_equivalent.txt (its name, then
why no test can tell it from the original) counts as equivalent, not as a
survivor. score = killed / (mutants - equivalent - not run); a timeout
counts as killed (the mutant hung the tests), "no tests" as survived.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
KILLED = {1, 3, 36, -24, 24, 152, 255, -11, -9, 37}
EQUIVALENT_FILE = HERE / "mutation_equivalent.txt"


def equivalent() -> dict[str, str]:
    out = {}
    if EQUIVALENT_FILE.is_file():
        for line in EQUIVALENT_FILE.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                out[name] = reason.strip()
    return out


def module_of(meta: Path, root: Path) -> str:
    rel = meta.relative_to(root).with_suffix("").with_suffix("")
    return ".".join(rel.parts)


def scores(root: Path):
    eq = equivalent()
    rows, survivors = [], []
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        count = Counter()
        for name, code in codes.items():
            if code is None:
                count["not run"] += 1
            elif code in KILLED:
                count["killed"] += 1
            elif name in eq:
                count["equivalent"] += 1
            else:
                count["survived"] += 1
                survivors.append(name)
        judged = len(codes) - count["equivalent"] - count["not run"]
        score = count["killed"] / judged if judged else float("nan")
        rows.append((module_of(meta, root), len(codes), count, score))
    return rows, survivors


def main(argv: list[str]) -> int:
    show = "--survivors" in argv
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0]) if args else Path("mutants")
    if not root.is_dir():
        print(f"no {root}/: run `make mutate` first", file=sys.stderr)
        return 2
    rows, survivors = scores(root)
    print(
        f"{'module':<20} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv.':>6} "
        f"{'not run':>7} {'score':>6}"
    )
    for module, total, c, score in rows:
        print(
            f"{module:<20} {total:>7} {c['killed']:>7} {c['survived']:>8} "
            f"{c['equivalent']:>6} {c['not run']:>7} {score:>6.1%}"
        )
    if show:
        print("\n".join(["", "survivors:"] + survivors))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
