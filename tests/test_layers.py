"""The package's layers run one way, without cycles, in modules small enough to read.

Why an AST check and not import-linter: the rules are four short ones (layer order,
module cycles, packages importing each other, module length), the last of which
import-linter does not check at all; reading every ``import`` statement with
:mod:`ast` — those inside functions too, since a lazy import is still a dependency —
needs no dependency, no configuration file in another format, and the same test
checks itself on a planted bad package below, so it cannot pass vacuously.

The layers, lowest first (a package may import only packages to its left)::

    rules ← diary ← days ← clinical ← analysis ← store ← interop ← simulate
          ← services ← web, cli

``web`` and ``cli`` are peers: neither imports the other. ``painlink/__init__.py`` is
the public facade: it may import anything, and nothing inside painlink imports it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "painlink"

#: lowest first; packages in one tuple are peers and may not import each other
LAYERS: tuple[tuple[str, ...], ...] = (
    ("rules",),
    ("diary",),
    ("days",),
    ("clinical",),
    ("analysis",),
    ("store",),
    ("interop",),
    ("simulate",),
    ("services",),
    ("web", "cli"),
)
MAX_LINES = 600
#: folders whose modules may be longer: generated Alembic migrations are written once
LONG_ALLOWED_UNDER = ("store/migrations",)


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module (or package), dotted
    line: int


def module_name(path: Path, root: Path) -> str:
    """``root/painlink/store/tables.py`` → ``painlink.store.tables``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(package: Path) -> list[Import]:
    """Every import of the package by the package, at any depth of the code.

    ``from a.b import c`` names the module ``a.b.c`` when ``c`` is a module, else
    ``a.b``; an import inside a function or under ``TYPE_CHECKING`` counts the same.
    """
    root, name = package.parent, package.name
    modules = {module_name(p, root) for p in package.rglob("*.py")}
    found = []
    for path in sorted(package.rglob("*.py")):
        source = module_name(path, root)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(source, path.name == "__init__.py", node)
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
                targets = subs if subs and len(subs) == len(node.names) else [base, *subs]
            else:
                continue
            for target in targets:
                if target == name or target.startswith(name + "."):
                    while target not in modules and "." in target:
                        target = target.rsplit(".", 1)[0]  # a name inside a module
                    if target != source:
                        found.append(Import(source, target, node.lineno))
    return found


def _layer(module: str) -> str | None:
    """The layer a module is in; None for the facade (``painlink/__init__`` and the
    private modules beside it, such as ``painlink/_api.py``, which it re-exports)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and not parts[1].startswith("_") else None


def layer_violations(package: Path, layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    """Imports against the layer order, between peers, of the facade, or of a package
    the layers do not name."""
    rank = {pkg: i for i, peers in enumerate(layers) for pkg in peers}
    out = []
    for imp in imports_of(package):
        src, dst = _layer(imp.source), _layer(imp.target)
        if src is None:
            continue  # the facade may import anything
        if dst is None:
            out.append(f"facade: {imp.source} -> {imp.target} (line {imp.line})")
            continue
        for pkg in (src, dst):
            if pkg not in rank:
                out.append(f"unknown: {pkg} is in no layer; add it to LAYERS")
        if src == dst or src not in rank or dst not in rank:
            continue
        if rank[dst] >= rank[src]:
            out.append(f"layer: {imp.source} -> {imp.target} (line {imp.line})")
    return sorted(set(out))


def cycles(package: Path) -> list[str]:
    """Every set of modules that import each other, directly or round a loop (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for imp in imports_of(package):
        graph.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[str] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(" -> ".join(sorted(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def mutual_packages(package: Path) -> list[str]:
    """Pairs of packages that import each other (whatever the modules involved)."""
    uses = {(_layer(i.source), _layer(i.target)) for i in imports_of(package)}
    return sorted(f"{a} <-> {b}" for a, b in uses if a and b and a < b and (b, a) in uses)


def long_modules(package: Path, limit: int = MAX_LINES) -> list[str]:
    """Modules over ``limit`` lines, outside the folders allowed to be longer."""
    root = package.parent
    out = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if any(rel.startswith(f"{package.name}/{d}/") for d in LONG_ALLOWED_UNDER):
            continue
        if len(path.read_text().splitlines()) > limit:
            out.append(rel)
    return out


def test_imports_follow_the_layers() -> None:
    assert layer_violations(PACKAGE) == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(PACKAGE) == []


def test_no_two_packages_import_each_other() -> None:
    assert mutual_packages(PACKAGE) == []


def test_no_module_over_600_lines() -> None:
    assert long_modules(PACKAGE) == []


# --- the checker, on a planted package ------------------------------------------------


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if path.parent != package and not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
    return package


def test_checker_finds_each_kind_of_violation(tmp_path: Path) -> None:
    package = _plant(
        tmp_path,
        {
            "rules/a.py": "def f():\n    from pkg.diary import b  # lazy, still upward\n",
            "diary/b.py": "from pkg.rules import a\n",
            "diary/c.py": "from . import d\n",
            "diary/d.py": "from pkg.diary.c import X\n",
            "web/e.py": "import pkg\nfrom pkg.cli import g\n",
            "cli.py": "from pkg.web import e\n",
            "extra/h.py": "from pkg.rules.a import f\n",
            "diary/long.py": "x = 1\n" * 601,
        },
    )
    layers = (("rules",), ("diary",), ("web", "cli"))
    assert layer_violations(package, layers) == [
        "facade: pkg.web.e -> pkg (line 1)",
        "layer: pkg.cli -> pkg.web.e (line 1)",
        "layer: pkg.rules.a -> pkg.diary.b (line 2)",
        "layer: pkg.web.e -> pkg.cli (line 2)",
        "unknown: extra is in no layer; add it to LAYERS",
    ]
    assert cycles(package) == [
        "pkg.cli -> pkg.web.e",
        "pkg.diary.b -> pkg.rules.a",
        "pkg.diary.c -> pkg.diary.d",
    ]
    assert mutual_packages(package) == ["cli <-> web", "diary <-> rules"]
    assert long_modules(package) == ["pkg/diary/long.py"]


def test_checker_passes_a_clean_package(tmp_path: Path) -> None:
    package = _plant(
        tmp_path,
        {
            "rules/a.py": "X = 1\n",
            "diary/b.py": "from pkg.rules.a import X\nfrom ..rules import a\n",
            "web/e.py": "def f():\n    from pkg.diary import b\n",
            "diary/long.py": "x = 1\n" * 600,
        },
    )
    layers = (("rules",), ("diary",), ("web", "cli"))
    assert layer_violations(package, layers) == []
    assert cycles(package) == [] and mutual_packages(package) == []
    assert long_modules(package) == []
    assert {(i.source, i.target) for i in imports_of(package)} == {
        ("pkg.diary.b", "pkg.rules.a"),
        ("pkg.web.e", "pkg.diary.b"),
    }
