"""Mutation testing of the trust evaluator and the checks (``make mutation``), with mutmut 3.

mutmut's settings are in pyproject.toml (``[tool.mutmut]``: the modules to mutate, the tests
to run). This driver makes a run reproducible and affordable on a shared machine:

1. generates every mutant of ``irsa_nb/iam/`` and ``irsa_nb/checks/`` (in ``mutants/``);
2. draws a fixed-seed sample of each module's mutants (``--sample`` per module, ``0`` = all),
   printing its size;
3. runs ``mutmut run`` on the sample, niced, ``--max-children`` mutants at a time (``--module``
   restricts it to named modules): each mutant against the tests that call the mutated
   function;
4. prints each module's score (killed / sampled) and writes the survivors, with their diffs,
   to the report (``build/mutation-report.md``).

The explanations of the survivors kept on purpose are in tests/MUTATION.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
#: mutmut's exit codes of a mutant's test run that count as noticed (failed, timed out).
KILLED = {1, 3, 36, 24, -24, 152, 255}

_GENERATE = """
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants
from mutmut.mutation.trampoline import set_mutant_under_test
set_mutant_under_test("mutant_generation")
copy_src_dir()
copy_also_copy_files()
create_mutants(1)
"""

_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
names = json.load(sys.stdin)
json.dump({n: get_diff_for_mutant(n) for n in names}, sys.stdout)
"""


def _mutmut_python() -> str:
    return str(Path(sys.executable))


def generate() -> dict[str, list[str]]:
    """Every mutant's name, by module path (``irsa_nb/iam/trust.py``)."""
    subprocess.run(
        [_mutmut_python(), "-c", _GENERATE], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    return mutant_names()


def mutant_names() -> dict[str, list[str]]:
    """The names of the mutants in ``mutants/``, by module path."""
    names: dict[str, list[str]] = {}
    for meta in sorted(MUTANTS.glob("irsa_nb/**/*.py.meta")):
        module = str(meta.relative_to(MUTANTS))[: -len(".meta")]
        keys = sorted(json.loads(meta.read_text())["exit_code_by_key"])
        if keys:
            names[module] = keys
    return names


def sample(names: dict[str, list[str]], size: int, seed: int) -> dict[str, list[str]]:
    """``size`` mutants of each module (all when it has fewer, or size is 0), fixed by seed."""
    picked = {}
    for module, keys in names.items():
        rng = random.Random(f"{seed}:{module}")
        picked[module] = sorted(rng.sample(keys, size)) if 0 < size < len(keys) else keys
    return picked


def run(module: str, keys: list[str], max_children: int, log: Path) -> None:
    cmd = ["nice", "-n", "15", str(Path(sys.executable).with_name("mutmut")), "run"]
    cmd += ["--max-children", str(max_children), *keys]
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n# {module}: {len(keys)} mutants\n")
        out.flush()
        done = subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        raise SystemExit(f"mutmut run failed on {module} (exit {done.returncode}): see {log}")


def outcomes(module: str, keys: list[str]) -> dict[str, int | None]:
    meta = json.loads((MUTANTS / f"{module}.meta").read_text())["exit_code_by_key"]
    return {k: meta.get(k) for k in keys}


def diffs(names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    done = subprocess.run(
        [_mutmut_python(), "-c", _DIFFS],
        cwd=ROOT,
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=25, help="mutants per module (0: all)")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--module", action="append", help="only this module (repeatable)")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ and its results")
    parser.add_argument(
        "--unkilled",
        action="store_true",
        help="with --keep: run again only the sampled mutants not killed yet (after new tests)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="with --keep: run nothing, report the results mutants/ holds for the sample",
    )
    parser.add_argument("--report", type=Path, default=ROOT / "build/mutation-report.md")
    args = parser.parse_args(argv)

    if not args.keep:
        shutil.rmtree(MUTANTS, ignore_errors=True)
    os.chdir(ROOT)
    report_only = args.keep and args.report_only
    picked = sample(mutant_names() if report_only else generate(), args.sample, args.seed)
    if args.module:
        picked = {m: k for m, k in picked.items() if m in args.module}
    total = sum(map(len, picked.values()))
    print(f"mutation sample: {total} mutants (seed {args.seed}, up to {args.sample} per module)")
    if report_only:
        print("report only: the results already in mutants/")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    log = args.report.with_suffix(".log")
    if not report_only:
        log.write_text("", encoding="utf-8")

    # One mutmut run for the whole sample (its set-up, a clean run of the tests, is paid once);
    # with --max-children 1 the mutants still run one at a time.
    todo = [k for keys in picked.values() for k in keys]
    if args.keep and args.unkilled:
        known = {k: c for module, keys in picked.items() for k, c in outcomes(module, keys).items()}
        todo = [k for k in todo if known[k] not in KILLED]
        print(f"running again the {len(todo)} mutants not killed yet")
    if report_only:
        todo = []
    if todo:
        run(", ".join(picked), todo, args.max_children, log)
    rows, survivors = [], []
    for module, keys in picked.items():
        codes = outcomes(module, keys)
        unchecked = sum(code is None for code in codes.values())
        if unchecked:  # an interrupted run: score what was tested, and say so
            print(f"{module}: {unchecked} of the sampled mutants were not tested")
            codes = {k: c for k, c in codes.items() if c is not None}
        if not codes:
            continue
        killed = sum(code in KILLED for code in codes.values())
        score = 100 * killed / len(codes)
        print(f"{module}: {killed}/{len(codes)} killed, {score:.1f} %", flush=True)
        rows.append((module, len(codes), killed, score))
        survivors += [(k, c) for k, c in codes.items() if c not in KILLED]

    texts = diffs([k for k, _ in survivors])
    with args.report.open("w", encoding="utf-8") as out:
        out.write(f"# Mutation report\n\nSeed {args.seed}, up to {args.sample} mutants a module")
        out.write(f" ({total} in all).\n\n")
        out.write("| module | tested | killed | score |\n|---|---|---|---|\n")
        for module, n, killed, score in rows:
            out.write(f"| {module} | {n} | {killed} | {score:.1f} % |\n")
        out.write(f"\n## Survivors ({len(survivors)})\n")
        for key, code in survivors:
            out.write(f"\n### {key} (exit {code})\n\n```diff\n{texts.get(key, '')}\n```\n")
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
