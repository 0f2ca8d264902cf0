"""The product's layers, read from its source: the import graph of every module under
``firmware/`` and ``hal/`` (parsed with :mod:`ast`, imports at the top of a module and
inside functions alike, relative imports resolved), and two rules on it:

1. nothing in ``hal/`` (the hardware layer) imports ``firmware/``, not even for type
   checking or through ``importlib`` with a module name written out;
2. no import cycle among the product's modules.  A cycle is a strongly connected
   component of the graph with more than one module; imports under ``if TYPE_CHECKING:``
   never run and do not count.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("firmware", "hal")

_MODULE_NAME = re.compile(r"^firmware(\.[A-Za-z_]\w*)*$")


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the product."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement, anywhere in the module, and whether it is only for type
    checking (inside the body of an ``if TYPE_CHECKING:``)."""
    def walk(node: ast.AST, typing_only: bool) -> Iterator[
            tuple[ast.Import | ast.ImportFrom, bool]]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, typing_only
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from walk(child, True)
            for child in node.orelse:
                yield from walk(child, typing_only)
            return
        for child in ast.iter_child_nodes(node):
            yield from walk(child, typing_only)

    yield from walk(tree, False)


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute name of ``from ... import`` in ``module`` (a file at ``path``)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(module: str, path: Path, known: set[str]) -> list[tuple[str, bool]]:
    """(product module imported, type-checking only) for every import in ``module``.
    ``import a.b.c`` and ``from a.b import c`` point at the most precise product module
    they name: ``a.b.c`` when it is one, else ``a.b`` (``c`` then is a name in it)."""
    def closest(name: str) -> str | None:
        while name:
            if name in known:
                return name
            name = name.rpartition(".")[0]
        return None

    found = []
    tree = ast.parse(path.read_text(), str(path))
    for node, typing_only in _imports(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _resolve(module, path, node)
            targets = [f"{base}.{alias.name}" if alias.name != "*" else base
                       for alias in node.names]
        for target in targets:
            hit = closest(target)
            if hit is not None and hit != module:
                found.append((hit, typing_only))
    return found


def import_graph(*, with_typing: bool = False) -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {module: {target for target, typing_only in imported_modules(module, path, known)
                     if with_typing or not typing_only}
            for module, path in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's algorithm, iterative: the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(frozenset(component))
    return sorted(components, key=lambda c: sorted(c))


def describe(cycles: list[frozenset[str]]) -> str:
    return "\n".join("  {" + ", ".join(sorted(c)) + "}" for c in cycles) or "  (none)"


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph(with_typing=True)
    assert len(graph) > 100 and "hal.emulator.pcl" in graph and "firmware.system" in graph
    # A function-level import (firmware.pipeline.drivers.pclraster imports compression
    # inside PclRasterWriter.write) and a relative one resolve like top-level ones.
    assert "firmware.pipeline.compression" in graph["firmware.pipeline.drivers.pclraster"]
    tree = ast.parse("from . import x\nfrom ..b import y\nfrom .c.d import z\n")
    nodes = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    init, leaf = ROOT / "a" / "p" / "__init__.py", ROOT / "a" / "p" / "m.py"
    assert [_resolve("a.p", init, n) for n in nodes] == ["a.p", "a.b", "a.p.c.d"]
    assert [_resolve("a.p.m", leaf, n) for n in nodes] == ["a.p", "a.b", "a.p.c.d"]
    # TYPE_CHECKING-only imports are in the full graph, not in the one cycles are read from.
    typing = [t for t, only in imported_modules(
        "hal.emulator", ROOT / "hal" / "emulator" / "__init__.py", set(graph)) if only]
    assert typing == ["hal.emulator.base"]
    assert "hal.emulator.base" not in import_graph()["hal.emulator"]
    assert strongly_connected({"a": {"b"}, "b": {"a", "c"}, "c": set(), "d": {"d"}}) == [
        frozenset({"a", "b"})]


def test_hal_never_imports_firmware() -> None:
    graph = import_graph(with_typing=True)
    wrong = sorted(f"{module} imports {target}" for module, targets in graph.items()
                   if module.split(".")[0] == "hal" for target in targets
                   if target.split(".")[0] == "firmware")
    # Modules imported by name through importlib: any string in hal/ naming a firmware
    # module (the emulator's and registry's tables of modules are strings).
    for module, path in module_files().items():
        if module.split(".")[0] != "hal":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    _MODULE_NAME.match(node.value)):
                wrong.append(f"{module} names {node.value}")
    assert not wrong, "the hardware layer depends on the firmware:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    """Imports point one way: no two product modules reach each other (issue 18 cut the
    IPP loop, gpio <-> gpiod_v1 and system <-> worker)."""
    found = strongly_connected(import_graph())
    assert not found, f"import cycle(s):\n{describe(found)}"


def test_the_worker_sees_a_job_store_not_the_system(tmp_path: Path) -> None:
    """firmware.worker imports nothing of firmware.system, not even for type checking
    (it used to, and system imports worker), and the System is the JobStore it takes."""
    import inspect

    from firmware.config import load_config
    from firmware.system import System
    from firmware.worker import JobStore

    graph = import_graph(with_typing=True)
    assert "firmware.system" not in graph["firmware.worker"]
    assert not any({"firmware.system", "firmware.worker"} <= c
                   for c in strongly_connected(graph))
    system = System(load_config(None, "emulator", {"state_dir": tmp_path / "state"}))
    for name, member in vars(JobStore).items():
        if name.startswith("_"):
            continue
        assert hasattr(system, name), name
        if inspect.iscoroutinefunction(member):
            assert inspect.iscoroutinefunction(getattr(system, name)), name
    assert isinstance(system.config.status_interval, float)
    assert isinstance(system.config.write_timeout, float)
    assert callable(system.spool.path_of)


#: The front ends: each reads the model and acts through it, not through another.
FRONT_ENDS = ("firmware.web", "firmware.ipp", "firmware.snmp", "firmware.board",
              "firmware.lpd", "firmware.raw", "firmware.admin", "firmware.net")
#: Front ends that still read another's code: DNS-SD's TXT record and the Printer MIB
#: derive values from IPP's attribute builders (issue 18: move those into the model).
FRONT_END_SHARING = {
    ("firmware.net.dnssd", "firmware.ipp.printer_attributes"),
    ("firmware.net.txt", "firmware.ipp.values"),
    ("firmware.snmp.printer_mib", "firmware.ipp.printer_attributes"),
}


def test_front_ends_do_not_import_each_other() -> None:
    """The board's button used to print web/pages.py's test page; it is the model's now
    (System.print_test_page).  Nothing but the listed sharing remains."""
    def front(module: str) -> str | None:
        return next((f for f in FRONT_ENDS if module == f or module.startswith(f + ".")),
                    None)

    crossing = {(module, target) for module, targets in import_graph().items()
                for target in targets
                if front(module) and front(target) and front(module) != front(target)}
    assert crossing <= FRONT_END_SHARING, sorted(crossing - FRONT_END_SHARING)
