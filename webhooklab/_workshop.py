"""The learner's own copy of the guided notebooks (with their pictures), the data sets and the example apps, so the
package's files stay pristine."""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGE = Path(__file__).parent
SHIPPED = ("notebooks", "datasets", "examples")


def shipped(name: str) -> Path:
    """A folder that ships with webhooklab: inside the installed package, or beside it in a checkout."""
    for candidate in (PACKAGE / name, PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"webhooklab's {name}/ folder is missing from {PACKAGE}: reinstall the package")


def prepare(folder: str | Path, *, reset: bool = False) -> tuple[Path, int, int]:
    """Copy the notebooks (with solutions/ and images/), datasets/ and examples/ into `folder`.

    A file the learner already has is kept as it is, unless `reset` is true.
    Returns the folder, how many files were copied and how many were kept.
    """
    folder = Path(folder).resolve()
    copied = kept = 0
    for name in SHIPPED:
        source = shipped(name)
        target_root = folder if name == "notebooks" else folder / name
        for path in sorted(source.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or ".ipynb_checkpoints" in path.parts:
                continue
            target = target_root / path.relative_to(source)
            if target.exists() and not reset:
                kept += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            copied += 1
    return folder, copied, kept
