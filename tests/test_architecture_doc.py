"""docs/architecture.md matches the code: every path it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "src" / "moderntensor"
PATH_LIKE = re.compile(r"^[\w./-]+(/|\.(py|md|json|toml))$")


def named_paths(text: str) -> list[str]:
    """Code spans that are paths: ``chain/app.py``, ``cli/``, ``docs/rpc.md``..."""
    spans = re.findall(r"`([^`\s]+)`", text)
    return [span for span in spans if PATH_LIKE.match(span) and ("/" in span or "." in span)]


def exists(path: str) -> bool:
    bases = (ROOT, PACKAGE) if not path.startswith(("docs/", "tests/", "benchmarks/")) else (ROOT,)
    return any((base / path).exists() for base in bases)


def test_the_architecture_page_names_only_paths_that_exist() -> None:
    paths = named_paths(DOC.read_text())
    assert len(paths) > 40, "the page should name the code it describes"
    missing = [path for path in paths if not exists(path)]
    assert missing == []


def test_a_path_that_does_not_exist_is_caught() -> None:
    assert named_paths("see `chain/app.py` and `chain/nowhere.py`, not `x`") == [
        "chain/app.py", "chain/nowhere.py"]
    assert not exists("chain/nowhere.py") and exists("chain/app.py")
