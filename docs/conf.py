"""Sphinx configuration: the reference is read from the docstrings, the guide is Markdown (MyST).

Build (offline; warnings are errors):
    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sphinx.util import logging

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the package in this checkout, installed or not

import webhooklab  # noqa: E402

logger = logging.getLogger(__name__)

project = "webhooklab"
author = "webhooklab"
copyright = "webhooklab's authors"
release = version = webhooklab.__version__

extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# The docstrings quote code in single backticks: show it as code.
default_role = "literal"

autoclass_content = "both"  # the class docstring, then __init__'s when it has one
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}

myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"webhooklab {release}"
html_theme_options = {"description": "Learn how webhooks work by running them.", "fixed_sidebar": False}
html_static_path: list[str] = []


# The docstrings are written for help() in a notebook: plain text whose indented blocks are code or
# aligned tables. They are read here as reStructuredText, with each indented block shown as written.
BULLET = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
DOCTEST = re.compile(r"^\s*(>>>|\.\.\.)( |$)")
TRAILING_UNDERSCORE = re.compile(r"(?<![\w\\])(\w+)_(?![\w`])")  # whsk_ is a prefix here, not a link
CODE_SPAN = re.compile(r"(`[^`]*`)")


def indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def as_text(line: str) -> str:
    """Escape what reStructuredText would take for markup in a line of prose, outside its `code`."""
    parts = CODE_SPAN.split(line)
    for i in range(0, len(parts), 2):
        parts[i] = TRAILING_UNDERSCORE.sub(r"\1\\_", parts[i])
    return "".join(parts)


CODE_LINE = re.compile(
    r"^(@\w|#|(def|class|import|from)\s"  # a decorator, a comment, a definition, an import
    r"|[A-Za-z_][\w.]*(\[[^\]]*\])*\s*(\(|\[|=(?!=)|\+=)"  # a call, a subscript, an assignment
    r"|[A-Za-z_]\w*(,\s*[A-Za-z_]\w*)+\s+=\s)"  # first, second = ...
)
ALIGNED_COMMENT = re.compile(r"\s{2,}#\s.*$")
STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
TABLE_ROW = re.compile(r"^\S+ {2,}\S")  # a name, then its description in a column
WORDS = re.compile(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+")  # a sentence that starts with a call: "f(x) returns ..."


def is_code(line: str) -> bool:
    text = line.strip()
    if DOCTEST.match(text) or not (CODE_LINE.match(text) or ALIGNED_COMMENT.search(text)):
        return False
    statement = STRING.sub('""', ALIGNED_COMMENT.sub("", text))
    return text.startswith(("import ", "from ")) or not WORDS.search(statement)


def paragraphs(lines: list[str]) -> list[list[str]]:
    found: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            found[-1].append(line)
        elif found[-1]:
            found.append([])
    return [p for p in found if p]


def code_run(paragraph: list[str]) -> int:
    """How many of the paragraph's first lines are code: a line, or a line indented under one."""
    if not is_code(paragraph[0]):
        return 0
    top = indent(paragraph[0])
    n = 1
    while n < len(paragraph) and (is_code(paragraph[n]) or indent(paragraph[n]) > top):
        n += 1
    return n


def indented_code(lines: list[str]) -> list[str]:
    """Indent the code a docstring writes at the level of its prose (as help() shows it) under that prose."""
    out: list[str] = []
    for paragraph in paragraphs(lines):
        if DOCTEST.match(paragraph[0]):
            out += paragraph + [""]
            continue
        if len(paragraph) > 1 and all(TABLE_ROW.match(line.strip()) for line in paragraph):  # aligned columns
            out += ["    " + line for line in paragraph] + [""]
            continue
        n = code_run(paragraph)
        rest = paragraph[n:]
        if n and (not rest or rest[0].lstrip()[:1].isupper() or rest[0].lstrip().startswith("`")):
            out += ["    " + line for line in paragraph[:n]] + [""]
            if rest:
                out += rest + [""]
            continue
        for i, line in enumerate(paragraph[:-1]):  # prose that ends with ":" and code to the end
            tail = paragraph[i + 1 :]
            if line.rstrip().endswith(":") and not is_code(line) and code_run(tail) == len(tail):
                out += paragraph[: i + 1] + [""] + ["    " + x for x in tail] + [""]
                break
        else:
            out += paragraph + [""]
    return out


def plain_docstring(lines: list[str]) -> list[str]:
    lines = indented_code(lines)
    out: list[str] = []
    base = 0  # the indentation of the prose around
    hang = None  # the indentation of a list item's continuation lines
    in_literal = False
    for line in lines:
        if not line.strip():
            out.append(line)
            continue
        level = indent(line)
        if in_literal:
            if level > base:
                out.append(line)
                continue
            in_literal = False
            if out and out[-1].strip():
                out.append("")
        if DOCTEST.match(line) or (out and DOCTEST.match(out[-1]) and out[-1].strip()):
            out.append(line)
            continue
        previous = next((x for x in reversed(out) if x.strip()), None)
        if previous is not None and level > base and level != hang:
            if not previous.rstrip().endswith("::"):
                if out[-1].strip():
                    out.append("")
                out += [" " * base + "::", ""]
            elif out[-1].strip():
                out.append("")
            in_literal = True
            out.append(line)
            continue
        bullet = BULLET.match(line)
        hang = bullet.end() if bullet else (hang if level == hang else None)
        base = level if hang is None or level != hang else base
        out.append(as_text(line))
    return out


def read_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    lines[:] = plain_docstring(lines)


# The changelog page shows CHANGELOG.md from the repository's root, when there is one. A link of its to a file
# of the repository (README.md) has no page here: it is shown as the file's name.
CHANGELOG = ROOT / "CHANGELOG.md"
FILE_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?![A-Za-z][A-Za-z0-9+.-]*:|#)([^)\s]+)\)")


def changelog_source() -> str:
    if not CHANGELOG.is_file():
        return "# Changelog\n\nThis checkout has no CHANGELOG.md yet: the changes of each release will be listed here.\n"
    text = FILE_LINK.sub(r"\1 (`\2`)", CHANGELOG.read_text(encoding="utf-8"))
    first = next((line for line in text.splitlines() if line.strip()), "")
    return text if first.startswith("# ") else f"# Changelog\n\n{text}"


def read_source(app, docname: str, source: list[str]) -> None:
    if docname == "changelog":
        source[0] = changelog_source()
        if CHANGELOG.is_file():
            app.env.note_dependency(str(CHANGELOG))


def check_guide_link(app, env, node, contnode):
    """A guide's link to the reference must land: a name it links to that the reference lacks fails the build."""
    if node.get("refdomain") == "py" and not node.get("refdoc", "").startswith("reference/"):
        logger.warning("%s links to %s, which the reference does not document", node.get("refdoc"),
                       node.get("reftarget"), location=node)  # fmt: skip
    return None


def setup(app):
    app.connect("source-read", read_source)
    app.connect("autodoc-process-docstring", read_docstring)
    app.connect("missing-reference", check_guide_link)
