"""What someone on the path between a provider and your endpoint can capture: a wiretap, and HTTPS against it.

The tap is a TCP relay on 127.0.0.1 that passes bytes both ways unchanged and keeps a copy of what the sender
wrote: over HTTP that is the whole request, signature and all; over HTTPS it is ciphertext.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import threading
from pathlib import Path

KEPT = 64 * 1024  # bytes of each connection's request kept: a demo's webhook is a few KB
CAPTURES = 10  # connections remembered, newest last


class Wiretap:
    """Listens on 127.0.0.1 and relays each connection to `target` (host, port), keeping what the client sent."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.captured: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, name="webhooklab-wiretap", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            copy = bytearray()
            with self._lock:
                self._open += [client, server]
                self.captured = [*self.captured[-(CAPTURES - 1):], copy]
            threading.Thread(target=self._pump, args=(client, server, copy), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, copy: bytearray | None) -> None:
        try:
            while data := source.recv(65536):
                if copy is not None and len(copy) < KEPT:
                    copy += data[: KEPT - len(copy)]
                sink.sendall(data)
        except OSError:
            pass
        finally:  # one side is done: so is the other, and the connection is forgotten
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()
            with self._lock:
                self._open = [end for end in self._open if end not in (source, sink)]

    def last(self) -> bytes:
        """What the client of the newest connection sent (empty before any)."""
        with self._lock:
            return bytes(self.captured[-1]) if self.captured else b""

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for end in self._open:
                end.close()
            self._open.clear()


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day, and its key: (cert.pem, key.pem) in `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))  # fmt: skip
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def request_of(captured: bytes) -> tuple[str, dict[str, str], bytes]:
    """(path, headers, body) of the HTTP/1.1 request in `captured`: what a replay sends again."""
    head, _, rest = captured.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(next((value for name, value in headers.items() if name.lower() == "content-length"), len(rest)))
    return path, headers, rest[:length]


def resend_raw(port: int, data: bytes) -> bytes:
    """Send `data` as is on a new connection to 127.0.0.1:`port`; the first bytes that came back (b"" if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        try:
            connection.sendall(data)
            return connection.recv(1024)
        except OSError:  # refused midway, or nothing within 2 s
            return b""
