"""What every command of the `webhooklab` command line shares: its defaults, its help layout, its errors."""

from __future__ import annotations

import argparse
import re
from contextlib import contextmanager

from .._errors import UsageError, WebhooklabError

DEFAULT_PORT = 8787  # fixed for the command line, so `serve` and `events` find each other
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"

# The library speaks to Python callers (port=0, db='x'); at the command line the same values are flags.
API_WORDS = [
    (re.compile(r"\b\w+\(host=('[^']*'), port=(\d+)\)"), r"--host \1 --port \2"),
    (re.compile(r"(?<![\w-])port=(\d+)"), r"--port \1"),
    (re.compile(r"(?<![\w-])db=(?=')"), "--db "),
    (re.compile(r"(?<![\w-])db= "), "--db "),
    (re.compile(r"(?<![\w-])max_body="), "--max-body "),
    (re.compile(r"(?<![\w-])secrets=\{[^}]*\}"), "--secret ENDPOINT=SECRET"),
    (re.compile(r"with Path\(('[^']*')\)\.mkdir\(parents=True\)"), r"with `mkdir -p \1`"),
    (re.compile(r"\b\w+\(\) with no secret makes one"), "Leave --secret out to sign with a new one"),
    (re.compile(r"another Receiver\b"), "another webhooklab receiver"),
    (re.compile(r"Sign with StandardWebhooks\(secret_key\) from keypair\(\)"), "Sign with --secret whsk_..., the pair's "
     "secret key (in Python, webhooklab.keypair() makes a pair)"),
]


class ArgumentError(UsageError):
    """A value on the command line that the command cannot use: exit status 2, as argparse's own errors."""


def in_cli_words(message: str) -> str:
    """A library message as the command line says it: flags where the library names Python arguments."""
    for pattern, replacement in API_WORDS:
        message = pattern.sub(replacement, message)
    return message


@contextmanager
def reading_arguments():
    """Within it, a UsageError is about what the command line gave: an ArgumentError, so the command exits 2."""
    try:
        yield
    except ArgumentError:
        raise
    except UsageError as error:
        raise ArgumentError(str(error)) from None


def add_command(commands, name: str, summary: str, description: str, examples: list[str], **options):
    """A subcommand whose --help says what it does and shows how it is run."""
    lines = "\n".join(f"  {line}" for line in examples)
    return commands.add_parser(name, help=summary, description=description, epilog=f"examples:\n{lines}",
                               formatter_class=argparse.RawDescriptionHelpFormatter, **options)  # fmt: skip


def get_json(url: str, params: dict | None = None) -> dict:
    """One GET to a receiver's API: its JSON object, or a WebhooklabError that says what to start or pass."""
    import requests

    try:
        reply = requests.get(url, params=params, timeout=10)
    except requests.RequestException as error:
        raise WebhooklabError(
            f"could not reach {url}: {error.__class__.__name__}. Is `webhooklab serve` running there? "
            "Start it, or pass --url for another receiver (or --db / --file to read a file)"
        ) from None
    try:
        answer = reply.json()
    except ValueError:
        answer = None
    if reply.status_code != 200:
        said = answer.get("error") if isinstance(answer, dict) else None
        raise WebhooklabError(f"{url} answered {reply.status_code}: {said or ' '.join(reply.text.split())[:200]}")
    if not isinstance(answer, dict):
        raise WebhooklabError(f"{url} answered, but not with a webhooklab receiver's JSON: is --url a receiver "
                              "started by `webhooklab serve`?")  # fmt: skip
    return answer
