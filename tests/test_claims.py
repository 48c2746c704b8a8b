"""The claims index (notebooks/CLAIMS.md): each provider claim is written where it says, retired wording is gone,
and every source is one of the providers' own documentation sites (or says that the number is an assumption)."""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).parent.parent
INDEX = ROOT / "notebooks" / "CLAIMS.md"
PROVIDER_DOCS = {"docs.stripe.com", "docs.github.com", "shopify.dev", "docs.svix.com", "api.slack.com",
                 "docs.slack.dev", "docs.n8n.io", "help.zapier.com", "www.make.com", "www.twilio.com",
                 "www.standardwebhooks.com"}  # fmt: skip
PROVIDER_REPOS = ("https://github.com/standard-webhooks/",)  # the specification's own repository
LABELS = {"our assumption", "reference libraries' value"}


def flat(text: str) -> str:
    return " ".join(text.split())


def table(heading: str) -> list[list[str]]:
    """The rows of the table under `## heading`, each a list of its cells (the header and rule left out)."""
    section = INDEX.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[1:] if not set(row[0]) <= {"-", "|"}]


CLAIMS = table("Claims")
RETIRED = table("Retired wording")


def notebook(prefix: str) -> dict:
    found = sorted((ROOT / "notebooks").glob(f"{prefix}*.ipynb"))
    assert len(found) == 1, f"expected one notebook named {prefix}*.ipynb, found {[p.name for p in found]}"
    return json.loads(found[0].read_text(encoding="utf-8"))


def text_at(where: str) -> str:
    """The text a row points at: a notebook cell (`04.00#<cell id>`), a whole notebook (`04.00`), or a file."""
    if "/" in where:
        return flat((ROOT / where).read_text(encoding="utf-8"))
    prefix, _, cell_id = where.partition("#")
    cells = notebook(prefix)["cells"]
    if cell_id:
        cells = [c for c in cells if c.get("id") == cell_id]
        assert cells, f"{where}: no cell with the id {cell_id!r} (was it replaced? update the index)"
    return flat(" ".join("".join(c["source"]) for c in cells))


def test_the_index_has_rows_with_unique_ids():
    assert len(CLAIMS) >= 30 and len(RETIRED) >= 15
    ids = [row[0] for row in CLAIMS + RETIRED]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(len(row) == 4 for row in CLAIMS) and all(len(row) == 3 for row in RETIRED)


@pytest.mark.parametrize("row", CLAIMS, ids=[row[0] for row in CLAIMS])
def test_each_claim_is_written_where_the_index_says(row):
    claim_id, where, claim, _ = row
    assert flat(claim) in text_at(where), f"{claim_id}: not found in {where}: {claim!r}"


@pytest.mark.parametrize("row", CLAIMS, ids=[row[0] for row in CLAIMS])
def test_each_source_is_a_providers_own_documentation_or_says_it_is_an_assumption(row):
    claim_id, _, _, source = row
    if source in LABELS:
        return
    parts = urlsplit(source)
    assert parts.scheme == "https", f"{claim_id}: the source is neither a URL nor one of {sorted(LABELS)}: {source!r}"
    assert parts.hostname in PROVIDER_DOCS or source.startswith(PROVIDER_REPOS), (
        f"{claim_id}: {parts.hostname} is not one of the providers' documentation sites: {sorted(PROVIDER_DOCS)}")


@pytest.mark.parametrize("row", RETIRED, ids=[row[0] for row in RETIRED])
def test_retired_wording_is_gone(row):
    retired_id, where, wording = row
    assert flat(wording) not in text_at(where), f"{retired_id}: {where} still says {wording!r}"


def test_the_challenge_solution_retrieves_the_current_state_instead_of_comparing_created():
    solution = (ROOT / "notebooks" / "solutions" / "06.00-handler.py").read_text(encoding="utf-8")
    assert "challenge.api.retrieve(intent[\"id\"])" in solution and not re.search(r"\[.created.\]", solution)
