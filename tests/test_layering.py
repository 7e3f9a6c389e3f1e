"""The import structure of ``src/transferscope``, checked on the source (AST), not by importing it.

Every ``import`` counts, also those inside functions (a lazy import is still a dependency).
Each failure lists its violations as ``path:line: what``.

Layering (imports point downward only)::

    cli                       workflows, report and the leaves: it parses, calls workflows, renders
    report                    workflows (the results store) and the leaves: it draws results, never computes them
    transferscope (facade)    the package ``__init__``: anything but cli
    workflows                 extraction, probes, datasets, metrics and the leaves; not cli
    extraction                datasets, metrics and the leaves
    datasets, probes          metrics and the leaves; neither imports the other or extraction
    metrics                   transferscope.errors only (and itself)
    hashing, torch_support    transferscope.errors only (and the standard library / third parties)
    errors, _version          nothing of transferscope

Inside workflows, the engine (``workflows/engine``), the infrastructure (``workflows/storage``)
and the published data (``workflows/published``) sit below the commands (the package's own
modules): no part imports a command, and only the engine imports another part (storage).

The one edge between siblings is ``extraction -> datasets``: the model zoo
(``extraction/zoo.py``) trains its source models on the built-in digit tasks of
``datasets/digits.py``; datasets key their inputs with :mod:`transferscope.hashing`,
below both, and never import extraction.

Private names: no module imports a name ``_x`` from another module, nor a private
module (a path component ``_b``) from outside the package that holds it;
``transferscope._version`` is the one private module open to every layer.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "transferscope"
PACKAGE = "transferscope"
FACADE = PACKAGE  # the unit of transferscope/__init__.py

LEAVES = {"hashing", "torch_support", "errors", "_version"}
#: unit -> the other units it may import.
MAY_IMPORT: dict[str, set[str]] = {
    "__main__": {"cli"},
    "report": {"workflows"} | LEAVES,
    FACADE: {"workflows", "extraction", "probes", "datasets", "metrics"} | LEAVES,
    "workflows": {"extraction", "probes", "datasets", "metrics"} | LEAVES,
    "extraction": {"datasets", "metrics"} | LEAVES,
    "datasets": {"metrics"} | LEAVES,
    "probes": {"metrics"} | LEAVES,
    "metrics": {"errors"},
    "hashing": {"errors"},
    "torch_support": {"errors"},
    "errors": set(),
    "_version": set(),
}
MAY_IMPORT["cli"] = {"workflows", "report"} | LEAVES  # the CLI calls workflows, never the floors below them
#: Inside workflows: the parts below the commands, and the other parts each may import. The
#: commands (the package's own modules) may import every part; no part imports a command.
WORKFLOW_PARTS: dict[str, set[str]] = {
    "storage": set(),  # infrastructure: the results store, result files, folders, display names
    "published": set(),  # published numbers (package data) and the literature's benchmarks
    "engine": {"storage"},  # candidates, scoring, the score cache, fine-tuning as measured transfer
}
#: Private modules every unit may import.
OPEN_PRIVATE = {"transferscope._version"}
#: Libraries ``import transferscope`` and ``import transferscope.cli.app`` must not load.
HEAVY = ("torch", "sklearn", "matplotlib", "faiss", "duckdb", "ray", "transformers")


@dataclass(frozen=True)
class Import:
    """One imported module (and the name taken from it, if any) at one line of one file."""

    path: Path
    line: int
    importer: str
    module: str
    name: str | None = None

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT.parents[1])}:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether ``name`` (``transferscope.x.y``) is a module or package of the source tree."""
    target = ROOT.parent.joinpath(*name.split("."))
    return target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()


def resolve(importer: str, is_package: bool, module: str | None, level: int) -> str:
    if not level:
        return module or ""
    base = importer.split(".")
    base = base[: len(base) - level + (1 if is_package else 0)]
    return ".".join(base + ([module] if module else []))


def scan() -> Iterator[Import]:
    """Every import of a transferscope module in the source tree."""
    for path in sorted(ROOT.rglob("*.py")):
        importer = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == PACKAGE:
                        yield Import(path, node.lineno, importer, alias.name)
            elif isinstance(node, ast.ImportFrom):
                module = resolve(importer, path.name == "__init__.py", node.module, node.level)
                if module.split(".")[0] != PACKAGE:
                    continue
                for alias in node.names:
                    if is_module(f"{module}.{alias.name}"):  # from package import submodule
                        yield Import(path, node.lineno, importer, f"{module}.{alias.name}")
                    else:
                        yield Import(path, node.lineno, importer, module, alias.name)


def unit(module: str) -> str:
    """The subpackage or top-level module that holds ``module`` (``transferscope`` for the facade)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else FACADE


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


IMPORTS = list(scan())


def private_violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        if imp.name is not None and is_private(imp.name) and imp.module != imp.importer:
            found.append(f"{imp.where()}: {imp.importer} imports the private name "
                         f"{imp.name} from {imp.module}")
        parts = imp.module.split(".")
        private = [i for i, part in enumerate(parts) if is_private(part)]
        if not private or imp.module in OPEN_PRIVATE:
            continue
        owner = ".".join(parts[: private[0]])
        if owner == PACKAGE or not (imp.importer == owner or imp.importer.startswith(owner + ".")):
            found.append(f"{imp.where()}: {imp.importer} imports {imp.module}, a private module "
                         f"of {owner}")
    return sorted(set(found), key=lambda text: by_line(text.split(": ", 1)[0]))


def layering_violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        source, target = unit(imp.importer), unit(imp.module)
        if source == target:
            continue
        if source not in MAY_IMPORT:
            found.append(f"{imp.where()}: {source} is not in the layering table of tests/test_layering.py")
            continue
        if target not in MAY_IMPORT[source]:
            found.append(f"{imp.where()}: {source} may not import {target} ({imp.module})")
    return sorted(set(found), key=lambda text: by_line(text.split(": ", 1)[0]))


def workflow_part(module: str) -> str | None:
    """``engine``, ``storage``, ``published`` or ``commands`` for a module of workflows; else None."""
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "workflows":
        return None
    return parts[2] if parts[2] in WORKFLOW_PARTS else "commands"


def workflow_violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        source, target = workflow_part(imp.importer), workflow_part(imp.module)
        if source in WORKFLOW_PARTS and target is not None and target != source \
                and target not in WORKFLOW_PARTS[source]:
            found.append(f"{imp.where()}: workflows.{source} may not import {imp.module} ({target})")
    return sorted(set(found), key=lambda text: by_line(text.split(": ", 1)[0]))


def by_line(where: str) -> tuple[str, int]:
    path, line = where.rsplit(":", 1)
    return path, int(line)


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def cycle_violations(imports: list[Import]) -> list[str]:
    """Every edge between units that lies on a cycle, with the lines that make it."""
    lines: dict[tuple[str, str], set[Import]] = {}
    for imp in imports:
        source, target = unit(imp.importer), unit(imp.module)
        if source != target:
            lines.setdefault((source, target), set()).add(imp)
    edges: dict[str, set[str]] = {}
    for source, target in lines:
        edges.setdefault(source, set()).add(target)
    found = []
    for (source, target), where in sorted(lines.items()):
        if source in reachable(edges, target):
            against = "" if target in MAY_IMPORT.get(source, ()) else " (against the layering)"
            found.append(f"{source} -> {target}{against} is on a cycle ({target} imports {source}, directly or "
                         f"not), at: {', '.join(sorted({i.where() for i in where}, key=by_line))}")
    return found


def missing_modules(imports: list[Import]) -> list[str]:
    found = [f"{imp.where()}: {imp.importer} imports {imp.module}, which is not in the source tree"
             for imp in imports if not is_module(imp.module)]
    return sorted(set(found), key=lambda text: by_line(text.split(": ", 1)[0]))


def report(kind: str, found: list[str]) -> str:
    return f"{len(found)} {kind}:\n" + "\n".join(found)


# -- the checker itself ----------------------------------------------------------


def test_scan_sees_the_source_tree():
    units = {unit(imp.importer) for imp in IMPORTS}
    assert {"cli", "workflows", "extraction", "datasets", "probes", "metrics"} <= units
    assert any(imp.module == "transferscope.hashing" for imp in IMPORTS)


@pytest.mark.parametrize(("importer", "module", "name", "bad"), [
    ("transferscope.probes.knn", "transferscope.metrics._validation", "check_features", True),
    ("transferscope.metrics.transferability.logme", "transferscope.metrics._validation", "check_features", False),
    ("transferscope.cli.rank", "transferscope.cli._common", "console", False),
    ("transferscope.metrics", "transferscope.metrics._validation", "check_features", False),
    ("transferscope.extraction.hf", "transferscope.extraction.torch_hooks", "_weights_hash", True),
    ("transferscope.cli.app", "transferscope._version", "__version__", False),
    ("transferscope.cli.app", "transferscope._private", "value", True),
])
def test_private_rule(importer, module, name, bad):
    imp = Import(ROOT / "x.py", 1, importer, module, name)
    assert bool(private_violations([imp])) is bad


@pytest.mark.parametrize(("importer", "module", "bad"), [
    ("transferscope.cli.app", "transferscope.workflows.rank", False),
    ("transferscope.workflows.rank", "transferscope.cli.app", True),
    ("transferscope.extraction.zoo", "transferscope.datasets.digits", False),
    ("transferscope.datasets.dataset", "transferscope.extraction.cache", True),
    ("transferscope.probes.linear", "transferscope.workflows.storage.results", True),
    ("transferscope.metrics.registry", "transferscope.errors", False),
    ("transferscope.metrics.registry", "transferscope.hashing", True),
    ("transferscope.hashing", "transferscope.extraction.cache", True),
])
def test_layering_rule(importer, module, bad):
    imp = Import(ROOT / "x.py", 1, importer, module)
    assert bool(layering_violations([imp])) is bad


@pytest.mark.parametrize(("importer", "module", "bad"), [
    ("transferscope.workflows.rank", "transferscope.workflows.engine.scoring", False),
    ("transferscope.workflows.engine.scoring", "transferscope.workflows.storage.names", False),
    ("transferscope.workflows.engine.scoring", "transferscope.workflows.rank", True),
    ("transferscope.workflows.storage.store", "transferscope.workflows.engine.candidates", True),
    ("transferscope.workflows.published.literature", "transferscope.workflows.suite", True),
    ("transferscope.workflows.engine.candidates", "transferscope.extraction.specs", False),
])
def test_workflow_parts_rule(importer, module, bad):
    imp = Import(ROOT / "x.py", 1, importer, module)
    assert bool(workflow_violations([imp])) is bad


def test_cycle_rule():
    a = Import(ROOT / "a.py", 1, "transferscope.datasets.a", "transferscope.extraction.b")
    b = Import(ROOT / "b.py", 2, "transferscope.extraction.b", "transferscope.datasets.a")
    c = Import(ROOT / "c.py", 3, "transferscope.extraction.b", "transferscope.hashing")
    found = cycle_violations([a, b, c])
    assert len(found) == 2 and "src/transferscope/a.py:1" in found[0] and cycle_violations([a, c]) == []


def test_layering_table_is_acyclic():
    assert all(unit not in reachable(MAY_IMPORT, unit) for unit in MAY_IMPORT)
    assert all(unit in MAY_IMPORT for allowed in MAY_IMPORT.values() for unit in allowed)


# -- the source tree -------------------------------------------------------------


def test_imported_modules_exist():
    found = missing_modules(IMPORTS)
    assert not found, report("imports of missing modules", found)


def test_no_private_imports_across_modules():
    found = private_violations(IMPORTS)
    assert not found, report("private imports", found)


def test_packages_import_only_downward():
    found = layering_violations(IMPORTS)
    assert not found, report("imports against the layering", found)


def test_workflow_parts_sit_below_the_commands():
    assert {p for p in WORKFLOW_PARTS if (ROOT / "workflows" / p / "__init__.py").is_file()} == set(WORKFLOW_PARTS)
    found = workflow_violations(IMPORTS)
    assert not found, report("imports against the parts of workflows", found)


def test_no_cycle_between_packages():
    found = cycle_violations(IMPORTS)
    assert not found, report("imports on a cycle between packages", found)


@pytest.mark.parametrize("module", ["transferscope", "transferscope.cli.app"])
def test_import_loads_no_heavy_library(module):
    code = (f"import sys, {module}; "
            f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import {module} loads {out.stdout.strip()}"
