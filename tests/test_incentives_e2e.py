"""Only real models earn, measured end to end: a short run of ``benchmarks/incentives.py``.

Real localnets (a node, the real validator, reference miners, relay and replay miners, empty,
random and copier validators, each its own process on 127.0.0.1), three epochs of 20 blocks per
subnet. The benchmark's full run (ten epochs of 30) and its figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from moderntensor.subnets.isolation import SandboxPolicy, sandbox_launcher

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "incentives.py"
CHEATS = ("echo", "random", "constant", "template-parser", "public-answer lookup", "relay",
          "replay")

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _bubblewrap_available() -> bool:
    try:
        sandbox_launcher(SandboxPolicy())
    except Exception:
        return False
    return True


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    out = tmp_path_factory.mktemp("incentives") / "reports.json"
    netuids = ["--netuid", "1"] + (["--netuid", "3"] if _bubblewrap_available() else [])
    subprocess.run([sys.executable, str(BENCHMARK), *netuids, "--epochs", "3", "--tempo", "20",
                    "--json", str(out)], check=True, timeout=840)
    return {report["netuid"]: report for report in json.loads(out.read_text())}


@pytest.fixture(params=[1, 3], ids=["text", "code"])
def report(request: pytest.FixtureRequest, reports: dict[int, dict[str, Any]]
           ) -> dict[str, Any]:
    if request.param not in reports:
        pytest.skip("the code subnet needs bubblewrap to score (docs/security.md)")
    return reports[request.param]


def test_the_honest_reference_is_paid(report: dict[str, Any]) -> None:
    assert report["miners"]["honest"] > 0
    assert report["validators"]["honest"] > 0


def test_every_cheating_miner_earns_under_a_tenth_of_the_honest_one(
        report: dict[str, Any]) -> None:
    cheats = {k: v for k, v in report["miner_shares"].items() if k in CHEATS}
    assert cheats and all(share < 0.10 for share in cheats.values()), cheats


def test_slow_but_right_earns_more_than_every_cheat(report: dict[str, Any]) -> None:
    shares = report["miner_shares"]
    assert shares["slow-but-right"] > max(v for k, v in shares.items() if k in CHEATS)


def test_a_miner_registered_while_validators_run_is_paid_like_an_honest_miner(
        report: dict[str, Any]) -> None:
    # the epochs counted start once every honest validator weighs the twin (on 2 busy cores
    # that can take more than an epoch of 20 blocks); over three epochs of one or two rounds
    # each, latency noise between model processes moves the ratio by up to ~15%. The
    # benchmark's ten epochs measure it within 3% (docs/benchmarks.md), and
    # tests/test_validator_newcomers.py holds the rule within 5%
    shares = report["miner_shares"]
    assert report["late_twin_ratio"] > 0.75
    assert report["late_twin_ratio"] > max(v for k, v in shares.items() if k in CHEATS)


def test_empty_and_random_validators_earn_under_a_tenth_of_the_honest_one(
        report: dict[str, Any]) -> None:
    shares = report["validator_shares"]
    assert shares["empty"] < 0.10 and shares["random"] < 0.10, shares


def test_a_copier_earns_less_than_the_validator_it_copies(report: dict[str, Any]) -> None:
    assert report["validator_shares"]["copier"] < 1.0
