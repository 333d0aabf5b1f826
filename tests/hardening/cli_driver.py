"""Run many ``irsa-nb`` command lines in one subprocess (the interpreter starts once).

Reads a JSON list of argv lists on stdin; writes a JSON list of
``{"returncode", "stdout", "stderr"}`` on stdout. Each command line goes through
:func:`irsa_nb.cli.main` exactly as the console script calls it, with fresh stdout, stderr
and logging handlers, so what a user would see on each stream is captured separately.
"""

from __future__ import annotations

import io
import json
import logging
import sys


def run(argv: list[str]) -> dict[str, object]:
    from irsa_nb.cli import main

    out, err = io.StringIO(), io.StringIO()
    real = sys.stdout, sys.stderr
    root = logging.getLogger()
    for handler in list(root.handlers):  # main() calls basicConfig: bind it to this run's stderr
        root.removeHandler(handler)
    sys.stdout, sys.stderr = out, err
    try:
        code = main(argv)
    except SystemExit as exc:  # not expected: main returns its exit status
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:
        import traceback

        traceback.print_exc(file=err)
        code = f"raised {type(exc).__name__}"
    finally:
        sys.stdout, sys.stderr = real
    return {"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


if __name__ == "__main__":
    commands = json.load(sys.stdin)
    json.dump([run(argv) for argv in commands], sys.stdout)
