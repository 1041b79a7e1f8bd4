"""The dependency direction of docs/architecture.md holds: foundations never import roles,
and no modules import each other in a circle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")


def _lint_imports(cwd: Path, *extra: str, pythonpath: Path | None = None
                  ) -> subprocess.CompletedProcess[str]:
    env = None if pythonpath is None else {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([LINT_IMPORTS, "--no-cache", *extra], cwd=cwd, capture_output=True,
                          text=True, check=False, env=env)


def _cycle_contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = [c for c in config["contracts"] if c["type"] == "acyclic_siblings"]
    assert len(contracts) == 1, "pyproject.toml declares one contract against import cycles"
    return contracts[0]


def test_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cycle_contract_covers_the_whole_package() -> None:
    assert _cycle_contract()["ancestors"] == ["moderntensor"]


def test_the_cycle_contract_fails_on_an_import_cycle(tmp_path: Path) -> None:
    """The project's own contract, applied to a package whose two modules import each other."""
    package = tmp_path / "src" / "moderntensor"
    (package / "subnets").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "subnets" / "__init__.py").write_text("")
    (package / "subnets" / "suite.py").write_text("from moderntensor.subnets import models\n")
    (package / "subnets" / "models.py").write_text("from moderntensor.subnets import suite\n")
    contract = _cycle_contract()
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = moderntensor\n\n[importlinter:contract:cycles]\n"
        f"name = {contract['name']}\ntype = {contract['type']}\n"
        f"ancestors = {' '.join(contract['ancestors'])}\n")
    broken = _lint_imports(tmp_path, pythonpath=tmp_path / "src")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "No cycles are allowed in moderntensor.subnets" in broken.stdout
    (package / "subnets" / "models.py").write_text("")   # break the circle: the contract holds
    kept = _lint_imports(tmp_path, pythonpath=tmp_path / "src")
    assert kept.returncode == 0, kept.stdout + kept.stderr


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, "check", "src", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


PACKAGE = ROOT / "src" / "moderntensor"
# Basenames several packages use for the same kind of thing: each package's error classes,
# Prometheus metrics, SQLite store, and the application object its server runs.
SAME_KIND_BASENAMES = {"__init__.py", "errors.py", "metrics.py", "store.py", "app.py"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_two_modules_share_a_basename_for_different_things() -> None:
    seen: dict[str, list[str]] = {}
    for path in _modules():
        seen.setdefault(path.name, []).append(str(path.relative_to(PACKAGE)))
    shared = {name: paths for name, paths in seen.items()
              if len(paths) > 1 and name not in SAME_KIND_BASENAMES}
    assert shared == {}


def test_no_two_public_classes_share_a_name() -> None:
    import ast

    seen: dict[str, list[str]] = {}
    for path in _modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                seen.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


def test_each_shared_constant_is_defined_once() -> None:
    import re

    text = {path: path.read_text() for path in _modules()}
    for name in ("COMPONENTS", "COMPONENT_TENTHS", "U16_MAX", "PPB", "MAX_MODEL_FIELD"):
        homes = [p.name for p, t in text.items() if re.search(rf"^{name}\s*[:=]", t, re.M)]
        assert len(homes) == 1, f"{name} is defined in {homes}"
    literal = '"accuracy", "latency", "availability", "consistency"'
    assert sum(t.count(literal) for t in text.values()) == 1, "name the components once"


# The former names of `netuid` that the public API still accepts, as (module, function, name).
NETUID_ALIASES = {
    ("config.py", "resolve_config", "subnet"),
    ("miner/server.py", "__init__", "subnet"),
    ("validator/core.py", "from_config", "subnet"),
}


def subnet_id_names(source: str, module: str) -> list[str]:
    """Where ``source`` names a subnet id anything but ``netuid``: parameters, fields and
    attributes called ``subnet_id``, or ``subnet`` typed as an int (a ``subnet`` holding a
    subnet record is a different thing and keeps its name)."""
    import ast

    def is_id(annotation: ast.expr | None) -> bool:
        return annotation is not None and "int" in ast.unparse(annotation)

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                named_id = arg.arg == "subnet_id" or (arg.arg == "subnet" and is_id(arg.annotation))
                if named_id and (module, node.name, arg.arg) not in NETUID_ALIASES:
                    found.append(f"{module}:{node.lineno} parameter {arg.arg} of {node.name}")
        elif isinstance(node, ast.AnnAssign):
            target = node.target
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
            if name == "subnet_id" or (name == "subnet" and is_id(node.annotation)):
                found.append(f"{module}:{node.lineno} field {name}")
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
              and node.attr in ("subnet", "subnet_id")):
            found.append(f"{module}:{node.lineno} attribute {node.attr}")
    return found


def test_netuid_is_the_one_name_for_a_subnet_id_in_the_code() -> None:
    found = [hit for path in _modules()
             for hit in subnet_id_names(path.read_text(), str(path.relative_to(PACKAGE)))]
    assert found == []


def test_the_netuid_name_check_finds_a_subnet_id_by_another_name() -> None:
    source = ("from dataclasses import dataclass\n"
              "def serve(subnet: int, host: str) -> None: ...\n"
              "def close(subnet: Subnet) -> None: ...\n"          # a record, not an id: fine
              "@dataclass\nclass Process:\n    subnet_id: int | None = None\n"
              "class Miner:\n    def __init__(self, n: int) -> None:\n        self.subnet = n\n")
    assert [hit.split(" ", 1)[1] for hit in subnet_id_names(source, "made_up.py")] == [
        "parameter subnet of serve", "field subnet_id", "attribute subnet"]
