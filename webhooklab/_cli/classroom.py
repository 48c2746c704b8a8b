"""`webhooklab classroom` (and `classroom send`) and `relay`: a class server, and a learner's bin relayed home."""

from __future__ import annotations

from .._providers import PROVIDERS
from .common import add_command, reading_arguments


def add(commands) -> None:
    relay = add_command(
        commands, "relay", "forward every request that reaches your class bin to a program on this machine",
        "Like stripe listen --forward-to: this machine opens the connection (no inbound port needed), each "
        "request that reaches the bin is sent to the local URL exactly as it arrived, and the local answer goes "
        "back to the sender. Stop with Ctrl-C.",
        ["webhooklab relay http://192.168.1.20:8000/b/TOKEN/ --forward-to http://127.0.0.1:5000/webhooks",
         "webhooklab relay BIN_URL --forward-to shop=http://127.0.0.1:5000/shop "
         "--forward-to 'type:payment_intent.*=http://127.0.0.1:5000/pay'"],
    )  # fmt: skip
    relay.add_argument("bin_url", metavar="BIN_URL", help="your bin's URL, from the handout")
    relay.add_argument("--forward-to", action="append", required=True, metavar="[ENDPOINT=|type:PATTERN=]URL",
                       help="where requests go: a URL for all of them, ENDPOINT=URL for one endpoint of the bin, "
                       "type:payment_intent.*=URL for event types (repeatable; the first that matches wins)")  # fmt: skip
    relay.set_defaults(command="relay", run=relay_command)

    classroom = add_command(
        commands, "classroom", "run a class server: a private bin per learner, a dashboard, a handout",
        "Serve one bin per learner and your dashboard from this machine. Tokens and signing secrets are made "
        "here and kept in files of --dir (0600), never taken from the command line; starting again with the "
        "same --dir keeps everything. While it runs, `webhooklab classroom send` delivers to every bin.",
        ["webhooklab classroom --students 30", "webhooklab classroom --roster names.txt --port 8000",
         "webhooklab classroom send stripe payment_intent.succeeded    # from a second terminal"],
    )  # fmt: skip
    who = classroom.add_mutually_exclusive_group()
    who.add_argument("--students", type=int, metavar="N", help="N learners, named learner-01, learner-02, ...")
    who.add_argument("--roster", metavar="FILE", help="a text file with one learner's name a line")
    classroom.add_argument("--host", default="0.0.0.0", help="address to listen on (default: %(default)s, every network)")
    classroom.add_argument("--port", type=int, default=8000, help="0 picks a free port (default: %(default)s)")
    classroom.add_argument("--dir", default="webhooklab-class", help="the class folder (default: ./%(default)s)")
    classroom.add_argument("--quota-mb", type=int, default=100, metavar="MB",
                           help="bodies each bin may keep, in MB (default: %(default)s)")  # fmt: skip
    classroom.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                           help="also answer when learners reach this machine by NAME, e.g. teacher.local (repeatable)")
    classroom.set_defaults(command="classroom", run=classroom_command)
    during = classroom.add_subparsers(title="while the class runs", metavar="ACTION")
    broadcast = add_command(
        during, "send", "be the provider: deliver one event to every learner's bin, with its retries",
        "Deliver one event from a provider to every learner's bin of the running class (or one learner's), "
        "each signed with that learner's own secret and retried on the provider's schedule, replayed in "
        "seconds. Prints each learner's outcome as it ends; your dashboard shows every attempt. Exits 1 "
        "unless every copy is delivered.",
        ["webhooklab classroom send stripe payment_intent.succeeded",
         "webhooklab classroom send github push --learner learner-02 --endpoint gh --replay 30"],
    )  # fmt: skip
    broadcast.add_argument("provider", choices=sorted(PROVIDERS), help="who sends it")
    broadcast.add_argument("event_type", help="for example payment_intent.succeeded (`webhooklab send --list`)")
    broadcast.add_argument("--dir", default="webhooklab-class", help="the running class's folder (default: ./%(default)s)")
    broadcast.add_argument("--endpoint", help="the endpoint of each bin it goes to (default: shop)")
    broadcast.add_argument("--learner", metavar="NAME", help="only this learner's bin (default: everyone's)")
    broadcast.add_argument("--replay", type=float, metavar="SECONDS",
                           help="how long the whole retry schedule takes, replayed (default: 10)")  # fmt: skip
    broadcast.set_defaults(command="classroom send", run=classroom_send_command)


def relay_command(args, extra) -> int:
    from .._receiving.relay import run

    with reading_arguments():  # what it checks before it connects is the bin URL and each --forward-to
        return run(args.bin_url, args.forward_to)


def classroom_command(args, extra) -> int:
    from .._classroom import run

    return run(args)


def classroom_send_command(args, extra) -> int:
    from .._classroom.broadcast_cli import run

    return run(args)
