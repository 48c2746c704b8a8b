"""One setting for a folder's notebooks: the class bin they use, or a receiver of their own.

`wl.join_class(url)` records the bin for this folder (a file read by later kernels), and
`wl.workshop_receiver()` gives the notebooks the joined bin, or a receiver of their own.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

from .._errors import ReceiverError, UsageTypeError
from .receiver import Receiver
from .remote import RemoteReceiver

CLASS_FILE = ".webhooklab-class"  # in the notebooks' folder: the bin URL that wl.workshop_receiver() attaches to

def join_class(bin_url: str | None) -> None:
    """Use your bin on the class server in this folder's notebooks; None goes back to a receiver of your own.

    wl.join_class("http://192.168.1.20:8000/b/<token>/")   # the URL on your handout
    wl.join_class(None)                                    # forget it

    The URL is checked with the class server, then kept in the file .webhooklab-class in this
    folder (readable by you only), where wl.workshop_receiver() finds it in every notebook.
    """
    path = Path.cwd() / CLASS_FILE
    if bin_url is None:
        path.unlink(missing_ok=True)
        print("No class server: each notebook starts a receiver of its own, on this machine.")
        return
    joined = RemoteReceiver(bin_url)  # a typo on the handout, or a server that is down, stops here
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(joined.base_url + "/\n")
    print(f"Joined: the notebooks in this folder use your bin {joined.shown}")


def joined() -> str | None:
    """The bin URL that wl.join_class() recorded in this folder, or None."""
    try:
        text = (Path.cwd() / CLASS_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def workshop_receiver(**options):
    """The notebooks' receiver: your bin on the class server if you joined one (wl.join_class), else your own.

    rx = wl.workshop_receiver()                          # then rx.url(...), rx.wait_for(...), rx.events()
    rx = wl.workshop_receiver(secrets={"pay": secret})   # any of wl.Receiver's options
    """
    try:
        inspect.signature(Receiver).bind(**options)
    except TypeError as error:
        names = ", ".join(inspect.signature(Receiver).parameters)
        raise UsageTypeError(f"wl.workshop_receiver takes wl.Receiver's options ({names}): {error}") from None
    bin_url = joined()
    if bin_url is None:
        return Receiver(**options).start()
    try:
        return RemoteReceiver(bin_url)
    except ReceiverError as error:
        raise ReceiverError(
            f"{error}. This folder is joined to a class (in {CLASS_FILE}); to work on your machine "
            "instead, run wl.join_class(None) in the index notebook"
        ) from None
