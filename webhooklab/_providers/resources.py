"""The payload templates shipped with webhooklab, one folder of JSON files per provider."""

from __future__ import annotations

import json
from functools import cache

from .._workshop import shipped


@cache
def templates(provider: str) -> dict[str, dict]:
    """Event type -> payload, read once from datasets/<provider>/ (the path under it is the type).

    A provider without a folder there has no templates: its event() builds payloads itself.
    """
    folder = shipped("datasets") / provider
    return {
        path.relative_to(folder).with_suffix("").as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.rglob("*.json"))
    }
