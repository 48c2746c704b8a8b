"""The README's "Test your own endpoint" section, read as a developer copies it: its files, by name.

Each of its Python code blocks starts with a comment naming the file it is (`# conftest.py`), so the
tests can write them out as they stand and run them with pytest in a fresh process.
"""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
HEADING = "## Test your own endpoint"


def section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(HEADING)
    end = readme.find("\n## ", start + len(HEADING))
    return readme[start : end if end != -1 else None]


def files() -> dict[str, str]:
    """Each code block of the section by the file name its first line gives."""
    found = {}
    for block in re.findall(r"```python\n(.*?)```", section(), re.S):
        first, _, rest = block.partition("\n")
        name = re.fullmatch(r"# (\w+\.py)", first.strip())
        assert name, f"expected each code block of {HEADING!r} to start with '# <file>.py', got {first!r}"
        found[name.group(1)] = rest
    return found


def write(folder: Path, *names: str) -> None:
    """Write the named files of the section into `folder`, exactly as the README shows them."""
    blocks = files()
    for name in names:
        (folder / name).write_text(blocks[name], encoding="utf-8")
