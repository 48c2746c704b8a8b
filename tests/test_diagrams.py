"""The course's diagrams: well-formed, self-contained SVG with a title and a description, drawn by tools/diagrams.py,
each shown by a notebook with alt text, and carried into the learner's copy and the wheel."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parent.parent
IMAGES = ROOT / "notebooks" / "images"
SVG = "{http://www.w3.org/2000/svg}"
DIAGRAMS = sorted(IMAGES.glob("*.svg"))
PICTURE = re.compile(r"!\[([^\]]*)\]\((images/[^)\s]+)\)")
# Each core idea, and the notebook where it is taught.
IDEAS = {"round-trip.svg": "01.00", "push-versus-poll.svg": "02.00", "signature.svg": "03.00",
         "retry-schedule.svg": "04.00", "relay.svg": "07.00"}  # fmt: skip


def pictures() -> list[tuple[str, str, str]]:
    """(notebook, alt text, path) for every picture a notebook shows."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                found += [(path.name, alt, src) for alt, src in PICTURE.findall(cell.source)]
    return found


def test_the_diagrams_are_up_to_date_with_their_script():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "diagrams.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_there_is_a_diagram_for_each_core_idea():
    assert set(IDEAS) <= {path.name for path in DIAGRAMS}


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda path: path.name)
def test_each_diagram_is_well_formed_titled_described_and_self_contained(path):
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg" and root.get("viewBox") and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text.strip() and desc is not None and len(desc.text.split()) >= 10
    words = [node.text for node in root.iter(f"{SVG}text") if node.text and node.text.strip()]
    assert len(words) >= 5, "the words are text, not drawn paths"
    # Its own background, so it reads the same in a light and a dark theme.
    background = root.find(f"{SVG}rect")
    assert background.get("width") == root.get("width") and background.get("fill") == "#ffffff"
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"(?i)<script|@import|@font-face|url\((?!#)|href=\"(?!#)|xlink:href", source)
    assert {node.get("font-family") for node in root.iter() if node.get("font-family")} == {"sans-serif"}


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda path: path.name)
def test_each_diagram_is_shown_by_a_notebook_with_alt_text(path):
    shown = [(notebook, alt) for notebook, alt, src in pictures() if src == f"images/{path.name}"]
    assert shown, f"no notebook shows {path.name}"
    assert all(len(alt.split()) >= 5 for _, alt in shown), "alt text says what the picture shows"
    if path.name in IDEAS:
        assert any(notebook.startswith(IDEAS[path.name]) for notebook, _ in shown), "shown where its idea is taught"


def test_every_picture_a_notebook_shows_exists():
    assert all((ROOT / "notebooks" / src).is_file() for _, _, src in pictures())


def test_the_readme_shows_the_round_trip():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (alt,) = re.findall(r"!\[([^\]]+)\]\(notebooks/images/round-trip\.svg\)", readme)
    assert len(alt.split()) >= 5


def test_the_learners_copy_carries_the_diagrams_and_the_examples(tmp_path):
    from webhooklab._workshop import prepare

    folder, copied, kept = prepare(tmp_path / "workshop")
    assert all((folder / "images" / path.name).read_bytes() == path.read_bytes() for path in DIAGRAMS)
    examples = [path.relative_to(ROOT) for path in (ROOT / "examples").rglob("*.py") if "__pycache__" not in path.parts]
    assert examples and all((folder / path).read_bytes() == (ROOT / path).read_bytes() for path in examples)
    assert kept == 0 and prepare(folder)[1:] == (0, copied)
