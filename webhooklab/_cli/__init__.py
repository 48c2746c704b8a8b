"""The `webhooklab` command: serve a receiver, send and check webhooks, open the workshop, run a class.

One module per group of commands, each adding its own to the parser:
common.py (defaults, help layout, errors in the command line's words), receiver.py (serve, events,
import), sending.py (send) with payload.py (what it sends: overrides, a body, headers, signed) and
saved.py (named payloads, `webhooklab payloads`), checking.py (verify, schedule, schemes), lab.py
(lab: JupyterLab as a child process), demo.py (demo: the glossary demos, served by Voilà) and classroom.py (classroom, classroom send, relay).
"""

from __future__ import annotations

import argparse
import sys

from .._errors import WebhooklabError
from .._version import __version__
from . import checking, classroom, demo, lab, receiver, saved, sending
from .common import ArgumentError, in_cli_words

EPILOG = """examples:
  webhooklab serve                                   a receiver on http://127.0.0.1:8787
  webhooklab send stripe payment_intent.succeeded    a signed webhook to it
  webhooklab events                                  what it captured
  webhooklab COMMAND --help                          each command's options and examples

exit status:
  0  done: the command did what it says (sent and answered 2xx, a signature valid, a server stopped by Ctrl-C)
  1  the work failed: a receiver not reachable, a delivery not accepted, a signature not valid, a file unreadable
  2  a usage error: no command, an unknown command or option, or a value the command cannot use
"""


def main(argv: list[str] | None = None) -> int:
    parser = build()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.error("say which command to run, such as `webhooklab serve` (`webhooklab --help` lists the commands)")
    if extra and args.command != "lab":  # lab passes the options it does not know on to JupyterLab
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.run(args, extra)
    except ArgumentError as error:
        print(f"webhooklab {args.command}: error: {in_cli_words(str(error))}", file=sys.stderr)
        print(f"(`webhooklab {args.command} --help` shows its options and examples)", file=sys.stderr)
        return 2
    except WebhooklabError as error:
        print(f"webhooklab: {in_cli_words(str(error))}", file=sys.stderr)
        return 1


def build() -> argparse.ArgumentParser:
    """The whole command line: each module adds its commands, in the order the help lists them."""
    parser = argparse.ArgumentParser(prog="webhooklab", description="Learn how webhooks work by running them.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--version", action="version", version=f"webhooklab {__version__}")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (receiver, sending, saved, checking, lab, demo, classroom):
        module.add(commands)
    return parser
