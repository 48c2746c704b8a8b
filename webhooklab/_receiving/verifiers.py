"""The secret each endpoint checks signatures with, and the scheme it checks them by."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from .._checks import endpoint_name, got
from .._errors import UsageError, UsageTypeError
from .._providers import PROVIDERS, Explanation, Provider
from .._providers.explain import UNDIAGNOSED
from .._providers.registry import one_of


class Verifiers:
    """The secret each endpoint checks signatures with, and the scheme to check them by.

    A secret given as a string (or a list, during rotation) is checked with the
    scheme of whichever provider the request's headers name; a Provider
    instance always checks with its own scheme.
    """

    def __init__(self, secrets: dict[str, str | list[str] | Provider] | None = None, *, default: str | None = None):
        """`default`: the secret of every endpoint not in `secrets` (a class server's bin has one for all)."""
        if secrets is not None and not isinstance(secrets, Mapping):
            raise UsageTypeError(
                "secrets must be a dict of endpoint name to secret, such as {'shop': 'whsec_...'}, "
                f"got {got(secrets)}"
            )
        for endpoint, secret in (secrets or {}).items():
            endpoint_name(endpoint, "each key of secrets")
            usable = isinstance(secret, Provider) or (isinstance(secret, str) and secret) or (
                isinstance(secret, (list, tuple)) and secret and all(isinstance(s, str) and s for s in secret)
            )  # fmt: skip
            if not usable:
                unset = secret is None or isinstance(secret, str)
                raise UsageError(
                    f"the secret for endpoint {endpoint!r} must be a non-empty str, a list of them (while rotating) "
                    f"or a provider such as Stripe('whsec_...'), got {got(secret)}"
                    + (": is it read from an environment variable that is not set?" if unset else "")
                )
        if default is not None and not (isinstance(default, str) and default):
            raise UsageError(f"the default secret must be a non-empty str, got {got(default)}")
        self._secrets = dict(secrets or {})
        self._default = default
        self._schemes: dict[tuple[str, str], Provider] = {}

    def checks(self, endpoint: str) -> bool:
        """Whether requests to `endpoint` are checked: it has a secret, or every endpoint has one."""
        return endpoint in self._secrets or self._default is not None

    def secret_of(self, endpoint: str):
        """The secret `endpoint` checks with (a str, a list while rotating, or a Provider), or None: never shown."""
        return self._secrets.get(endpoint, self._default)

    def explain(self, endpoint: str, provider: str | None, headers, body: bytes,
                url: str | None = None, *, diagnose: bool = True) -> Explanation | None:  # fmt: skip
        """Every step of checking this request, which arrived at `url`, with the endpoint's secret; None without one.

        `diagnose=False` stops at the verdict: a mismatch's likely cause is not looked for (see explain.UNDIAGNOSED).
        """
        if not self.checks(endpoint):
            return None
        secret, key = self._secrets.get(endpoint), endpoint
        if secret is None:
            secret, key = self._default, None  # one scheme per provider, however many endpoint names arrive
        if isinstance(secret, Provider):
            scheme = secret
        elif provider not in PROVIDERS:
            return Explanation("webhook").fail("missing_header", (
                f"endpoint {endpoint!r} has a secret, but the request carries no signature header of "
                f"{one_of(cls.title for cls in PROVIDERS.values())}"
            ))  # fmt: skip
        else:
            try:
                scheme = self._schemes.get((key, provider)) or PROVIDERS[provider](secret)
            except ValueError as error:  # a secret this scheme cannot use, such as a non-base64 whsec_
                return Explanation(PROVIDERS[provider].title).fail("no_matching_signature", str(error))
            self._schemes[key, provider] = scheme
        try:
            scheme = scheme.at(url) if url is not None else scheme  # a scheme that signs the URL (Twilio's) needs it
        except UsageError:  # a Host header no URL can hold: the sender's choice, so there is no URL to check with
            pass
        if not diagnose and "diagnose" in inspect.signature(scheme.explain).parameters:
            return scheme.explain(body, headers, diagnose=False)
        return scheme.explain(body, headers)  # a scheme of one's own may know no diagnose=: it explains in full

    def check(self, endpoint: str, provider: str | None, headers, body: bytes,
              url: str | None = None) -> tuple[bool | None, str | None, str | None]:  # fmt: skip
        """(verified, reason, message) of the verdict alone; all None when the endpoint has no secret.

        Its cost is the HMACs over the body, whatever the body: a mismatch's likely cause is left to
        `diagnosis`, when someone reads the event. Never raises: no event is lost.
        """
        try:
            explanation = self.explain(endpoint, provider, headers, body, url, diagnose=False)
        except Exception as error:  # the schemes do not raise; this keeps the event should one ever do
            return False, "malformed_header", f"the signature could not be checked: {type(error).__name__}: {error}"
        if explanation is None:
            return None, None, None
        return explanation.ok, explanation.reason, explanation.message

    def diagnosis(self, event, url: str | None = None) -> str | None:
        """The full verdict of a stored event whose verdict was stored without its likely cause; None for any other.

        `url` is the URL the event arrived at (see urls.stored_url), for a scheme that signs it.
        """
        if event.verified is not False or not (event.verification or "").endswith(UNDIAGNOSED):
            return None
        try:
            explanation = self.explain(event.endpoint, event.provider, event.header_pairs, event.body, url)
        except Exception as error:  # as in check(): reading an event never fails because of its signature
            return f"{event.verification} It could not be: {type(error).__name__}: {error}"
        if explanation is None or explanation.reason != event.reason:  # the secrets changed since: the verdict stays
            return None
        return explanation.message
