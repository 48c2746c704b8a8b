"""The tree is the architecture: wings whose imports run one way, no cycle, and a README that shows the tree."""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "webhooklab"
README = PACKAGE.parent / "README.md"

# Lowest first: a module may import its own layer and the ones before it, never a later one.
LAYERS = [
    ("base", ("_errors", "_checks", "_event", "_redact", "_workshop", "_exports", "_version")),
    ("sending", ("_sending",)),
    ("providers", ("_providers",)),
    ("receiving", ("_receiving",)),
    ("course and tools", ("_experiments", "_classroom", "widgets", "demos", "exercises", "grader", "testing")),
    ("entry points", ("", "__main__", "_cli")),
]
# What the lower wings may never import, at load time or inside a function.
WEB_LAYER = {"flask", "waitress"}


def module_name(path: Path) -> str:
    parts = ["webhooklab", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> tuple[set[str], set[str]]:
    """(webhooklab modules, other top-level packages) that `name` imports anywhere in its file."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    ours, theirs = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                (ours if alias.name.split(".")[0] == "webhooklab" else theirs).add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and not (node.module or "").startswith("webhooklab"):
                theirs.add(node.module)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:  # `from . import links` imports the module links
                ours.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in ours if m in MODULES}, {m.split(".")[0] for m in theirs}


def layer(name: str) -> int:
    first = name.split(".")[1] if "." in name else ""
    for rank, (_, members) in enumerate(LAYERS):
        if first in members:
            return rank
    raise AssertionError(f"{name} belongs to no wing: add it to LAYERS and to the README's layout")


GRAPH = {name: imports(name)[0] for name in MODULES}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_one_way(name):
    upward = sorted(m for m in GRAPH[name] if layer(m) > layer(name))
    assert not upward, f"{name} ({LAYERS[layer(name)][0]}) imports {upward} from a wing above it"


@pytest.mark.parametrize("name", sorted(m for m in MODULES if layer(m) <= 2))
def test_the_base_sending_and_providers_never_touch_the_web_layer(name):
    receiving = sorted(m for m in GRAPH[name] if layer(m) >= 3)
    web = sorted(imports(name)[1] & WEB_LAYER)
    assert not receiving and not web, f"{name} imports {receiving + web}"


def test_there_is_no_import_cycle():
    """Tarjan's strongly connected components: any of more than one module is a cycle."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (top := stack.pop()) != node:
                on_stack.discard(top)
                component.append(top)
            on_stack.discard(node)
            if component:
                cycles.append(sorted([node, *component]))

    for node in GRAPH:
        if node not in index:
            visit(node)
    assert not cycles, f"modules that import each other: {cycles}"


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path):
    """The graph is read from the source: a lazy import inside a function counts too."""
    assert "webhooklab._receiving.remote" in GRAPH["webhooklab._receiving.receiver"]
    assert "webhooklab._receiving.receiver" in GRAPH["webhooklab._receiving.joining"]  # imported inside no function
    assert "webhooklab._receiving.store" in GRAPH["webhooklab._receiving.remote"]  # imported inside a function
    assert layer("webhooklab._receiving.store") > layer("webhooklab._providers.twilio")


def layout_block() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"```\n(webhooklab/.*?)```", text, re.DOTALL)
    assert found, "the README's layout section (a code block that starts with webhooklab/) is missing"
    return found.group(1)


def test_the_readme_layout_names_every_module_and_nothing_else():
    """Every entry of the package's folder, and every module of the three wings, is in the layout; nothing more."""
    block = layout_block()
    files = set(re.findall(r"(?<![\w/<])(?:[\w.]+\.py|\w+/)", block))  # not /b/<token>/ or sign/verify
    words = set(re.findall(r"\w+", block))
    top = {p.name + ("/" if p.is_dir() else "") for p in PACKAGE.iterdir()
           if p.suffix == ".py" or (p / "__init__.py").exists()}  # fmt: skip
    wings = {p for wing in ("_sending", "_providers", "_receiving") for p in (PACKAGE / wing).glob("*.py")}
    missing = sorted(top - files) + sorted(p.name for p in wings if p.name != "__init__.py" and p.stem not in words)
    assert not missing, f"in the package but not in the README's layout: {missing}"
    known = top | {p.name for p in PACKAGE.rglob("*.py")} | {p.name + "/" for p in PACKAGE.rglob("*") if p.is_dir()}
    elsewhere = {"notebooks/", "tools/", "datasets/", "examples/", "tests/", "benchmarks/", "binder/", "captured/",
                 "docs/", "flask_app/", "fastapi_app/", "solutions/", "images/", "webhooklab/"}  # fmt: skip
    elsewhere |= {p.name for p in (PACKAGE.parent / "tools").glob("*.py")}
    stale = sorted(files - known - elsewhere)
    assert not stale, f"in the README's layout but not in the package: {stale}"


def test_each_wing_says_what_it_holds():
    """A wing's docstring names each of its modules, so the folder explains itself."""
    for wing in ("_sending", "_receiving", "_classroom", "_experiments", "demos"):
        doc = ast.get_docstring(ast.parse((PACKAGE / wing / "__init__.py").read_text(encoding="utf-8"))) or ""
        modules = sorted(p.name for p in (PACKAGE / wing).glob("*.py") if p.name != "__init__.py")
        unnamed = [m for m in modules if m not in doc]
        assert not unnamed, f"webhooklab/{wing}/__init__.py does not say what {unnamed} hold"
