"""``python -m detector <command>``: the command-line entry point.

Each command lives in a module ``detector.cli_<name>`` exposing ``add_parser(subparsers)`` and
``run(args) -> int``; :data:`SUBCOMMANDS` lists them and :func:`build_parser` imports the ones
that exist (so other modules can add commands without touching this file). Command modules import
their heavy dependencies inside ``run`` so that ``--help`` stays instant.

Errors the user can fix (bad file, bad option, missing model) print one line ``error: ...`` on
stderr and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS = ["detect", "evaluate", "corpus", "train", "transfer", "experiment"]
EXIT_USAGE = 2


def available_commands() -> dict[str, object]:
    """``{name: module}`` for every entry of :data:`SUBCOMMANDS` whose module exists."""
    modules = {}
    for name in SUBCOMMANDS:
        module_name = f"detector.cli_{name}"
        try:
            modules[name] = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m detector",
        description="Singing-voice detection: find where someone sings in songs, and score it.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in available_commands().items():
        module.add_parser(subparsers)
        subparsers.choices[name].set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from detector.errors import DetectorError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except DetectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
