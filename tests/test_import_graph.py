"""The package's import graph: no circle, and every import runs down the layers of
docs/architecture.md (imports inside functions included)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cinit_tf"

# Lowest first. A module may import its own layer or a lower one, never a higher one.
LAYERS = [
    (
        "engine",
        "seeds settings framework signals tasks trial transforms readout losses model optimizer memory "
        "stopping slots training environment locks progress",
    ),
    ("stats", "stats"),
    ("writeup", "writeup"),
    ("measures", "measures"),
    ("figures", "figures"),
    ("prose", "prose"),
    ("studies", "studies"),
    ("experiment", "experiment"),
    ("storage", "store sittings results tensorboard"),
    ("reporting", "reporting"),
    ("running", "runner"),
    ("commands", "run report"),
]


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """{module: the package's modules it imports}, at any depth of its code."""

    def resolve(name: str) -> str:
        while name not in mods and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    graph = {m: set() for m in mods}
    for m, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for t in targets:
                if t.split(".")[0] == PACKAGE.name:
                    graph[m].add(resolve(t))
        graph[m] -= {m, PACKAGE.name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for i, (_, names) in enumerate(LAYERS):
        if top in names.split():
            return i
    raise KeyError(f"{module}: in no layer of tests/test_import_graph.py (add it to one)")


def test_the_package_has_no_import_circle():
    assert cycles(import_graph(modules())) == []


def test_every_module_has_a_layer_and_imports_run_down():
    graph = import_graph(modules())
    upward = [
        f"{m} ({LAYERS[layer(m)][0]}) imports {t} ({LAYERS[layer(t)][0]})"
        for m in sorted(graph)
        if m != PACKAGE.name
        for t in sorted(graph[m])
        if layer(t) > layer(m)
    ]
    assert upward == []


def test_the_graph_sees_imports_inside_functions_and_finds_a_circle(tmp_path):
    pkg = tmp_path / "cinit_tf"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cinit_tf.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from cinit_tf import a\n    return a\n")
    (pkg / "c.py").write_text("import cinit_tf.a\n")
    graph = import_graph(modules(pkg))
    assert graph["cinit_tf.sub.b"] == {"cinit_tf.a"} and graph["cinit_tf.c"] == {"cinit_tf.a"}
    assert cycles(graph) == [["cinit_tf.a", "cinit_tf.sub.b"]]


def test_studies_holds_the_sections_and_little_else():
    files = sorted(p.name for p in (PACKAGE / "studies").glob("*.py"))
    assert len(files) <= 17, files


@pytest.mark.parametrize("name", ["cinit_tf.nowhere.x"])
def test_a_module_outside_every_layer_is_named(name):
    with pytest.raises(KeyError, match="in no layer"):
        layer(name)
