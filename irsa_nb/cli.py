"""Command line: ``irsa-nb check|...``. Bad input ends in one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import text
from .bundle import BundleError
from .checks import STATUSES, TargetNotFound
from .pipeline import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    Options,
    Source,
    Target,
    exec_target,
    exit_code,
    probe_options,
    run,
    verdict,
)
from .redact import mask_text
from .sdks import normalize_sdk, parse_sdk_spec

log = logging.getLogger("irsa_nb")

EXPLORER = "irsa_explorer.ipynb"


class UsageError(Exception):
    """A problem with the command line or its inputs (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise UsageError(f"{self.prog}: {message}")


def seconds(value: str) -> float:
    """An argparse type: a finite positive number of seconds (not 0, inf or nan)."""
    try:
        n = float(value)
    except ValueError:
        n = math.nan
    if not (math.isfinite(n) and n > 0):
        raise argparse.ArgumentTypeError(
            f"must be a finite positive number of seconds, not {value!r}"
        )
    return n


def parse_sdk(values: Sequence[str] | None) -> dict[str, str]:
    """``["boto3=1.9.100"]`` → ``{"boto3": "1.9.100"}`` (see :func:`parse_sdk_spec`)."""
    out: dict[str, str] = {}
    for item in values or ():
        try:
            parsed = parse_sdk_spec(item)
        except ValueError:
            parsed = {}
        if not parsed:
            raise UsageError(
                f"irsa-nb: --sdk expects NAME=VERSION (e.g. boto3=1.34.0), got {item!r}"
            )
        out.update(parsed)
    return out


def add_target_args(p: argparse.ArgumentParser) -> None:
    """The flags that choose what to check: a source and a target."""
    src = p.add_argument_group("source")
    src.add_argument(
        "--bundle", metavar="PATH", help="bundle directory, .tar.gz or .zip; 'demo' or 'demo:NAME'"
    )
    add_live_args(src)
    tgt = p.add_argument_group("target")
    tgt.add_argument("--namespace", "-n", metavar="NS")
    tgt.add_argument("--service-account", "-s", metavar="SA")
    tgt.add_argument("--pod", "-p", metavar="POD")
    tgt.add_argument(
        "--sdk", action="append", metavar="NAME=VERSION", help="application SDK, e.g. boto3=1.9.100"
    )
    p.add_argument("--lang", choices=text.LANGUAGES, default="en", help="text language")


def add_live_args(group: argparse._ActionsContainer, cluster_required: bool = False) -> None:
    """``--cluster/--region/--profile/--context``: a live cluster (boto3 + kubeconfig)."""
    group.add_argument(
        "--cluster", metavar="NAME", required=cluster_required, help="live EKS cluster name"
    )
    group.add_argument("--region", metavar="R", help="AWS region (default: profile/env)")
    group.add_argument("--profile", metavar="P", help="AWS profile (default: AWS_PROFILE)")
    group.add_argument("--context", metavar="CTX", help="kubeconfig context (default: by endpoint)")


def add_probe_args(p: argparse.ArgumentParser) -> None:
    """``--probe/--probe-max/--action``: the opt-in live STS probe (irsa_nb.live.sts_probe)."""
    grp = p.add_argument_group("live probe (opt-in, --cluster only)")
    grp.add_argument(
        "--probe",
        action="store_true",
        help="mint a 10-minute token per target service account (TokenRequest) and call STS "
        "AssumeRoleWithWebIdentity with it; nothing secret is kept",
    )
    grp.add_argument(
        "--probe-max", type=int, default=10, metavar="N", help="probe at most N service accounts"
    )
    add_evidence_args(p)


def add_evidence_args(p: argparse.ArgumentParser) -> None:
    """``--action`` and ``--cloudtrail``: what really happened, opt-in (--cluster only)."""
    grp = p.add_argument_group("what really happened (opt-in, --cluster only)")
    grp.add_argument(
        "--action",
        action="append",
        metavar="ACTION[=RESOURCE]",
        help="simulate this action for the target's role (iam:SimulatePrincipalPolicy), "
        "e.g. s3:GetObject=arn:aws:s3:::bucket/key; repeatable",
    )
    grp.add_argument(
        "--cloudtrail",
        nargs="?",
        const=24,
        type=_hours,
        metavar="HOURS",
        help="read the AssumeRoleWithWebIdentity calls CloudTrail recorded for the target's "
        "roles in the last HOURS (default 24; cloudtrail:LookupEvents)",
    )


def _hours(value: str) -> int:
    """An argparse type: a whole number of hours from 1 to 2160 (CloudTrail keeps 90 days)."""
    from .live.cloudtrail import check_hours

    try:
        return check_hours(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of hours from 1 to 2160, not {value!r}"
        ) from None


def _check_probe_usage(args: argparse.Namespace) -> None:
    """Usage errors of ``--action``: actions that parse (a bundle source is refused by
    :meth:`Source.validate`)."""
    from .live.sts_probe import parse_action

    try:
        for action in getattr(args, "action", None) or ():
            parse_action(action)
    except ValueError as exc:
        raise UsageError(f"irsa-nb: {exc}") from None


def add_exec_args(p: argparse.ArgumentParser, collect: bool = False) -> None:
    """``--exec [target|all]``, ``--exec-timeout``: opt-in in-pod evidence (irsa_nb.live.exec)."""
    grp = p.add_argument_group("in-pod evidence (opt-in, --cluster only; needs pods/exec)")
    if collect:
        grp.add_argument(
            "--exec",
            nargs="?",
            const="all",
            choices=("all",),
            help="run a fixed read-only probe (env, id, token file and claims, ~/.aws, SDK) "
            "in every container of the running IRSA pods",
        )
    else:
        grp.add_argument(
            "--exec",
            nargs="?",
            const="target",
            choices=("target", "all"),
            help="run a fixed read-only probe (env, id, token file and claims, ~/.aws, SDK) in "
            "the target's containers (default) or in every running IRSA pod (all)",
        )
    grp.add_argument(
        "--exec-timeout", type=seconds, metavar="SECONDS", help="per exec command (default 30)"
    )


def _check_exec_usage(args: argparse.Namespace) -> None:
    """Usage error: ``--exec-timeout`` without ``--exec``."""
    if not getattr(args, "exec", None) and getattr(args, "exec_timeout", None) is not None:
        raise UsageError("irsa-nb: --exec-timeout needs --exec")


def source_from(args: argparse.Namespace) -> Source:
    """The :class:`Source` the flags select: exactly one of ``--bundle`` and ``--cluster``."""
    bundle, cluster = getattr(args, "bundle", None), getattr(args, "cluster", None)
    if bundle and cluster:
        raise UsageError("choose one source: --bundle PATH or --cluster NAME, not both")
    if not bundle and not cluster:
        raise UsageError("choose a source: --bundle PATH (or --bundle demo) or --cluster NAME")
    return Source(
        bundle=bundle,
        cluster=cluster,
        region=getattr(args, "region", None),
        profile=getattr(args, "profile", None),
        context=getattr(args, "context", None),
    )


def target_from(args: argparse.Namespace) -> Target:
    ns = getattr(args, "namespace", None)
    if isinstance(ns, list):  # collect: -n NS [NS ...]; a probe targets one namespace
        ns = ns[0] if len(ns) == 1 else None
    return Target(ns, getattr(args, "service_account", None), getattr(args, "pod", None))


def options_from(args: argparse.Namespace) -> Options:
    """The :class:`Options` the flags ask for; usage errors first."""
    _check_probe_usage(args)
    _check_exec_usage(args)
    return Options(
        sdk=parse_sdk(getattr(args, "sdk", None)),
        lang=getattr(args, "lang", None) or "en",
        redact=not getattr(args, "no_redact", False),
        probe=bool(getattr(args, "probe", False)),
        probe_max=getattr(args, "probe_max", 10),
        actions=tuple(getattr(args, "action", None) or ()),
        exec=getattr(args, "exec", None),
        exec_timeout=getattr(args, "exec_timeout", None),
        error_message=getattr(args, "error_message", None),
        cloudtrail_hours=getattr(args, "cloudtrail", None),
    )


def _say(lang: str, key: str, **params: Any) -> str:
    return text.render(lang, ("_cli", key), params)


def format_table(
    df: pd.DataFrame, show_all: bool = False, width: int | None = None, lang: str = "en"
) -> str:
    """Terminal rendering: counts per check, then each FAIL/ERROR/WARN/INFO row (every row
    with ``show_all``) with its detail and how to fix it."""
    width = width or shutil.get_terminal_size((100, 20)).columns
    counts = df["status"].value_counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if s in counts)
    lines = [_say(lang, "results", n=len(df), summary=summary or _say(lang, "nothing")), ""]
    if df.empty:
        return lines[0]
    table = pd.crosstab(df["check_id"], df["status"]).reindex(
        index=list(dict.fromkeys(df["check_id"])), columns=list(STATUSES), fill_value=0
    )
    cw = max(len(c) for c in table.index)
    header = _say(lang, "check")
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in header)  # 2 columns each
    lines.append(
        header + " " * (cw - len(header) - wide + 2) + "  ".join(f"{s:>5}" for s in STATUSES)
    )
    for check_id, row in table.iterrows():
        cells = "  ".join(f"{(n or '.')!s:>5}" for n in row)
        lines.append(f"{check_id:<{cw}}  {cells}")
    shown = df if show_all else df[df["status"].isin(["FAIL", "ERROR", "WARN", "INFO"])]
    wrap = max(width - 6, 40)
    for r in shown.itertuples():
        target = "/".join(x for x in (r.namespace, r.pod or r.service_account) if x)
        target = target.replace("\n", "\\x0a")  # a name cannot start a line of its own
        lines += ["", f"{r.status:<5} {r.check_id}  {target or _say(lang, 'cluster')}"]
        lines += ["      " + ln for ln in textwrap.wrap(r.detail, wrap)]
        if r.remediation and r.status != "PASS":
            lines.append("      " + _say(lang, "fix"))
            lines += ["        " + ln for ln in r.remediation.splitlines()]
    if not show_all and len(shown) < len(df):
        lines += ["", _say(lang, "hidden", n=len(df) - len(shown))]
    return "\n".join(lines)


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` for a terminal: control characters (ESC, CR, ...) shown as ``\\x1b``, so a
    hostile name cannot move the cursor, recolour or retitle the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def emit(df: pd.DataFrame, fmt: str, show_all: bool = False, lang: str = "en") -> None:
    if fmt == "json":
        sys.stdout.write(df.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    else:
        sys.stdout.write(printable(format_table(df, show_all, lang=lang)) + "\n")


def cmd_check(args: argparse.Namespace) -> int:
    options = options_from(args)
    df = run(source_from(args), target_from(args), options).results
    emit(df, args.format, args.all, options.lang)
    return exit_code(verdict(df))


EXIT_UNRECOGNISED = 3


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Exit 0: recognised; 1: a cause is confirmed by a FAILing check; 3: not recognised."""
    from .diagnose import diagnose
    from .diagnose import format_table as format_diagnosis

    words = list(args.text or [])
    if words in ([], ["-"]):
        if not words and sys.stdin.isatty():
            raise UsageError("irsa-nb diagnose: give the error text as an argument, or - for stdin")
        raw = sys.stdin.read()
    else:
        raw = " ".join(words)
    if not raw.strip():
        raise UsageError("irsa-nb diagnose: the error message is empty; paste the error text")
    options = options_from(args)
    normalize_sdk(dict(options.sdk))  # an unknown SDK is bad input even when nothing is checked
    target = target_from(args)
    has_source = args.bundle or getattr(args, "cluster", None)
    inv = source_from(args).open(target, options) if has_source else None
    df = diagnose(raw, inv, **target.as_dict(), sdk=options.sdk, lang=options.lang)
    if args.format == "json":
        sys.stdout.write(df.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(printable(format_diagnosis(df)) + "\n")
    if not df.attrs["recognised"]:
        return EXIT_UNRECOGNISED
    return EXIT_FAIL if any(c is True for c in df["confirmed"]) else EXIT_OK


def cmd_collect(args: argparse.Namespace) -> int:
    from .bundle import CallFailed, check_output, write_documents
    from .live.collect import collect_documents

    check_output(args.out)  # before collecting, not after
    options, target = options_from(args), target_from(args)
    exec_timeout = options.exec_timeout
    docs = collect_documents(
        args.cluster,
        region=args.region,
        profile=args.profile,
        context=args.context,
        namespaces=args.namespace,
        progress=False if args.quiet else None,
        probe=probe_options(target, options),
        exec=exec_target(target, options),
        **({"exec_timeout": exec_timeout} if exec_timeout else {}),
        cloudtrail_hours=options.cloudtrail_hours,
        actions=options.actions,
        service_account=target.service_account,
    )
    out = write_documents(docs, args.out)
    failed = sorted(p for p, d in docs.items() if isinstance(d, CallFailed))
    if not args.quiet:
        print(f"wrote {len(docs)} documents to {out}", file=sys.stderr)
        for path in failed:
            first = docs[path].message.splitlines()[0][:160]
            print(printable(f"  failed: {path}: {first}"), file=sys.stderr)
    return EXIT_OK


def cmd_collect_script(args: argparse.Namespace) -> int:
    from .live.script import collect_script

    sys.stdout.write(
        collect_script(
            args.cluster,
            args.region,
            exec=args.exec,
            namespaces=args.namespace,
            cloudtrail_hours=args.cloudtrail,
            actions=args.action or (),
        )
    )
    return EXIT_OK


def _runbook_source(args: argparse.Namespace) -> Source:
    """The source of ``run``, with a bundle path that exists."""
    from .demo import demo_bundle, is_demo_name

    source = source_from(args)
    if args.bundle and is_demo_name(args.bundle):
        demo_bundle(args.bundle)  # ValueError naming the demos when unknown
    elif args.bundle and not Path(args.bundle).exists():
        raise UsageError(
            f"irsa-nb run: bundle not found: {args.bundle} "
            "(give a bundle directory, .tar.gz or .zip, or 'demo')"
        )
    return source


def _quiet_papermill(debug: bool) -> None:
    """papermill/nbclient log every timeout and dead kernel; the commands report them."""
    if not debug:
        logging.getLogger("papermill").setLevel(logging.CRITICAL)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the runbook notebook into an evidence folder.

    Exit 0: no FAIL; 1: a check is FAIL; 2: bad input or the run did not complete.
    """
    from .runbook import run_runbook

    source = _runbook_source(args)
    options = options_from(args)
    source.validate(options)  # before the kernel starts
    _quiet_papermill(args.debug)
    res = run_runbook(args.out, source, target_from(args), options, timeout=args.timeout)
    if res.status != "ok":
        print(
            f"irsa-nb: error: the runbook {res.status}: {res.error or 'see the notebook'} "
            f"(evidence: {res.folder})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print(printable(format_table(res.results, lang=args.lang)))
    print(
        "\n"
        + _say(args.lang, "verdict", verdict=res.verdict, folder=res.folder, html=res.html.name)
    )
    return res.exit_code


def require_extra(module: str, extra: str, what: str) -> None:
    """A usage error naming the extra to install when ``module`` cannot be imported."""
    if importlib.util.find_spec(module) is None:
        raise UsageError(f"{what} needs the {extra} extra: pip install 'irsa-nb[{extra}]'")


#: What Voila may serve beside the app: images, and the HTML reports "Save evidence" writes.
VOILA_FILES = [r".*\.(png|jpg|gif|svg)", r"(.*/)?evidence/.*\.html"]


def cmd_explorer(args: argparse.Namespace) -> int:
    """Serve the Explorer as a Voila web app from ``--dir`` (its evidence goes there too)."""
    require_extra("voila", "voila", "irsa-nb explorer")
    from .runbook import notebook_path

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    app = folder / EXPLORER
    if not app.exists():  # never overwrite a notebook the user changed
        shutil.copyfile(notebook_path(EXPLORER), app)
    cmd = [sys.executable, "-m", "voila", EXPLORER, f"--port={args.port}"]
    cmd.append(f"--VoilaConfiguration.file_allowlist={VOILA_FILES!r}")
    if args.no_browser:
        cmd.append("--no-browser")
    return subprocess.call(cmd, cwd=folder)


def cmd_batch(args: argparse.Namespace) -> int:
    """Run the runbook for every row of a targets CSV.

    Exit 0: every target ran, no FAIL; 1: a target is FAIL; 2: a target did not complete.
    """
    from .batch import batch_exit_code, normalize_targets, run_batch

    path = Path(args.targets)
    if not path.is_file():
        raise UsageError(f"irsa-nb batch: targets file not found: {args.targets}")
    try:
        targets = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UsageError(f"irsa-nb batch: cannot read {args.targets}: {exc}") from None
    if args.lang:
        cells = targets["lang"] if "lang" in targets else pd.Series("", index=targets.index)
        targets["lang"] = cells.where(cells != "", args.lang)
    normalize_targets(targets)  # ValueError (one line) before anything runs
    if args.workers < 1:
        raise UsageError("irsa-nb batch: --workers must be at least 1")
    _quiet_papermill(args.debug)
    client = None
    executor = None
    if args.executor == "dask":
        if not args.scheduler:
            raise UsageError("irsa-nb batch: --executor dask needs --scheduler ADDR")
        require_extra("distributed", "dask", "irsa-nb batch: --executor dask")
        from distributed import Client

        client = Client(args.scheduler)
        executor = client.get_executor()
    try:
        index = run_batch(
            targets,
            args.out,
            workers=args.workers,
            executor=executor,
            resume=args.resume,
            timeout=args.timeout,
        )
    finally:
        if client is not None:
            client.close()
    by_status = index["status"].value_counts()
    fails = int((index["verdict"] == "FAIL").sum())
    summary = ", ".join(f"{n} {s}" for s, n in by_status.items())
    print(
        f"{len(index)} targets: {summary}; {fails} with FAIL; index: {Path(args.out) / 'index.csv'}"
    )
    return batch_exit_code(index)


#: The exit statuses of check, run and batch (irsa_nb.pipeline.exit_code), for --help.
EXIT_HELP = (
    "exit status: 0 every row PASS/INFO/SKIP/WARN; 1 a row is FAIL; 2 bad input or usage "
    "(or a run that did not complete); 3 could not check: ERROR rows (a document that could "
    "not be read, an AccessDenied) and no FAIL. FAIL (1) outranks 3."
)
BATCH_EXIT_HELP = (
    "exit status, the worst over the targets: 2 a target did not run to the end; else 1 a "
    "verdict is FAIL; else 3 a verdict is ERROR (could not check); else 0."
)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="irsa-nb", description="Troubleshoot IRSA on Amazon EKS.")
    parser.add_argument("--version", action="version", version=f"irsa-nb {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("check", help="run the IRSA checks and print the results", epilog=EXIT_HELP)
    add_target_args(p)
    add_probe_args(p)
    add_exec_args(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--all", action="store_true", help="table: list PASS and SKIP rows too")
    p.add_argument("--no-redact", action="store_true", help="do not mask secrets in the output")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "diagnose",
        help="explain an error message: likely causes, the checks that decide them, the fix",
    )
    p.add_argument("text", nargs="*", metavar="TEXT", help="the error text, or - to read stdin")
    add_target_args(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser("collect", help="collect a live cluster into an evidence bundle")
    add_live_args(p, cluster_required=True)
    p.add_argument(
        "--namespace", "-n", metavar="NS", nargs="+", action="extend", help="only these namespaces"
    )
    p.add_argument("--out", required=True, metavar="DIR|FILE.tar.gz", help="bundle to write")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    add_probe_args(p)
    p.add_argument(
        "--service-account", "-s", metavar="SA", help="with --probe: probe only this one"
    )
    add_exec_args(p, collect=True)
    p.set_defaults(func=cmd_collect, bundle=None)

    p = sub.add_parser(
        "collect-script",
        help="print a POSIX sh script (aws, kubectl, openssl) that writes a bundle",
    )
    p.add_argument(
        "--cluster", metavar="NAME", help="cluster name (default: the script's first argument)"
    )
    p.add_argument("--region", metavar="R", help="AWS region (default: the AWS CLI's)")
    p.add_argument(
        "--exec",
        action="store_true",
        help="also run the in-pod probe with kubectl exec (needs pods/exec; else set IRSA_EXEC=1)",
    )
    p.add_argument(
        "--namespace",
        "-n",
        metavar="NS",
        nargs="+",
        action="extend",
        help="only these namespaces (the script's default for IRSA_NAMESPACES)",
    )
    add_evidence_args(p)
    p.set_defaults(func=cmd_collect_script)

    p = sub.add_parser(
        "run",
        help="run the runbook notebook and save an evidence folder (ipynb, html, results)",
        epilog=EXIT_HELP,
    )
    add_target_args(p)
    p.add_argument("--out", required=True, metavar="DIR", help="evidence folder to write")
    p.add_argument(
        "--timeout",
        type=seconds,
        default=600,
        metavar="SECONDS",
        help="budget for starting the kernel and running the cells",
    )
    p.add_argument("--error-message", metavar="TEXT", help="the error the application reported")
    p.add_argument("--no-redact", action="store_true", help="do not mask secrets (not for sharing)")
    p.add_argument(
        "--probe",
        action="store_true",
        help="live only: mint a 10-minute token for the target and call STS with it (opt-in)",
    )
    add_evidence_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "batch", help="run the runbook for every target of a CSV file", epilog=BATCH_EXIT_HELP
    )
    p.add_argument(
        "--targets",
        required=True,
        metavar="CSV",
        help="columns: runbook parameters (bundle, cluster, namespace, service_account, "
        "pod, sdk, lang, ...)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="one evidence folder per target")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="parallel runs (local)")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", metavar="ADDR", help="dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--resume", action="store_true", help="skip targets that already completed")
    p.add_argument(
        "--timeout",
        type=seconds,
        default=600,
        metavar="SECONDS",
        help="the same budget, per target",
    )
    p.add_argument(
        "--lang", choices=text.LANGUAGES, help="text language of rows without a lang (default en)"
    )
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("explorer", help="serve the Explorer as a web app (needs irsa-nb[voila])")
    p.add_argument("--dir", default=".", help="where the app's notebook and evidence live")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=cmd_explorer)
    return parser


def _as_shown(record: logging.LogRecord) -> bool:
    """A log line as the terminal may show it: secrets masked (the kubernetes client logs
    what a failing credential plugin printed), control characters escaped."""
    record.msg, record.args = printable(mask_text(record.getMessage())[0]), ()
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``irsa-nb`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_as_shown)
    try:
        args = build_parser().parse_args(argv)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except BrokenPipeError:  # `irsa-nb check ... | head`: stop quietly, as SIGPIPE would
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except (UsageError, BundleError, TargetNotFound, ValueError, OSError) as exc:
        if debug:
            raise
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        prefix = "" if isinstance(exc, UsageError) else "irsa-nb: error: "
        print(printable(mask_text(f"{prefix}{msg}")[0]), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("irsa-nb: interrupted", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug: still one line, but say how to see more
        if debug:
            raise
        msg = f"irsa-nb: internal error: {type(exc).__name__}: {exc} (re-run with --debug)"
        print(printable(msg), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
