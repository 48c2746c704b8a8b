"""How long each notebook takes a newcomer, from what is in it: the model behind the times on the cards.

A notebook's time is the sum of four parts, each with a stated rate:

- its prose (markdown, without the generated bars and card) read at READING_WPM words a minute;
- each code cell run and its output read, CELL_MINUTES; the code itself read at CODE_WPM words a minute;
- each diagram looked at, DIAGRAM_MINUTES;
- each exercise (a cell that loads a solution from solutions/), by its kind: the size of its solution.

The rates are our assumptions, not measurements of testers: change them here when a class has been timed.
Times are rounded to ROUND_TO minutes. A notebook longer than SITTING minutes carries a "good place to stop"
cell (tagged STOP) at a section boundary; the model reports the time of each part.

    python tools/course_time.py            # the table, with the rates it uses
    python tools/course_time.py --write    # put the times into tools/course.toml and the notebooks' cards
"""

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parent))
import course  # noqa: E402

READING_WPM = 175  # technical prose, read once with care (150-200 words a minute)
CODE_WPM = 100  # code read before running it
CELL_MINUTES = 0.5  # run a cell and read what it printed
DIAGRAM_MINUTES = 0.5
# Exercise kinds by the lines of code (not comments) in their solution: (most lines, minutes, kind).
EXERCISES = ((3, 3, "fill in a value or one line"), (10, 8, "write a short function"),
             (None, 15, "write a handler or a longer function"))  # fmt: skip
ROUND_TO = 5
SITTING = 60  # longer than this, say where to stop
STOP = "course-stop"
GENERATED = {course.NAV, course.CARD, course.CONTENTS}
SOLUTIONS = course.NOTEBOOKS / "solutions"
PICTURE = r"!\[[^\]]*\]\(images/[^)]+\.svg\)"


@dataclass(frozen=True)
class Estimate:
    reading: float
    code: float
    diagrams: float
    exercises: float
    words: int
    cells: int
    exercise_count: int

    @property
    def minutes(self) -> float:
        return self.reading + self.code + self.diagrams + self.exercises


def exercise_minutes(solution: str) -> int:
    lines = [line for line in (SOLUTIONS / solution).read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.strip().startswith("#")]  # fmt: skip
    return next(minutes for most, minutes, _ in EXERCISES if most is None or len(lines) <= most)


def estimate(cells: list) -> Estimate:
    """The model's time for these cells (a whole notebook or one part of it)."""
    prose = [c.source for c in cells if c.cell_type == "markdown" and not GENERATED & set(c.metadata.get("tags", []))]
    code = [c.source for c in cells if c.cell_type == "code"]
    solutions = [m.group(1) for source in code for m in [re.search(r"%load solutions/(\S+)", source)] if m]
    words = sum(len(re.sub(PICTURE, "", source).split()) for source in prose)  # a diagram's alt text is not read
    code_words = sum(len(source.split()) for source in code if "%load" not in source)
    diagrams = sum(len(re.findall(PICTURE, source)) for source in prose)
    return Estimate(
        reading=words / READING_WPM, code=len(code) * CELL_MINUTES + code_words / CODE_WPM,
        diagrams=diagrams * DIAGRAM_MINUTES, exercises=sum(exercise_minutes(name) for name in solutions),
        words=words, cells=len(code), exercise_count=len(solutions),
    )  # fmt: skip


def rounded(minutes: float) -> int:
    return max(ROUND_TO, ROUND_TO * round(minutes / ROUND_TO))


def parts(notebook: nbformat.NotebookNode) -> list[float]:
    """The model's minutes for each part of a notebook, between its "good place to stop" cells."""
    out, start = [], 0
    for i, cell in enumerate(notebook.cells):
        if STOP in cell.metadata.get("tags", []):
            out.append(estimate(notebook.cells[start:i]).minutes)
            start = i
    return [*out, estimate(notebook.cells[start:]).minutes]


def model() -> dict[str, Estimate]:
    """Each notebook of the course, by file name, with its estimate."""
    return {e["file"]: estimate(nbformat.read(course.NOTEBOOKS / e["file"], as_version=4).cells) for e in course.load()}


def rates() -> str:
    kinds = "; ".join(f"{minutes} min to {kind}" for _, minutes, kind in EXERCISES)
    return (f"prose read at {READING_WPM} words a minute, code at {CODE_WPM}; {CELL_MINUTES} min to run each code cell "
            f"and read its output; {DIAGRAM_MINUTES} min a diagram; per exercise, by its solution's size: {kinds}. "
            "All our assumptions, not yet measured with testers.")  # fmt: skip


def write(times: dict[str, int], source: Path = course.SOURCE) -> None:
    """Set each entry's `minutes` in the course file, leaving every other line as it is."""
    text, out, current = source.read_text(encoding="utf-8"), [], None
    for line in text.splitlines(keepends=True):
        if found := re.match(r'file = "([^"]+)"', line):
            current = found.group(1)
        if current in times and re.match(r"minutes = \d+", line):
            line = f"minutes = {times[current]}\n"
        out.append(line)
    source.write_text("".join(out), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the times into course.toml and the cards")
    args = parser.parse_args(argv)
    estimates, path = model(), 0
    print(f"Rates: {rates()}\n")
    print(f"{'notebook':48} {'words':>6} {'cells':>5} {'exer.':>5} {'read':>5} {'code':>5} {'exer.':>5} {'total':>6}")
    for name, e in estimates.items():
        split = parts(nbformat.read(course.NOTEBOOKS / name, as_version=4))
        pieces = " (parts: " + " + ".join(f"{p:.0f}" for p in split) + ")" if len(split) > 1 else ""
        print(f"{name:48} {e.words:6} {e.cells:5} {e.exercise_count:5} {e.reading:5.0f} {e.code:5.0f} "
              f"{e.exercises:5.0f} {rounded(e.minutes):4} min{pieces}")  # fmt: skip
        path += rounded(e.minutes) if name[:2].isdigit() and not name.startswith("00") else 0
    print(f"\nThe path (01-08): {course.minutes(path)}")
    if args.write:
        write({name: rounded(e.minutes) for name, e in estimates.items()})
        course.stale(course.load(), write=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
