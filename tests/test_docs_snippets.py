"""Every ```python block of the user guide (docs/*.md and README.md) runs against a real node.

Each page gets its own fresh dev node (tests/chain_support.py, 0.2 s blocks) and runs in a fresh
interpreter, its blocks in order in one namespace (a later block may use an earlier block's
names), as a reader would after ``moderntensor node start --dev``; with:

- ``http://localhost:8545`` and ``http://127.0.0.1:8545`` in the code replaced by the test
  node's URL (the docs name the default dev node; nothing else is rewritten);
- ``MT_NETWORK`` = that URL, ``MT_HOME`` = a fresh directory holding a fresh 0-MDT wallet named
  ``default`` (what ``moderntensor wallet create`` makes), ``MT_WALLET_PASSWORD`` set, so the
  config rules resolve exactly as they do for a reader who followed the quickstart;
- ``__name__ == "__docs__"``, so an ``if __name__ == "__main__":`` block (serving forever) is
  compiled but not entered, exactly as when the page's code is imported.

A block that cannot run on its own is marked by ``<!-- skip-snippet: reason -->`` on the line
right before its fence; the test reports how many blocks ran and how many were skipped, and
fails if a skip marker has no reason. Pages whose blocks another test executes (against a
localnet) are listed in EXECUTED_ELSEWHERE and reported, not run twice.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chain_support import NodeProcess, running_node
from moderntensor.wallet import Wallet

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
# pages whose Python blocks another test runs as written against a localnet
EXECUTED_ELSEWHERE = {
    "docs/MINER_GUIDE.md": "tests/test_e2e_localnet.py (the seed guide, verbatim)",
    "docs/guide.md": "tests/test_e2e_localnet.py (in one session against a localnet)",
    "docs/gateway.md": "tests/test_gateway_e2e.py (against a gateway on a localnet)",
}
DEFAULT_URLS = ("http://localhost:8545", "http://127.0.0.1:8545")
PASSWORD = "docs-snippets"  # a throwaway keystore's password
PAGE_TIMEOUT_S = 60

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_SKIP = re.compile(r"<!--\s*skip-snippet:\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Snippet:
    page: str      # path relative to the repository root
    line: int      # line of the opening fence, 1-based
    code: str
    skip: str | None  # the reason, when marked


def snippets(path: Path) -> list[Snippet]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _SKIP.search(before)
        found.append(Snippet(str(path.relative_to(ROOT)), text.count("\n", 0, match.start()) + 1,
                             match.group(1), marker.group(1) if marker else None))
    return found


RUNNER = textwrap.dedent("""
    import json, sys, traceback
    blocks = json.load(open(sys.argv[1]))
    namespace = {"__name__": "__docs__"}
    for block in blocks:
        print(f"--- {block['where']}", flush=True)
        try:
            exec(compile(block["code"], block["where"], "exec"), namespace)
        except BaseException:
            traceback.print_exc()
            print(f"FAILED: the block at {block['where']}", file=sys.stderr)
            sys.exit(1)
""")

REPORT: dict[str, tuple[int, int]] = {}  # page -> (ran, skipped)


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not REPORT:
        return
    ran = sum(r for r, _ in REPORT.values())
    skipped = sum(s for _, s in REPORT.values())
    lines = [f"docs snippets: {ran} executed, {skipped} skipped (marked); "
             f"{len(EXECUTED_ELSEWHERE)} pages run by other tests"]
    lines += [f"  {page}: {r} executed, {s} skipped" for page, (r, s) in sorted(REPORT.items())]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + "\n".join(lines))


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_skip_marker_gives_a_reason() -> None:
    for path in PAGES:
        for snippet in snippets(path):
            assert snippet.skip != "", f"{snippet.page}:{snippet.line}: skip-snippet needs a reason"


@pytest.mark.parametrize("path", [p for p in PAGES if snippets(p)], ids=_page_id)
def test_page_snippets_run(path: Path, tmp_path: Path) -> None:
    page = _page_id(path)
    if page in EXECUTED_ELSEWHERE:
        pytest.skip(f"run by {EXECUTED_ELSEWHERE[page]}")
    found = snippets(path)
    runnable = [s for s in found if s.skip is None]
    REPORT[page] = (len(runnable), len(found) - len(runnable))
    if not runnable:
        pytest.skip(f"{page} has no runnable python blocks ({len(found)} marked skip)")
    with running_node(tmp_path / "node", block_time=0.2) as node:
        node.wait_for_block(1)
        _run_page(page, runnable, node, tmp_path)


def _run_page(page: str, runnable: list[Snippet], node: NodeProcess, tmp_path: Path) -> None:
    code_of = {}
    for snippet in runnable:
        code = snippet.code
        for url in DEFAULT_URLS:
            code = code.replace(url, node.url)
        code_of[f"{snippet.page}:{snippet.line}"] = code
    blocks = tmp_path / "blocks.json"
    blocks.write_text(json.dumps([{"where": k, "code": v} for k, v in code_of.items()]))
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    home = tmp_path / "home"
    Wallet.create(num_words=12).save("default", PASSWORD, home=home, scrypt_n=2**10)
    work = tmp_path / "work"
    work.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MT_")},
           "MT_HOME": str(home), "MT_WALLET_PASSWORD": PASSWORD, "MT_NETWORK": node.url}
    result = subprocess.run([sys.executable, str(runner), str(blocks)], cwd=work, env=env,
                            capture_output=True, text=True, timeout=PAGE_TIMEOUT_S, check=False)
    assert result.returncode == 0, (
        f"{page}: a python block failed\n--- stdout\n{result.stdout[-4000:]}\n"
        f"--- stderr\n{result.stderr[-6000:]}")
