"""A class folder: who is in the class, their bins' tokens and signing secrets, the admin token, the handout.

    webhooklab-class/
      admin-token      the instructor's token (the dashboard's URL holds it)
      roster.json      each learner's name, bin token, signing secret and store file
      bins/<name>.db   one SQLite store per learner (WAL)
      class.db         the latest challenge report of each learner
      handout.csv      name, bin URL, signing secret, page URL per learner
      handout.html     the same, printable: one card per learner

Every token and secret is made here with the `secrets` module and kept only in
these files, readable by their owner alone (0600, in a 0700 folder); none is
ever taken from the command line, where other users of the machine can read it.
Starting again on the same folder keeps everything.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from .._errors import UsageError
from .._receiving.export import _cell

TOKEN_BYTES = 24  # a bin's or the instructor's token: 192 random bits, 32 URL-safe characters
MIN_TOKEN = 22  # secrets.token_urlsafe(16): a token read back from a file must be at least this long
MAX_LEARNERS = 1000
MAX_NAME = 80
# Standard Webhooks needs whsec_ + base64; Stripe, GitHub and Shopify sign with the whole string: one fits all.
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class Learner:
    """One learner: a name, the token that is their bin's address, their signing secret, their store's file."""

    name: str
    token: str
    secret: str
    file: str

    def __repr__(self) -> str:  # never the token or the secret: a repr ends up in logs and notebooks
        return f"<Learner {self.name!r} bins/{self.file}>"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def numbered(n) -> list[str]:
    """learner-01, learner-02, ... (as many digits as n needs, at least two)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_LEARNERS:
        raise UsageError(f"--students is how many learners, from 1 to {MAX_LEARNERS}, got {n!r}")
    width = max(2, len(str(n)))
    return [f"learner-{i:0{width}d}" for i in range(1, n + 1)]


def read_roster(path: str | Path) -> list[str]:
    """Names from a file, one a line; blank lines and lines starting with # are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--roster {str(path)!r} must be a UTF-8 text file with one name a line: {error}") from None
    names = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not names:
        raise UsageError(f"--roster {str(path)!r} names nobody: write one learner's name a line")
    return names


def check_names(names) -> list[str]:
    """The names as given, each once; a name that could not be shown or used is a UsageError naming it."""
    seen: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise UsageError(f"a learner's name is 1 to {MAX_NAME} characters, got {name!r}")
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise UsageError(f"a learner's name has no control characters (tabs, line breaks), got {name!r}")
        seen.setdefault(name.strip().casefold(), name.strip())
    if len(seen) > MAX_LEARNERS:
        raise UsageError(f"a class server serves at most {MAX_LEARNERS} learners, got {len(seen)}")
    return list(seen.values())


class ClassFolder:
    """The class's files: created on first use, read back as they are on every later start."""

    def __init__(self, folder: str | Path, names=()):
        self.path = Path(folder).expanduser().resolve()
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"--dir {str(self.path)!r} is a file; it must be the class's folder (it is created)")
        (self.path / "bins").mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        self.admin = self._admin_token()
        self.learners = self._roster(check_names(names))

    @property
    def roster_file(self) -> Path:
        return self.path / "roster.json"

    def store_file(self, learner: Learner) -> Path:
        return self.path / "bins" / f"{learner.file}.db"

    def _admin_token(self) -> str:
        file = self.path / "admin-token"
        if file.exists():
            token = file.read_text(encoding="utf-8").strip()
            if len(token) < MIN_TOKEN or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
                raise UsageError(
                    f"{file} must hold one URL-safe token of at least {MIN_TOKEN} characters, got "
                    f"{len(token)} character(s): delete the file and a new token is made"
                )
            return token
        token = new_token()
        write_private(file, token + "\n")
        return token

    def _roster(self, names: list[str]) -> list[Learner]:
        learners = self._read() if self.roster_file.exists() else []
        known = {learner.name.casefold() for learner in learners}
        files = {learner.file.casefold() for learner in learners}
        added = False
        for name in names:
            if name.casefold() in known:
                continue
            learners.append(Learner(name, new_token(), new_secret(), _file_name(name, files)))
            known.add(name.casefold())
            added = True
        if not learners:
            raise UsageError(
                f"the class in {self.path} has nobody yet: start it with --students N (learner-01, ...) "
                "or --roster FILE (one name a line)"
            )
        if added or not self.roster_file.exists():
            data = {"learners": [vars(learner) for learner in learners]}
            write_private(self.roster_file, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return learners

    def _read(self) -> list[Learner]:
        try:
            data = json.loads(self.roster_file.read_text(encoding="utf-8"))
            learners = [Learner(**{key: str(entry[key]) for key in ("name", "token", "secret", "file")})
                        for entry in data["learners"]]  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UsageError(
                f"{self.roster_file} is not a roster webhooklab wrote ({type(error).__name__}: {error}); "
                "it was left as it is. Fix it, or choose a new --dir"
            ) from None
        short = [learner.name for learner in learners if len(learner.token) < MIN_TOKEN]
        if short:
            raise UsageError(f"{self.roster_file}: the bin token of {short[0]!r} is shorter than {MIN_TOKEN} characters")
        if len({learner.token for learner in learners}) != len(learners):
            raise UsageError(f"{self.roster_file}: two learners share a bin token; each must have their own")
        return learners

    def write_handout(self, base_url: str) -> tuple[Path, Path]:
        """handout.csv and handout.html (both 0600: they hold every learner's secret) for this address."""
        rows = [handout_row(learner, base_url) for learner in self.learners]
        out = io.StringIO()
        writer = csv.DictWriter(out, ["name", "bin_url", "signing_secret", "page_url", "webhook_url"])
        writer.writeheader()
        writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
        write_private(self.path / "handout.csv", out.getvalue())
        write_private(self.path / "handout.html", handout_html(rows))
        return self.path / "handout.csv", self.path / "handout.html"


def handout_row(learner: Learner, base_url: str) -> dict:
    bin_url = f"{base_url.rstrip('/')}/b/{learner.token}/"
    return {"name": learner.name, "bin_url": bin_url, "signing_secret": learner.secret, "page_url": bin_url,
            "webhook_url": bin_url + "hooks/<endpoint>"}  # fmt: skip


CARD = """<section class="card">
  <h2>{name}</h2>
  <p>In your notebook: <code>rx = wl.Receiver.attach("{bin_url}")</code></p>
  <dl>
    <dt>Bin URL</dt><dd><code>{bin_url}</code></dd>
    <dt>Your page</dt><dd><code>{page_url}</code></dd>
    <dt>Webhooks go to</dt><dd><code>{webhook_url}</code></dd>
    <dt>Signing secret</dt><dd><code>{signing_secret}</code></dd>
  </dl>
  <p class="small">Keep the bin URL and the secret to yourself: whoever has the URL can read and change your bin.</p>
</section>"""
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>webhooklab class handout</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 16px; }}
.card {{ border: 1px dashed #888; padding: 8px 14px; margin: 0 0 14px; break-inside: avoid; }}
h2 {{ margin: 4px 0; font-size: 18px; }} dt {{ font-weight: 600; }} dd {{ margin: 0 0 6px; }}
code {{ font: 13px ui-monospace, monospace; word-break: break-all; }} .small {{ font-size: 12px; color: #555; }}
@media print {{ .card {{ page-break-inside: avoid; }} }}
</style></head>
<body>
<h1>webhooklab class: one card per learner</h1>
{cards}
</body></html>
"""


def handout_html(rows: list[dict]) -> str:
    """A printable page, every value escaped: a roster's names are text, never markup."""
    cards = [CARD.format(**{key: html.escape(value, quote=True) for key, value in row.items()}) for row in rows]
    return PAGE.format(cards="\n".join(cards))


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600), whole or not at all."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    os.chmod(partial, 0o600)  # should it have existed with a wider mode
    os.replace(partial, path)


def _file_name(name: str, taken: set[str]) -> str:
    """A store file name made from a learner's name: letters, digits, - and _ only, unique without regard to case."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "learner"
    candidate, n = stem, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem}-{n}"
    taken.add(candidate.casefold())
    return candidate


def lan_address(host: str) -> str:
    """The address learners reach: the one given, or for 0.0.0.0 this machine's outward IPv4 (else 127.0.0.1).

    A UDP socket "connected" to a private address sends nothing, but makes the
    system choose the interface it would use; its address is the LAN address.
    """
    if host not in ("0.0.0.0", "::", ""):
        return host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 1))
            address = probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
    return address if address and address != "0.0.0.0" else "127.0.0.1"
