"""The ``backstride`` command.

Each layer contributes its subcommands through a ``register(subparsers)``
function in its own ``cli`` module (listed in :data:`COMMAND_MODULES`); a
module that is missing or fails to import does not break the others.
Subcommand handlers take the parsed ``argparse.Namespace`` and return an exit
code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

#: Modules that add subcommands; each has ``register(subparsers) -> None``.
COMMAND_MODULES = (
    "analysis.cli",
    "sensing.record_cli",
    "journal.cli",
    "dashboard.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backstride",
        description="Running form and posture from a clip-on motion sensor.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of a pipe left (`backstride analyse ... | head`): stop quietly, as other commands do; stdout
        # points at devnull so Python's flush at exit does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command cut off by its pipe


if __name__ == "__main__":
    sys.exit(main())
