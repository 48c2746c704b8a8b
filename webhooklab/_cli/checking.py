"""`webhooklab verify`, `schedule` and `schemes`: check a signature step by step, read the providers' rules."""

from __future__ import annotations

import base64
import json

from .._checks import key_value
from .._errors import WebhooklabError
from .._providers import PROVIDERS
from .._providers.base import Provider
from .common import DEFAULT_URL, ArgumentError, add_command, get_json, reading_arguments


def add(commands) -> None:
    schedule = add_command(
        commands, "schedule", "print a provider's retry schedule",
        "Print when a provider retries a delivery that failed: each attempt's wait, and when it gives up.",
        ["webhooklab schedule stripe", "webhooklab schedule stripe --test-mode", "webhooklab schedule shopify"],
    )  # fmt: skip
    schedule.add_argument("provider", choices=sorted(PROVIDERS))
    schedule.add_argument("--test-mode", action="store_true", help="Stripe's test-mode schedule")
    schedule.set_defaults(command="schedule", run=schedule_command)

    from .._providers.schemes import command as schemes_command

    schemes = add_command(
        commands, "schemes", "compare every provider's signature scheme side by side",
        "Print each provider's signature scheme: its header, the algorithm, what it signs, how long a "
        "signature is good for and what stops a replay.",
        ["webhooklab schemes", "webhooklab schemes | less"],
    )  # fmt: skip
    schemes.set_defaults(command="schemes", run=schemes_command)

    verify = add_command(
        commands, "verify", "check a captured event's signature and explain each step",
        "Check a webhook's signature with a secret, and print each step of the check: what was signed, the "
        "signature expected, the one that came, the timestamp's age. Exits 1 when the signature is not valid.",
        ["webhooklab verify stripe --secret whsec_demo --id 1",
         "webhooklab verify github --secret s3cret --file body.json --header 'X-Hub-Signature-256: sha256=...'",
         "webhooklab verify twilio --secret AUTH_TOKEN --id 3 --signed-url https://abc.example.com/hooks/sms"],
    )  # fmt: skip
    verify.add_argument("provider", choices=sorted(PROVIDERS), help="whose scheme to check with")
    verify.add_argument("--secret", required=True, action="append", help="signing secret (repeat to rotate)")
    what = verify.add_mutually_exclusive_group(required=True)
    what.add_argument("--id", type=int, help="an event id at the receiver given by --url")
    what.add_argument("--file", help="a body file; or an event exported from /api/events/<id> as JSON")
    verify.add_argument("--url", default=DEFAULT_URL, help="the receiver holding --id (default: %(default)s)")
    verify.add_argument("--signed-url", metavar="URL",
                        help="for a scheme that signs the URL (twilio): the exact URL the provider requested, with "
                        "its query, such as a tunnel's (default with --id: the URL the event reached)")  # fmt: skip
    verify.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="with a body --file")
    verify.add_argument("--tolerance", type=float, help="seconds a timestamp may be old (default: the provider's "
                        "window: 300 for Stripe, Slack and Standard Webhooks)")  # fmt: skip
    verify.set_defaults(command="verify", run=verify_command)


def schedule_command(args, extra) -> int:
    provider = PROVIDERS[args.provider]()
    policy = provider.policy_for({"livemode": not args.test_mode})
    print(policy)
    print(policy.schedule().drop(columns="seconds").to_string())
    return 0


def signs_the_url(provider: Provider) -> bool:
    """Whether the scheme covers the URL requested (Twilio's): such a provider binds itself to a URL with at()."""
    return type(provider).at is not Provider.at


def verify_command(args, extra) -> int:
    if args.id is not None:
        record = get_json(f"{args.url.rstrip('/')}/api/events/{args.id}")
        body, headers = base64.b64decode(record["body_base64"]), record["headers"]
    else:
        try:
            with open(args.file, "rb") as file:
                body = file.read()
        except OSError as error:
            raise WebhooklabError(f"cannot read --file {args.file}: {error.strerror or error}") from None
        with reading_arguments():
            headers = [key_value(item, "--header 'NAME: VALUE'", ":") for item in args.header]
        record = exported(body)
        if record:
            body, headers = base64.b64decode(record["body_base64"]), record["headers"]
    with reading_arguments():
        provider = PROVIDERS[args.provider](args.secret)
        url = signed_url(provider, args, record)
        if url is not None:
            provider = provider.at(url)
    window = {} if args.tolerance is None else {"tolerance": args.tolerance}  # the provider's own window by default
    explanation = provider.explain(body, headers, **window)
    print(explanation)
    return 0 if explanation.ok else 1


def signed_url(provider: Provider, args, record: dict | None) -> str | None:
    """The URL a scheme that signs it is checked against: --signed-url, else the one an event --id reached."""
    if not signs_the_url(provider):
        if args.signed_url:
            raise ArgumentError(f"--signed-url is for a scheme that signs the URL, such as twilio's; {provider.title} "
                                f"signs {provider.signs}, so leave --signed-url out")  # fmt: skip
        return None
    if args.signed_url:
        return args.signed_url
    if args.id is not None:
        query = record.get("query") or ""
        return f"{args.url.rstrip('/')}{record['path']}" + (f"?{query}" if query else "")
    raise ArgumentError(
        f"{provider.title} signs the URL it requested along with the body, and a --file has no URL: pass "
        f"--signed-url with the exact URL {provider.title} POSTed to, query string included, such as "
        "https://abc.example.com/hooks/sms?from=app (a tunnel's URL, when one forwarded the request)"
    )


def exported(data: bytes) -> dict | None:
    """An event exported from /api/events/<id>, or None when the file is a plain body."""
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) and {"body_base64", "headers"} <= record.keys() else None
