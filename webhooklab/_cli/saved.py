"""Named payloads: `webhooklab send ... --save NAME` keeps what to send in a JSON file, `send --name NAME` sends it
again (re-signed, with a fresh timestamp and delivery id) and `webhooklab payloads` lists them.

A saved payload holds the provider, the event type, the --override and --add values or the --body, and
the --header values; never the secret nor --to, which are given each time it is sent.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

from .._errors import WebhooklabError
from .common import ArgumentError, add_command

FOLDER = "webhooklab-payloads"
ENVIRONMENT = "WEBHOOKLAB_PAYLOADS"
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
LISTS = ("override", "add", "headers")  # each a list of the strings given on the command line


def add(commands) -> None:
    payloads = add_command(
        commands, "payloads", "list the payloads saved with `webhooklab send --save NAME`",
        "List the named payloads of the payloads folder, and how each is sent.",
        ["webhooklab payloads", "webhooklab payloads --payloads ~/webhooks/payloads"],
    )  # fmt: skip
    add_folder_option(payloads)
    payloads.set_defaults(command="payloads", run=payloads_command)


def add_folder_option(parser) -> None:
    parser.add_argument("--payloads", metavar="DIR",
                        help=f"the folder of saved payloads (default: ${ENVIRONMENT}, or ./{FOLDER})")  # fmt: skip


def folder(given: str | None) -> Path:
    return Path(given or os.environ.get(ENVIRONMENT) or FOLDER).expanduser()


def checked(name: str, option: str) -> str:
    """A payload's name: letters, digits, - and _, so it is a file name in the folder and never a path."""
    if not NAME.fullmatch(name):
        raise ArgumentError(f"{option} {name!r}: a payload's name is 1 to 64 letters, digits, - and _, such as "
                            "big-refund (no dots, slashes or spaces: it names a file in the payloads folder)")
    return name


def save(where: Path, name: str, recipe: dict) -> Path:
    """Write `recipe` as NAME.json in the folder (made if missing); returns the file."""
    file = where / f"{checked(name, '--save')}.json"
    body = recipe.pop("body", None)
    if body is not None:
        try:
            recipe["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            recipe["body_base64"] = base64.b64encode(body).decode("ascii")
    try:
        where.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(recipe, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise WebhooklabError(f"cannot save {file}: {error.strerror or error}; pass --payloads DIR for a folder "
                              "you can write to") from None  # fmt: skip
    return file


def load(where: Path, name: str) -> dict:
    """The recipe saved as NAME, with its body as bytes (None when it has none)."""
    file = where / f"{checked(name, '--name')}.json"
    try:
        recipe = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in where.glob("*.json"))) or "none"
        raise ArgumentError(f"--name {name}: no payload of that name in {where} (saved: {known}). Save one with "
                            f"`webhooklab send PROVIDER EVENT_TYPE ... --save {name}`, or pass --payloads DIR") from None
    except (OSError, ValueError) as error:
        raise WebhooklabError(f"cannot read the saved payload {file}: {error}; it should be the JSON that "
                              "`webhooklab send --save` writes") from None  # fmt: skip
    lists = isinstance(recipe, dict) and all(
        isinstance(recipe.setdefault(key, []), list) and all(isinstance(v, str) for v in recipe[key]) for key in LISTS)
    if not (lists and isinstance(recipe.get("provider"), str) and isinstance(recipe.get("event_type"), (str, type(None)))
            and isinstance(recipe.get("body", ""), str) and isinstance(recipe.get("body_base64", ""), str)):
        raise WebhooklabError(f"{file} is not a saved payload: it should be a JSON object with its provider, its "
                              f"event type and lists of text for {', '.join(LISTS)}, as `webhooklab send --save` "
                              "writes")  # fmt: skip
    if "body_base64" in recipe:
        try:
            recipe["body"] = base64.b64decode(recipe.pop("body_base64"), validate=True)
        except ValueError:
            raise WebhooklabError(f"{file}: body_base64 is not base64; save the payload again with --save") from None
    elif isinstance(recipe.get("body"), str):
        recipe["body"] = recipe["body"].encode("utf-8")
    return recipe


def payloads_command(args, extra) -> int:
    where = folder(args.payloads)
    files = sorted(where.glob("*.json"))
    if not files:
        print(f"no saved payloads in {where}: `webhooklab send stripe payment_intent.succeeded --override "
              "amount=5000 --save big-payment` saves one")  # fmt: skip
        return 0
    for file in files:
        try:
            recipe = load(where, file.stem)
        except WebhooklabError as error:
            print(f"{file.stem:<20} (unreadable: {error})")
            continue
        changes = [*(f"--override {v}" for v in recipe["override"]), *(f"--add {v}" for v in recipe["add"]),
                   *(f"--header '{v}'" for v in recipe["headers"])]  # fmt: skip
        body = f" with its own body of {len(recipe['body'])} bytes" if recipe.get("body") is not None else ""
        print(f"{file.stem:<20} {recipe['provider']} {recipe.get('event_type') or ''}{body} {' '.join(changes)}".rstrip())
    print(f"\nsend one with: webhooklab send --name NAME [--to URL] [--secret SECRET]   (from {where})")
    return 0
