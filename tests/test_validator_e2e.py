"""The validator against real MinerServer processes of differing quality on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from chain_support import DEV, free_port, running_node
from moderntensor.client import AsyncLuxtensorClient
from moderntensor.scoring import combine_u16
from moderntensor.subnets.code import RANDOM_CODE_MAX_ACCURACY
from moderntensor.validator import (
    ClientChainView,
    MinerEndpoint,
    StaticChainView,
    SubnetSettings,
    Validator,
)
from moderntensor.wallet import Wallet
from validator_suite import SumSuite

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
KINDS = ("good", "random", "slow", "flaky", "inconsistent")
READY_TIMEOUT_S = 60.0
CLI = [sys.executable, "-m", "moderntensor.cli"]
MODEL = {"name": "sum-fixture", "type": "text-generation", "version": "1.0.0"}
COMPONENTS = ("accuracy", "latency", "availability", "consistency")
PASSWORD = "correct horse battery staple"


@dataclass
class MinerProcess:
    kind: str
    uid: int
    wallet: Wallet
    port: int
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> MinerEndpoint:
        return MinerEndpoint(self.uid, self.wallet.address, "127.0.0.1", self.port)


def start_miner(kind: str, uid: int, validator: Wallet, home: Path) -> MinerProcess:
    wallet = Wallet.create(num_words=12)
    port = free_port()
    env = {**os.environ, "MT_TEST_MINER_KEY": "0x" + wallet.private_key.hex(),
           "MT_MINER_ALLOW": validator.address, "MT_HOME": str(home / f"miner-{uid}"),
           "PYTHONPATH": str(HERE)}
    process = subprocess.Popen([sys.executable, str(HERE / "validator_miner.py"), kind,
                                str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    return MinerProcess(kind, uid, wallet, port, process)


def wait_ready(miners: list[MinerProcess]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = list(miners)
    while pending:
        miner = pending[0]
        if miner.process.poll() is not None:
            raise RuntimeError(f"{miner.kind} miner exited: {miner.process.stderr.read()!r}")
        try:
            if httpx.get(f"http://127.0.0.1:{miner.port}/health", timeout=1).status_code == 200:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{miner.kind} miner not ready after {READY_TIMEOUT_S} s")
        time.sleep(0.1)


def stop(miners: list[MinerProcess]) -> None:
    for miner in miners:
        if miner.process.poll() is None:
            miner.process.terminate()
    for miner in miners:
        try:
            miner.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            miner.process.kill()
            miner.process.wait()
        if miner.process.stderr is not None:
            miner.process.stderr.close()


@pytest.fixture(scope="module")
def validator_wallet() -> Wallet:
    return Wallet.from_private_key(DEV[0].private_key)   # funded on a dev chain


@pytest.fixture(scope="module")
def miners(validator_wallet: Wallet, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[dict[str, MinerProcess]]:
    home = tmp_path_factory.mktemp("miners")
    started = [start_miner(kind, uid, validator_wallet, home) for uid, kind in enumerate(KINDS)]
    try:
        wait_ready(started)
        yield {miner.kind: miner for miner in started}
    finally:
        stop(started)


def make_validator(wallet: Wallet, miners: list[MinerEndpoint], store: Path) -> Validator:
    view = StaticChainView(miners, SubnetSettings(netuid=1, task_type="sum", weights_rate_limit=0))
    return Validator(wallet, view, suite=SumSuite(), store=store, challenges_per_miner=6,
                     repeat_share=0.5, ema_alpha=0.5)


async def run_rounds(validator: Validator, rounds: int) -> list:
    reports = []
    async with validator:
        for _ in range(rounds):
            reports.append(await validator.run_round())
    return reports


def test_scores_order_miners_by_quality(miners: dict[str, MinerProcess],
                                        validator_wallet: Wallet, tmp_path: Path) -> None:
    endpoints = [miner.endpoint for miner in miners.values()]
    validator = make_validator(validator_wallet, endpoints, tmp_path / "v.sqlite")
    reports = asyncio.run(run_rounds(validator, 3))
    stats = {s.uid: s for s in reports[-1].stats}
    score = {kind: stats[miner.uid].score for kind, miner in miners.items()}

    # Each weak miner loses exactly where it is weak. Assertions compare with the good miner,
    # not with absolutes, so a CPU-starved test box (timeouts for everyone) cannot flip them.
    good = score["good"]
    assert good.accuracy == good.availability > 0.5     # every answer that came was right
    assert max(score.values(), key=lambda s: s.total) == good
    assert score["random"].accuracy < 0.05 < good.accuracy
    assert score["slow"].latency < good.latency - 0.3    # 2.2 s of 0.5..4 s: ~0.5
    assert score["slow"].accuracy == score["slow"].availability   # right, but late
    assert score["flaky"].availability < good.availability - 0.2  # every second one fails
    assert score["inconsistent"].consistency < good.consistency - 0.5
    assert score["inconsistent"].accuracy == score["inconsistent"].availability  # right
    # The good miner claims latency_ms 0; the validator measured real, positive latencies.
    assert stats[miners["good"].uid].latency_s > 0
    # Weights went out every round (rate limit 0), in u16, one per miner.
    submission = reports[-1].submission
    assert submission is not None and list(submission.uids) == sorted(stats)
    good_weight = submission.weights[submission.uids.index(miners["good"].uid)]
    assert good_weight == max(submission.weights) and good_weight > 32_768


def test_restart_keeps_statistics(miners: dict[str, MinerProcess], validator_wallet: Wallet,
                                  tmp_path: Path) -> None:
    endpoints = [miners["good"].endpoint, miners["random"].endpoint]
    store = tmp_path / "restart.sqlite"
    first = asyncio.run(run_rounds(make_validator(validator_wallet, endpoints, store), 2))
    second = asyncio.run(run_rounds(make_validator(validator_wallet, endpoints, store), 1))

    before = {s.uid: s for s in first[-1].stats}
    after = {s.uid: s for s in second[-1].stats}
    assert second[-1].round == 3                       # the round counter continued
    for uid, stats in after.items():
        assert stats.rounds == 3
        assert stats.queries == before[uid].queries + 6
    # The random miner's low moving score carried over instead of restarting from scratch.
    random_uid = miners["random"].uid
    assert after[random_uid].score.total <= before[random_uid].score.total + 0.05


def test_miner_dying_mid_round_does_not_stall_it(miners: dict[str, MinerProcess],
                                                 validator_wallet: Wallet, tmp_path: Path
                                                 ) -> None:
    doomed = start_miner("hang", 9, validator_wallet, tmp_path)
    try:
        wait_ready([doomed])
        endpoints = [miners["good"].endpoint, doomed.endpoint]
        validator = make_validator(validator_wallet, endpoints, tmp_path / "die.sqlite")

        async def round_with_a_death() -> object:
            async with validator:
                task = asyncio.create_task(validator.run_round())
                await asyncio.sleep(0.4)      # requests are in flight, the miner is "thinking"
                doomed.process.kill()
                return await task

        started = time.monotonic()
        report = asyncio.run(round_with_a_death())
        elapsed = time.monotonic() - started
    finally:
        stop([doomed])
    assert elapsed < SumSuite.timeout_s + 1.0
    verdicts = {m.miner.uid: m for m in report.miners}
    assert verdicts[9].valid == 0 and verdicts[9].score.availability == 0.0
    assert set(verdicts[9].outcomes) <= {"unreachable", "timeout"}
    assert verdicts[miners["good"].uid].valid == 6


def test_cli_runs_rounds_and_prints_json_then_a_table(
        miners: dict[str, MinerProcess], validator_wallet: Wallet, mt_home: Path,
        tmp_path: Path) -> None:
    validator_wallet.save("validator", PASSWORD, home=mt_home, scrypt_n=2**10)
    listing = tmp_path / "miners.json"
    listing.write_text(json.dumps([
        {"uid": m.uid, "address": m.wallet.address, "host": "127.0.0.1", "port": m.port}
        for m in (miners["good"], miners["random"])]))
    args = ["validator", "run", "--miners", str(listing), "--suite", "validator_suite:SumSuite",
            "--wallet", "validator", "--password-env", "PW", "--interval", "0",
            "--subnet", "1", "--store", str(tmp_path / "cli.sqlite")]
    env = {**os.environ, "PW": PASSWORD, "PYTHONPATH": str(HERE)}
    result = subprocess.run([*CLI, *args, "--rounds", "2", "--json"], capture_output=True,
                            text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    rounds = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["round"] for r in rounds] == [1, 2], rounds
    by_uid = {m["uid"]: m for m in rounds[-1]["miners"]}
    assert by_uid[miners["good"].uid]["total"] > by_uid[miners["random"].uid]["total"], rounds
    assert rounds[-1]["outcomes"] == {"ok": 8} and rounds[-1]["weights_submitted"]
    assert PASSWORD not in result.stdout + result.stderr

    table = subprocess.run([*CLI, *args, "--rounds", "1"],
                           capture_output=True, text=True, env={**env, "COLUMNS": "200"},
                           timeout=60, check=False)
    assert table.returncode == 0, table.stderr
    assert "round 3" in table.stdout and "availability" in table.stdout

    kept = subprocess.run([*CLI, "validator", "status", "--subnet", "1", "--wallet", "validator",
                           "--json"], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert kept.returncode != 0 and "no validator statistics" in kept.stderr  # default path
    kept = subprocess.run([*CLI, "validator", "status", "--subnet", "1", "--store",
                           str(tmp_path / "cli.sqlite"), "--json"], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert kept.returncode == 0, kept.stderr
    status = json.loads(kept.stdout)
    assert [m["rounds"] for m in status["miners"]] == [3, 3]
    assert status["last_weights_block"] is not None


def test_weights_and_components_appear_on_chain(miners: dict[str, MinerProcess],
                                                validator_wallet: Wallet, tmp_path: Path
                                                ) -> None:
    """Miners registered and served on a real node; the validator reads the metagraph, scores
    them, its weights + components land on chain and the epoch turns them into scores."""
    pair = [miners["good"], miners["random"]]

    async def scenario(url: str) -> tuple:
        async with AsyncLuxtensorClient(url, wallet=validator_wallet) as client:
            for miner in pair:
                await client.register_miner(1, MODEL, wallet=miner.wallet)
                await client.serve(1, "127.0.0.1", miner.port, wallet=miner.wallet)
            await client.add_stake(1, 500)
            await client.register_validator(1)
            async with Validator(validator_wallet, ClientChainView(client, 1), suite=SumSuite(),
                                 store=tmp_path / "v.sqlite", ema_alpha=1.0) as validator:
                report = await validator.run_round()          # commits its row (commit-reveal)
                hidden = await client.get_weights(1)
                period = (await client.get_subnet(1)).commit_reveal_period
                # revealed by itself once due, without waiting for another round
                deadline = time.monotonic() + 20
                while not await client.get_weights(1):
                    assert time.monotonic() < deadline, "the committed row was never revealed"
                    await asyncio.sleep(0.05)
            assert period > 0 and hidden == []                # nobody saw the row before
            return report, await client.get_weights(1), await client.call("mt_getMetagraph", 1)

    with running_node(tmp_path / "node", block_time=0.1) as node:
        node.wait_for_block(2)                # registration PoW needs a recent block hash
        report, rows, graph = asyncio.run(scenario(node.url))
        node.wait_for_block(node.rpc("mt_getEpochInfo", 1)["nextEpochBlock"] + 1, timeout=30)
        scored = node.rpc("mt_getMetagraph", 1)

    uid_of = {a.lower(): uid for uid, a in zip(graph["uids"], graph["addresses"], strict=True)}
    good, bad = (uid_of[m.wallet.address.lower()] for m in pair)
    assert report.submission is not None and report.tx_hash is not None
    (row,) = [r for r in rows if r["address"].lower() == validator_wallet.address.lower()]
    assert row["uids"] == list(report.submission.uids) == sorted([good, bad])
    assert row["weights"] == list(report.submission.weights)
    for name in COMPONENTS:
        assert row[name] == list(getattr(report.submission, name))
    at = row["uids"].index
    assert row["weights"][at(good)] > row["weights"][at(bad)]
    assert row["accuracy"][at(good)] == 65535 and row["accuracy"][at(bad)] < 6554
    assert row["weights"][at(good)] == combine_u16(*(row[n][at(good)] for n in COMPONENTS))
    assert scored["scores"][good] > scored["scores"][bad]        # the epoch used them
    assert scored["accuracy"][good] == 65535


def score_suite_miners(wallet: Wallet, home: Path, task_type: str, models: tuple[str, ...],
                       *, challenges: int, ema_alpha: float, rounds: int = 1) -> list:
    """Start one miner per reference model of ``task_type``, run ``rounds`` rounds of a
    validator that loads the subnet's real suite, stop the miners; returns the reports."""
    kinds = tuple(f"suite:{task_type}:{model}" for model in models)
    started = [start_miner(kind, uid, wallet, home) for uid, kind in enumerate(kinds)]
    try:
        wait_ready(started)
        view = StaticChainView([m.endpoint for m in started],
                               SubnetSettings(netuid=1, task_type=task_type, weights_rate_limit=0))
        validator = Validator(wallet, view, store=home / f"{task_type}.sqlite",
                              challenges_per_miner=challenges, ema_alpha=ema_alpha)
        reports = asyncio.run(run_rounds(validator, rounds))
        assert validator.suite is not None and validator.suite.task_type == task_type
        return reports
    finally:
        stop(started)


def test_a_real_suite_from_the_subnets_task_type_ranks_its_reference_miners(
        validator_wallet: Wallet, tmp_path: Path) -> None:
    """No suite given: the validator loads subnet 1's "text-generation" suite and its scores
    put the named model above a template parser that answers right without it."""
    (report,) = score_suite_miners(validator_wallet, tmp_path, "text-generation",
                                   ("smollm2", "oracle"), challenges=4, ema_alpha=1.0)
    model, parser = (m.score for m in sorted(report.miners, key=lambda m: m.miner.uid))
    assert report.outcomes == {"ok": 8}
    assert model.accuracy == 1.0 and model.consistency == 1.0
    assert parser.accuracy == 0.0 and parser.total == 0.0


@pytest.mark.slow
def test_the_code_suite_scores_the_variant_reference_one_and_random_code_within_its_bound(
        validator_wallet: Wallet, tmp_path: Path) -> None:
    """Subnet 3 end to end: varied HumanEval problems, answers executed in the suite's
    sandbox. A random trivial body is right for a few checks of some problems: its accuracy
    is bounded, not zero."""
    (report,) = score_suite_miners(validator_wallet, tmp_path, "code-generation",
                                   ("variant-reference", "random"), challenges=4, ema_alpha=1.0)
    reference, random_code = (m.score for m in sorted(report.miners, key=lambda m: m.miner.uid))
    assert report.outcomes == {"ok": 8}
    assert reference.accuracy == 1.0 and reference.consistency == 1.0
    assert reference.availability == 1.0 and reference.latency == 1.0
    assert random_code.accuracy <= RANDOM_CODE_MAX_ACCURACY
    assert reference.total > random_code.total


@pytest.mark.slow
def test_one_validator_orders_smollm2_above_flaky_above_random_text(
        validator_wallet: Wallet, tmp_path: Path) -> None:
    """The named model, the same failing half its requests, and random text."""
    reports = score_suite_miners(validator_wallet, tmp_path, "text-generation",
                                 ("smollm2", "flaky", "random"), challenges=4, ema_alpha=0.5,
                                 rounds=2)
    smol, flaky, random_text = sorted(reports[-1].stats, key=lambda s: s.uid)
    assert smol.score.total > flaky.score.total > random_text.score.total
    assert smol.score.availability > 0.5        # the real model answered within the timeout
