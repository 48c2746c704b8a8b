"""Write the course's shared parts into the notebooks from tools/course.toml, the one place they are kept.

Each notebook gets a previous / contents / next bar at its top and bottom, its title line, and a card with
its time, what to do first and what you will learn; the index gets the table of contents. Generated cells
carry a tag, so running this again replaces them in place.

    python tools/course.py            # write the notebooks
    python tools/course.py --check    # exit 1, naming each notebook that is out of date
"""

import argparse
import re
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCE = Path(__file__).with_name("course.toml")
NAV, CARD, CONTENTS = "course-nav", "course-card", "course-contents"


def load(source: Path = SOURCE) -> list[dict]:
    """The notebooks in order, each with its two-digit number."""
    entries = tomllib.loads(source.read_text(encoding="utf-8"))["notebook"]
    for entry in entries:
        entry["number"] = re.search(r"\d\d", entry["file"]).group()
    return entries


def link(entry: dict, text: str | None = None) -> str:
    return f"[{text or entry['short']}]({entry['file']})"


def nav(entries: list[dict], i: int) -> str:
    parts = []
    if i > 0:
        parts.append(link(entries[i - 1], f"← {entries[i - 1]['short']}"))
    if i > 1:  # right after the index, "previous" is the contents already
        parts.append(link(entries[0], "Contents"))
    if i + 1 < len(entries):
        parts.append(link(entries[i + 1], f"{entries[i + 1]['short']} →"))
    return " | ".join(parts)


def minutes(total: int) -> str:
    hours, rest = divmod(total, 60)
    return f"{hours} h {rest} min" if hours and rest else f"{hours} h" if hours else f"{rest} minutes"


def first(entry: dict, by_number: dict) -> str:
    """What to have done or known before this notebook."""
    done = [link(by_number[number]) for number in entry.get("after", [])]
    parts = [", ".join(done)] if done else []
    if "knowing" in entry:
        parts.append(entry["knowing"])
    return "; ".join(parts)


def card(entry: dict, entries: list[dict]) -> str:
    by_number = {e["number"]: e for e in entries}
    lines = [f"**Time:** about {minutes(entry['minutes'])}  ", f"**Before this:** {first(entry, by_number)}", ""]
    lines += ["**In this notebook you will:**"]
    lines += [f"{n}. {objective}" for n, objective in enumerate(entry["objectives"], 1)]
    return "\n".join([*lines, "", entry["note"]])


def contents(entries: list[dict]) -> str:
    by_number = {e["number"]: e for e in entries}
    rows = ["| notebook | you will | before it | time |", "|---|---|---|---|"]
    for entry in entries[1:]:
        before = ", ".join(by_number[n]["number"] for n in entry.get("after", [])) or "nothing"
        rows.append(f"| {link(entry)} | {entry['summary']} | {before} | {entry['minutes']} min |")
    path = [e for e in entries[1:] if "OPTIONAL" not in e["file"]]
    optional = sum(e["minutes"] for e in entries[1:] if "OPTIONAL" in e["file"])
    total = f"The path takes about {minutes(sum(e['minutes'] for e in path))}"
    model = ("Each time comes from one model of a newcomer's pace (reading, running cells, exercises), in "
             "`tools/course_time.py`, which states its rates; yours may differ. A long notebook marks a good place to stop.")
    return "\n".join([*rows, "", f"{total}, and the optional notebook {optional} minutes more. {model}"])


def tagged(tag: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["tags"] = [tag]
    return cell


def place(cells: list, index: int, tag: str, source: str) -> None:
    """Put a generated cell at `index`, reusing the one already there (and its id) when it carries the tag."""
    if index < len(cells) and tag in cells[index].get("metadata", {}).get("tags", []):
        cells[index].source = source
    else:
        cells.insert(index, tagged(tag, source))


def apply(notebook: nbformat.NotebookNode, entries: list[dict], i: int) -> nbformat.NotebookNode:
    """The notebook with its generated cells up to date."""
    entry, cells = entries[i], notebook.cells
    place(cells, 0, NAV, nav(entries, i))
    title = cells[1]
    title.source = re.sub(r"\A#[^\n]*", f"# {entry['title']}", title.source, count=1)
    place(cells, 2, CARD, card(entry, entries))
    if i == 0:
        at = next(n for n, cell in enumerate(cells) if "## 2. The learning path" in cell.source) + 1
        place(cells, at, CONTENTS, contents(entries))
    if len(cells) > 3 and NAV in cells[-1].get("metadata", {}).get("tags", []):
        cells[-1].source = nav(entries, i)
    else:
        cells.append(tagged(NAV, nav(entries, i)))
    return notebook


def stale(entries: list[dict], write: bool) -> list[str]:
    """The notebooks whose generated parts differ from the course file (written, unless checking)."""
    wanted = {}
    for i, entry in enumerate(entries):
        path = NOTEBOOKS / entry["file"]
        wanted[path] = nbformat.writes(apply(nbformat.read(path, 4), entries, i)) + "\n"
    return refresh(wanted, write)


def refresh(wanted: dict[Path, str], write: bool) -> list[str]:
    """The names of the files whose text on disk is not `wanted`'s: each tool's generated files (written, unless
    checking)."""
    out = []
    for path, text in wanted.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            out.append(path.name)
            if write:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return out


def report(changed: list[str], checking: bool) -> int:
    """What a tool's run changed, or found out of date; 1 when checking found any."""
    for name in changed:
        print(f"{'out of date' if checking else 'wrote'}: {name}")
    return 1 if checking and changed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if a notebook is out of date")
    args = parser.parse_args(argv)
    entries = load()
    listed, found = {e["file"] for e in entries}, {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    for names, problem in ((found - listed, f"not in {SOURCE.name}"), (listed - found, "listed but not found")):
        if names:
            print(f"{problem}: {', '.join(sorted(names))}", file=sys.stderr)
            return 1
    return report(stale(entries, write=not args.check), args.check)


if __name__ == "__main__":
    sys.exit(main())
