"""The documentation builds with warnings as errors, and its reference documents every public name.

A public name added without a place in docs/reference/ fails here, with the names that are missing.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="sphinx builds the docs: pip install -e '.[test]' installs it")
pytest.importorskip("myst_parser", reason="myst-parser reads the guide's Markdown: pip install -e '.[test]'")

from sphinx.util.inventory import InventoryFile  # noqa: E402

import webhooklab  # noqa: E402
import webhooklab.demos  # noqa: E402
import webhooklab.exercises  # noqa: E402
import webhooklab.grader  # noqa: E402
import webhooklab.testing  # noqa: E402
import webhooklab.widgets  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def public_names() -> set[str]:
    """Every name a user imports: the packages' __all__, and each exercise check a notebook calls."""
    names = {f"{package.__name__}.{name}" for package in (webhooklab, webhooklab.testing, webhooklab.widgets,
                                                          webhooklab.demos, webhooklab.grader)
             for name in package.__all__}  # fmt: skip
    names |= {f"webhooklab.exercises.{check}" for check, _notebook in webhooklab.exercises.catalogue()}
    return names


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    command = [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
               str(ROOT / "docs"), str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, f"the docs do not build cleanly:\n{done.stderr}{done.stdout}"
    return out


def documented(html: Path) -> set[str]:
    with open(html / "objects.inv", "rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    return {name for kind, entries in inventory.items() if kind.startswith("py:") for name in entries}


def test_every_public_name_is_in_the_reference(built):
    missing = sorted(public_names() - documented(built))
    assert not missing, f"public names without an entry in docs/reference/: {missing}"


def test_the_guide_and_the_changelog_are_built(built):
    for page in ("index", "guide/learner", "guide/instructor", "guide/developer", "changelog", "reference/index"):
        assert (built / f"{page}.html").is_file(), page


def test_the_reference_names_objects_where_users_find_them(built):
    receiving = (built / "reference" / "receiving.html").read_text(encoding="utf-8")
    assert 'id="webhooklab.Receiver"' in receiving
    assert "_receiving.receiver.Receiver" not in receiving
