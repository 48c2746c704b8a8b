"""A class folder: who is in the class, their bins' tokens and signing secrets, the admin token, the handout.

    webhooklab-class/
      admin-token      the instructor's token (the dashboard's URL holds it)
      roster.json      each learner's name, bin token, signing secret and store file
      bins/<name>.db   one SQLite store per learner (WAL)
      class.db         each learner's latest challenge report, exercise verdicts and last change (progress.py)
      handout.csv      name, bin URL, signing secret, page URL per learner (handout.py)
      handout.html     the same, printable: one card per learner, with the line that joins the bin and its QR code

Every token and secret is made here with the `secrets` module and kept only in
these files, readable by their owner alone (0600, in a 0700 folder); none is
ever taken from the command line, where other users of the machine can read it.
Starting again on the same folder keeps everything. A bin's token is read from
paper: its letters and digits leave out those that look alike (0 O o, 1 l I i).
A roster written with older tokens keeps them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import socket
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from .._errors import UsageError
from .handout import handout_csv, handout_html, handout_row

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # 31 characters, none two that a reader could take for each other
TOKEN_CHARACTERS = 28  # 28 × log2(31) = 138.7 random bits: at least 128, as secrets.token_urlsafe(16) has
GROUP = 4  # read and typed in groups of four: dkq7-m3xa-...
ADMIN_BYTES = 24  # the instructor's token: 192 random bits, 32 URL-safe characters (only ever copied, never typed)
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
    """A bin's token: 28 random characters of ALPHABET in groups of four, such as dkq7-m3xa-9fhe-...-u2pc."""
    characters = "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_CHARACTERS))
    return "-".join(characters[i : i + GROUP] for i in range(0, TOKEN_CHARACTERS, GROUP))


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
        self._lock = threading.Lock()  # a learner added or a token changed while the class runs: one at a time
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
        token = secrets.token_urlsafe(ADMIN_BYTES)
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
            self._save(learners)
        return learners

    def _save(self, learners: list[Learner]) -> None:
        data = {"learners": [vars(learner) for learner in learners]}
        write_private(self.roster_file, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def find(self, name) -> Learner:
        """The learner of this name (in any case), or a UsageError that says who is in the class."""
        if not isinstance(name, str):
            raise UsageError(f"a learner is named by a string, got {type(name).__name__}")
        for learner in self.learners:
            if learner.name.casefold() == name.strip().casefold():
                return learner
        known = ", ".join(repr(learner.name) for learner in self.learners[:5])
        known += ", ..." if len(self.learners) > 5 else ""
        raise UsageError(f"no learner is named {name[:MAX_NAME]!r} in this class (it has {known}): "
                         "use a name as the dashboard shows it")  # fmt: skip

    def add(self, name) -> Learner:
        """A new learner, with a token, a secret and a store file of their own, written to roster.json."""
        (name,) = check_names([name])
        with self._lock:
            if any(learner.name.casefold() == name.casefold() for learner in self.learners):
                raise UsageError(f"{name!r} is in the class already: each name once (a second learner of that "
                                 "name needs another, such as their surname's initial)")  # fmt: skip
            if len(self.learners) >= MAX_LEARNERS:
                raise UsageError(f"a class server serves at most {MAX_LEARNERS} learners, and this class has them")
            file = _file_name(name, {learner.file.casefold() for learner in self.learners})
            learner = Learner(name, new_token(), new_secret(), file)
            self._save([*self.learners, learner])
            self.learners = [*self.learners, learner]
        return learner

    def rotate(self, name) -> tuple[Learner, Learner]:
        """(before, after): the learner with a new token and a new signing secret, written to roster.json."""
        with self._lock:
            before = self.find(name)
            after = replace(before, token=new_token(), secret=new_secret())
            learners = [after if learner is before else learner for learner in self.learners]
            self._save(learners)
            self.learners = learners
        return before, after

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
        with self._lock:
            rows = [handout_row(learner, base_url) for learner in self.learners]
            write_private(self.path / "handout.csv", handout_csv(rows))
            write_private(self.path / "handout.html", handout_html(rows))
        return self.path / "handout.csv", self.path / "handout.html"


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
