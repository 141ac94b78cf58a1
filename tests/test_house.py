"""The house rules of docs/architecture.md, checked on the source."""

import ast
from pathlib import Path

import yaml

from dilt import configuration, datasets, methods, models

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"
SCHEMA = SCRIPTS.parents[1] / "config" / "schema.yaml"


def imported_modules(path):
    """Names a file imports: absolute modules, and dilt modules of relative imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from .x import y, inside dilt
                names |= ({f"dilt.{node.module}"} if node.module else
                          {f"dilt.{alias.name}" for alias in node.names})
            elif node.module == "dilt":
                names |= {f"dilt.{alias.name}" for alias in node.names}
            else:
                names.add(node.module)
    return names


def test_library_modules_import_no_loop():
    library = {f"dilt.{p.stem}": p for p in (SCRIPTS / "dilt").glob("*.py")}
    graph = {name: imported_modules(path) & library.keys() for name, path in library.items()}
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"import loop: {' -> '.join(trail + [node])}"
        state[node] = "open"
        for nxt in graph[node]:
            visit(nxt, trail + [node])
        state[node] = "done"

    for name in graph:
        visit(name, [])


def test_no_script_imports_a_script_and_every_script_guards_its_entry():
    scripts = {p.stem for p in SCRIPTS.glob("*.py")}
    for path in SCRIPTS.glob("*.py"):
        assert not imported_modules(path) & scripts, path.name
        assert 'if __name__ == "__main__":' in path.read_text(), path.name


def test_the_schema_knows_every_architecture_and_takes_registry_names():
    schema = yaml.safe_load(SCHEMA.read_text())
    assert schema["properties"]["model"]["properties"]["arch"]["enum"] == list(
        models.ARCHITECTURES)
    filled = configuration.load_schema(SCHEMA)["properties"]
    assert filled["dataset"]["properties"]["name"]["enum"] == list(datasets.REGISTRY)
    assert filled["baselines"]["properties"]["methods"]["items"]["enum"] == \
        methods.baseline_names()
