"""`webhooklab send`: one signed webhook, like `stripe trigger`: a template changed at will, or any body, or a
payload saved by name, signed as the provider signs it."""

from __future__ import annotations

from .._providers import PROVIDERS
from .common import DEFAULT_URL, ArgumentError, add_command, reading_arguments
from .payload import Signer, build, header_pairs, read_body
from .saved import add_folder_option, checked, folder, load, save

EXAMPLES = [
    "webhooklab send stripe payment_intent.succeeded --secret whsec_demo",
    "webhooklab send stripe payment_intent.succeeded --override data.object.amount=5000 --add data.object.metadata.order_id=A1",
    "webhooklab send shopify orders/create --override line_items.0.quantity=3 --header 'X-Shopify-Shop-Domain: a.com'",
    "webhooklab send stripe invoice.created --body invoice.json --to http://127.0.0.1:5000/webhooks",
    "cat event.json | webhooklab send github push --body -",
    "webhooklab send stripe charge.refunded --override amount=100 --save small-refund   # saves it, and sends it",
    "webhooklab send --name small-refund --secret whsec_demo                           # sends it again",
]


def add(commands) -> None:
    send = add_command(
        commands, "send", "send a signed, realistic webhook, like `stripe trigger`",
        "Send one webhook the way the provider does: a realistic template of the event type with fresh ids "
        "and timestamps (change any field with --override, add one with --add), or your own --body; extra "
        "--header values; all signed with the provider's scheme. --save NAME keeps what you sent, and "
        "--name NAME sends it again, re-signed with a fresh timestamp and delivery id (`webhooklab payloads` "
        "lists them). Exits 1 unless the receiver answers 2xx.",
        EXAMPLES,
    )  # fmt: skip
    send.add_argument("provider", nargs="?", choices=sorted(PROVIDERS), help="who sends it")
    send.add_argument("event_type", nargs="?", help="for example payment_intent.succeeded (see --list); "
                      "with --body, any event type")  # fmt: skip
    send.add_argument("--list", action="store_true", help="list every provider's event types")
    send.add_argument("--to", help=f"where to POST (default: {DEFAULT_URL}/hooks/<provider>)")
    send.add_argument("--secret", help="signing secret (default: a new random one, printed masked)")
    send.add_argument("--override", "--set", dest="override", action="append", default=[], metavar="PATH=VALUE",
                      help="change a field of the template: amount=5000, data.object.amount=5000, items.0.qty=2 "
                      "(VALUE is read as JSON when it parses; repeatable)")  # fmt: skip
    send.add_argument("--add", action="append", default=[], metavar="PATH=VALUE",
                      help="add a field the template does not have, such as metadata.order_id=A1 (repeatable)")
    send.add_argument("--body", metavar="FILE", help="send this file's exact bytes as the body (- reads standard "
                      "input), signed as the provider signs; instead of a template")  # fmt: skip
    send.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                      help="add or replace a header (repeatable); one the scheme signs, such as webhook-id, "
                      "is signed with the value given")  # fmt: skip
    send.add_argument("--save", metavar="NAME", help="also keep this payload under NAME in the payloads folder")
    send.add_argument("--name", metavar="NAME", help="send the payload saved as NAME (with --override, --add and "
                      "--header added to it)")  # fmt: skip
    add_folder_option(send)
    send.add_argument("--show", action="store_true", help="print the headers and body that go on the wire")
    send.add_argument("--retry", action="store_true", help="retry on the provider's schedule until delivered")
    send.add_argument("--virtual-time", action="store_true", help="with --retry: jump over the waits")
    send.set_defaults(command="send", run=send_command)


def send_command(args, extra) -> int:
    if args.list:
        for name, provider in PROVIDERS.items():
            print(f"{name}: {', '.join(provider.event_types())}")
        return 0
    with reading_arguments():
        recipe = what_to_send(args)
        event, signer = prepare(recipe, args.secret)
        if args.save:
            file = save(folder(args.payloads), args.save, dict(recipe))
            print(f"saved as {args.save} in {file.parent}: `webhooklab send --name {args.save}` sends it again")
        if not args.secret:
            print(f"signing with a new random secret {signer.provider!r}; pass --secret to choose it")
        to = args.to or f"{DEFAULT_URL}/hooks/{recipe['provider']}"
        signer = signer.at(to)  # a scheme that signs the URL (Twilio's) signs this one
        signed = signer.sign(event)
    if args.show:
        body, headers = signed
        print("\n".join(f"{name}: {value}" for name, value in headers.items()) + "\n")
        print(body.decode("utf-8", "replace"))
    if args.retry:
        return retried(signer, event, to, args.virtual_time)
    from .._sending.delivery import post

    attempt = post(to, *signed, timeout=signer.timeout)  # the request --show printed
    print(f"POST {attempt.url} -> {attempt.status or attempt.error} in {attempt.elapsed * 1000:.1f} ms")
    if attempt.response_body:
        print(attempt.response_body.decode("utf-8", "replace"))
    return 0 if attempt.ok else 1


def what_to_send(args) -> dict:
    """The recipe: the saved one named by --name, with this command line's changes after its own."""
    if args.save:
        checked(args.save, "--save")
    recipe = {"provider": None, "event_type": None, "override": [], "add": [], "headers": [], "body": None}
    if args.name:
        if args.provider or args.event_type:
            raise ArgumentError(f"--name {args.name} sends a saved payload, which names its provider and event type: "
                                f"leave out {' '.join(filter(None, [args.provider, args.event_type]))}")  # fmt: skip
        recipe.update(load(folder(args.payloads), args.name))
    else:
        if not args.provider:
            raise ArgumentError("say who sends what, such as `webhooklab send stripe payment_intent.succeeded` "
                                "(--list shows all), or `--name NAME` for a saved payload")  # fmt: skip
        recipe.update(provider=args.provider, event_type=args.event_type)
    recipe["override"] = [*recipe["override"], *args.override]
    recipe["add"] = [*recipe["add"], *args.add]
    recipe["headers"] = [*recipe["headers"], *args.header]
    if args.body is not None:
        recipe["body"] = read_body(args.body)
    if recipe["body"] is not None and (recipe["override"] or recipe["add"]):
        raise ArgumentError("--body is sent exactly as it is, so --override and --add cannot change it: edit the "
                            "file, or leave --body out to start from the provider's template")  # fmt: skip
    if recipe["body"] is None and not recipe["event_type"]:
        raise ArgumentError(f"say which event {recipe['provider']} sends, such as `webhooklab send {recipe['provider']} "
                            f"{min(PROVIDERS[recipe['provider']].event_types(), default='ping')}` (--list shows all), "
                            "or give your own --body FILE")  # fmt: skip
    if recipe["provider"] not in PROVIDERS:
        raise ArgumentError(f"the saved payload names the provider {recipe['provider']!r}, which this webhooklab does "
                            f"not have: one of {', '.join(sorted(PROVIDERS))}")  # fmt: skip
    return recipe


def prepare(recipe: dict, secret: str | None):
    """(the event or body, a Signer of the provider with the --header values)."""
    provider = PROVIDERS[recipe["provider"]](secret)  # a secret this scheme cannot use is a UsageError
    if recipe["body"] is not None:
        event = recipe["body"]
    else:
        event = build(provider, recipe["event_type"], recipe["override"], recipe["add"])
    return event, Signer(provider, header_pairs(recipe["headers"]), recipe["event_type"])


def retried(signer: Signer, event, to: str, virtual: bool) -> int:
    """Delivered on the provider's schedule, each attempt printed as it ends; 0 once one is accepted."""
    from .._sending.clock import RealClock, VirtualClock
    from .._sending.timeline import duration

    def printed(delivery, row: dict) -> None:
        print(f"attempt {row['attempt']} at +{duration(row['offset'])}: {row['outcome']}", flush=True)

    print(signer.policy_for(event))
    delivery = signer.delivery_class(signer, event, to, clock=VirtualClock() if virtual else RealClock(),
                                     on_attempt=printed)  # fmt: skip
    delivery.run()
    print(f"{delivery.status} after {len(delivery.log)} attempt(s)")
    return 0 if delivery.status == "delivered" else 1
