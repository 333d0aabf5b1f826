"""Run a credential command with a time limit.

irsa-nb runs the commands that fetch credentials, a kubeconfig's exec plugins (``aws eks
get-token``, ``kubelogin``, ...) and an AWS profile's ``credential_process``, through this
script, by path and with the standard library only (:func:`bounded`):
``python credential_timeout.py SECONDS COMMAND [ARG ...]``. The command keeps its stdin and
environment, and a terminal its stderr (an interactive login still prompts); its output is
passed on when it ends in time. After SECONDS it is killed and this exits with 124 and a
one-line reason, so a collection never waits for a login nobody completes. Output that is not
for a terminal goes through pipes of this script's own: a process the command left behind
cannot hold the caller's pipes open.
"""

from __future__ import annotations

import subprocess
import sys

#: Seconds a credential command may take (an interactive login too).
TIMEOUT = 60.0


def bounded(command: list[str], seconds: float = TIMEOUT) -> list[str]:
    """``command`` run through this script with a limit of ``seconds``."""
    return [sys.executable, "-I", __file__, str(seconds), *command]


def main(argv: list[str]) -> int:
    seconds, command = float(argv[1]), argv[2:]
    try:
        errors = None if sys.stderr.isatty() else subprocess.PIPE
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
    except OSError as exc:
        sys.stderr.write(f"cannot run the credential command {command[0]}: {exc.strerror}\n")
        return 127
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.stderr.write(
            f"the credential command {command[0]} gave no credentials within {seconds:g} s "
            "and was stopped: log in first (e.g. `aws sso login`), then retry\n"
        )
        return 124
    sys.stdout.buffer.write(out)
    sys.stderr.buffer.write(err or b"")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
