"""Draw the course's diagrams as SVG files in notebooks/images/, one per core idea.

Each picture has a <title> and a <desc>, its words are text (not paths), it paints its own white background
(so it reads the same in JupyterLab's light and dark themes) and it uses only the generic sans-serif font:
nothing is fetched. Change a picture here, never in the .svg file.

    python tools/diagrams.py            # write the files
    python tools/diagrams.py --check    # exit 1, naming each file that is out of date
"""

import argparse
import sys
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).parent))
import course  # noqa: E402  (the tools' shared writing and checking)

IMAGES = Path(__file__).resolve().parent.parent / "notebooks" / "images"
INK, MUTED, BACKGROUND = "#1f2933", "#52606d", "#ffffff"
PROVIDER = ("#e3efff", "#1d4ed8")  # fill, stroke
YOURS = ("#e4f5e9", "#15803d")
RELAY = ("#fff3dc", "#b45309")
NEUTRAL = ("#f1f3f5", "#52606d")
FAIL, OK = "#b91c1c", "#15803d"
COLOURS = {"ink": INK, "blue": PROVIDER[1], "green": OK, "orange": RELAY[1], "red": FAIL, "grey": MUTED}


def text(x: float, y: float, words: str, *, size: int = 13, anchor: str = "middle", bold: bool = False,
         colour: str = INK) -> str:  # fmt: skip
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="{colour}"{weight}>'
            f"{escape(words)}</text>")  # fmt: skip


def box(x: float, y: float, w: float, h: float, lines: list[str], colours: tuple[str, str] = NEUTRAL) -> str:
    """A rounded box with centred lines of text, the first in bold."""
    fill, stroke = colours
    top = y + h / 2 - (len(lines) - 1) * 9 + 4
    words = [text(x + w / 2, top + 18 * n, line, bold=n == 0) for n, line in enumerate(lines)]
    return "\n".join([f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="{fill}" stroke="{stroke}" '
                      f'stroke-width="2"/>', *words])  # fmt: skip


def arrow(x1: float, y1: float, x2: float, y2: float, colour: str = "ink", *, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{COLOURS[colour]}" stroke-width="2"{dash} '
            f'marker-end="url(#head-{colour})"/>')  # fmt: skip


def badge(x: float, y: float, number: int, colour: str = "ink") -> str:
    """A numbered circle that ties an arrow to a line of the legend."""
    return (f'<circle cx="{x}" cy="{y}" r="10" fill="{COLOURS[colour]}"/>'
            + text(x, y + 4.5, str(number), size=12, bold=True, colour=BACKGROUND))  # fmt: skip


def svg(width: int, height: int, title: str, desc: str, parts: list[str]) -> str:
    heads = "".join(f'<marker id="head-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
                    f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
                    f"</marker>" for name, colour in COLOURS.items())  # fmt: skip
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="title desc" font-family="sans-serif">',
        f'<title id="title">{escape(title)}</title>', f'<desc id="desc">{escape(desc)}</desc>',
        f"<defs>{heads}</defs>",
        f'<rect width="{width}" height="{height}" rx="10" fill="{BACKGROUND}" stroke="#d0d7de"/>',
        *parts, "</svg>", "",
    ])  # fmt: skip


def round_trip() -> str:
    return svg(760, 250, "The webhook round trip",
               "A provider such as Stripe sees an event happen and sends an HTTP POST with a JSON body and signature "
               "headers to the URL you registered. Your endpoint answers 2xx within seconds, which means delivered; "
               "without a 2xx the provider tries again later.", [
        text(380, 30, "The webhook round trip", size=16, bold=True),
        box(20, 60, 200, 100, ["Provider", "Stripe, GitHub, Shopify", "an event happens:", "a payment succeeds"],
            PROVIDER),
        box(540, 60, 200, 100, ["Your endpoint", "a receiver at the URL", "you registered, e.g.", "/hooks/payments"],
            YOURS),
        arrow(222, 92, 536, 92, "blue"), text(380, 82, "1. HTTP POST: JSON body + signature headers"),
        arrow(538, 132, 224, 132, "green"), text(380, 152, "2. answer 2xx within seconds: delivered"),
        text(380, 198, "No 2xx (an error, a timeout, no answer at all): the provider tries again later.", colour=MUTED),
        text(380, 222, "Nobody asks: the event itself causes the request.", colour=MUTED),
    ])  # fmt: skip


def push_versus_poll() -> str:
    polls, event, found = [80, 200, 320, 440, 560, 680], 365, 440
    poll_row, push_row = 110, 215
    parts = [text(380, 30, "Push versus poll, on one time line", size=16, bold=True),
             text(20, poll_row - 38, "Poll: ask every interval", anchor="start", bold=True),
             text(20, push_row - 38, "Push: be told", anchor="start", bold=True)]  # fmt: skip
    for row in (poll_row, push_row):
        parts += [arrow(40, row, 735, row, "grey"), f'<circle cx="{event}" cy="{row}" r="7" fill="{RELAY[1]}"/>']
    for x in polls:
        colour = OK if x == found else MUTED
        parts += [f'<line x1="{x}" y1="{poll_row - 12}" x2="{x}" y2="{poll_row + 12}" stroke="{colour}" '
                  f'stroke-width="3"/>', text(x, poll_row + 30, "1 event" if x == found else "nothing", size=12,
                                              colour=colour)]  # fmt: skip
    parts += [
        text(event, poll_row - 16, "event", size=12, colour=RELAY[1]),
        f'<path d="M{event} {poll_row + 40} L{event} {poll_row + 46} L{found} {poll_row + 46} L{found} '
        f'{poll_row + 40}" fill="none" stroke="{FAIL}" stroke-width="2"/>',
        text((event + found) / 2, poll_row + 62, "waits for the next poll", size=12, colour=FAIL),
        text(event, push_row - 16, "event", size=12, colour=RELAY[1]),
        arrow(event + 8, push_row, event + 60, push_row + 30, "green"),
        text(event + 66, push_row + 36, "one POST, milliseconds later", anchor="start", size=12, colour=OK),
        text(745, push_row + 20, "time", anchor="end", size=12, colour=MUTED),
        text(380, 290, "Each poll is a request, most of them answered \"nothing\". An event waits half an interval on",
             colour=MUTED),
        text(380, 310, "average for the next poll; push makes one request per event, the moment it happens.",
             colour=MUTED),
    ]  # fmt: skip
    return svg(760, 330, "Push versus poll on a time line",
               "Top: a poller asks at every interval; most answers are nothing, and an event waits until the next "
               "poll finds it. Bottom: with push the same event is sent at once, in one request.", parts)


def signature() -> str:
    return svg(860, 340, "What a webhook signature covers",
               "The signing secret, the timestamp and the raw body bytes go into an HMAC-SHA256. The receiver "
               "computes the expected signature over what arrived and compares it with the received header in "
               "constant time: equal means accept with 2xx, different means reject with 400.", [
        text(430, 30, "What a signature covers", size=16, bold=True),
        box(20, 55, 200, 56, ["signing secret", "shared, never sent"], RELAY),
        box(20, 125, 200, 56, ["timestamp", "sent in a header, signed too"], NEUTRAL),
        box(20, 195, 200, 56, ["raw body bytes", "exactly as they arrived"], PROVIDER),
        arrow(222, 83, 288, 135), arrow(222, 153, 288, 153), arrow(222, 223, 288, 171),
        box(290, 118, 150, 70, ["HMAC-SHA256", "keyed with the secret"], NEUTRAL),
        arrow(442, 153, 498, 153),
        box(500, 128, 150, 50, ["expected signature", "computed by you"], YOURS),
        box(500, 208, 150, 50, ["received signature", "from the header"], PROVIDER),
        arrow(652, 153, 688, 175), arrow(652, 233, 688, 211),
        box(690, 158, 155, 70, ["compare in", "constant time", "hmac.compare_digest"], YOURS),
        text(767, 250, "equal: 2xx", colour=OK, bold=True), text(767, 268, "different: 400", colour=FAIL, bold=True),
        text(430, 300, "Change one byte of the body, the timestamp or the secret and the HMAC is completely different.",
             colour=MUTED),
        text(430, 320, "So verify the raw bytes before parsing them: JSON parsed and written out again is other bytes.",
             colour=MUTED),
    ])  # fmt: skip


def retry_schedule() -> str:
    minutes, left, scale, row = [0, 1, 3, 7, 15, 31], 50, 21, 120
    parts = [text(380, 30, "A retry schedule with exponential backoff", size=16, bold=True),
             arrow(left - 10, row, left + 31 * scale + 30, row, "grey")]  # fmt: skip
    for n, at in enumerate(minutes, 1):
        x, last = left + at * scale, n == len(minutes)
        parts += [f'<circle cx="{x}" cy="{row}" r="9" fill="{OK if last else FAIL}"/>',
                  text(x, row - 18, f"{n}", bold=True), text(x, row + 32, f"{at}", size=12, colour=MUTED)]
    for before, after in zip(minutes[2:], minutes[3:]):
        parts.append(text(left + (before + after) / 2 * scale, row - 40, f"wait {after - before} min", size=12,
                          colour=MUTED))  # fmt: skip
    parts += [
        text(left - 10, row - 60, "attempt", anchor="start", size=12, colour=MUTED),
        text(left + 31 * scale + 30, row + 50, "minutes after the first", anchor="end", size=12, colour=MUTED),
        f'<circle cx="60" cy="185" r="7" fill="{FAIL}"/>',
        text(74, 190, "500, a timeout or no answer: wait, then try again", anchor="start"),
        f'<circle cx="60" cy="210" r="7" fill="{OK}"/>',
        text(74, 215, "2xx: delivered, no more attempts", anchor="start"),
        text(380, 248, "Each wait is twice the one before: 1, 2, 4, 8, 16 minutes. A provider's real schedule has",
             colour=MUTED),
        text(380, 268, "its own waits and a last attempt after which it gives up: notebook 04 plots them.",
             colour=MUTED),
    ]  # fmt: skip
    return svg(760, 290, "A retry schedule on a time line",
               "Six attempts on a time line, at 0, 1, 3, 7, 15 and 31 minutes: each wait is twice the one before. "
               "The first five fail with a 500, a timeout or no answer; the sixth gets a 2xx and the retries stop.",
               parts)


def relay() -> str:
    return svg(860, 380, "A relay brings webhooks to a laptop",
               "The provider posts to a public URL on a relay on the internet. The laptop's receiver listens only on "
               "127.0.0.1 behind a router, so the connection to the relay is opened from the laptop, outward; the "
               "relay forwards each request down it, and the answer goes back the same way.", [
        text(430, 30, "A relay (tunnel) brings webhooks to your laptop", size=16, bold=True),
        '<rect x="15" y="48" width="515" height="205" rx="8" fill="#f7f9fb" stroke="#d0d7de"/>',
        text(30, 68, "the internet", anchor="start", size=12, colour=MUTED),
        '<rect x="560" y="48" width="285" height="205" rx="8" fill="none" stroke="#52606d" stroke-dasharray="6 4"/>',
        text(575, 68, "your laptop, behind a router", anchor="start", size=12, colour=MUTED),
        f'<line x1="545" y1="48" x2="545" y2="253" stroke="{FAIL}" stroke-width="3"/>',
        box(35, 95, 150, 70, ["Provider", "Stripe, GitHub"], PROVIDER),
        box(275, 85, 230, 90, ["Relay", "public URL, e.g.", "https://abc123.tunnel.example"], RELAY),
        box(585, 85, 240, 56, ["relay client", "ngrok, smee, stripe listen"], RELAY),
        box(585, 180, 240, 56, ["your receiver", "on 127.0.0.1 only"], YOURS),
        arrow(187, 130, 271, 130, "blue"), badge(229, 115, 2, "blue"),
        arrow(583, 128, 509, 128, "orange", dashed=True), badge(546, 150, 1, "orange"),
        arrow(509, 104, 581, 104, "orange"), badge(546, 84, 3, "orange"),
        arrow(705, 143, 705, 176, "green"), badge(725, 160, 4, "green"),
        badge(40, 280, 1, "orange"), text(58, 285, "The laptop opens the connection, outward: nothing on the internet "
                                           "could open one in.", anchor="start"),
        badge(40, 305, 2, "blue"), text(58, 310, "The provider posts to the public URL, as to any endpoint.",
                                        anchor="start"),
        badge(40, 330, 3, "orange"), text(58, 335, "The relay forwards the request down the open connection.",
                                          anchor="start"),
        badge(40, 355, 4, "green"), text(58, 360, "The client posts it to 127.0.0.1; the answer goes back the same way.",
                                         anchor="start"),
    ])  # fmt: skip


DIAGRAMS = {"round-trip.svg": round_trip, "push-versus-poll.svg": push_versus_poll, "signature.svg": signature,
            "retry-schedule.svg": retry_schedule, "relay.svg": relay}  # fmt: skip


def stale(write: bool) -> list[str]:
    """The files whose drawing differs from this script (written, unless checking)."""
    return course.refresh({IMAGES / name: draw() for name, draw in DIAGRAMS.items()}, write)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if a file is out of date")
    args = parser.parse_args(argv)
    return course.report(stale(write=not args.check), args.check)


if __name__ == "__main__":
    sys.exit(main())
