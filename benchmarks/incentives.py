"""Incentive integrity on a real localnet: each strategy's reward as a share of the honest one.

    python benchmarks/incentives.py                        # text (1) then code (3), 10 epochs
    python benchmarks/incentives.py --netuid 1 --epochs 3 --json /tmp/incentives.json

Each subnet gets its own localnet (real processes on 127.0.0.1: a dev node, every miner from a
fresh 0-MDT wallet registered by proof of work). Miners: the subnet's honest reference (text:
SmolLM2 with verified sampling; code: ``variant-reference``), the same model slow but right,
cheats that answer without the model (text: template parser ``oracle``; code: lookup of the
public answers ``canonical``; both: echo, random, constant), and on text a relay and a replay
(``incentive_actors.py``: no model, answers of the honest miner asked with a staked validator
key). A twin of the honest miner registers while the validators already run. Validators: three
real ``validator run`` (honest, 200, 400 and 600 MDT), and empty, random and copier rows (200
MDT each; the copier copies the 200 MDT honest one).

Reported over ``--epochs`` epoch closes after everything is up: each miner's reward as a share
of the honest reference's, each validator's reward per MDT staked as a share of the copied
honest validator's, and the late twin's. The epochs counted start once every honest
validator's row on chain weighs the twin (how long that took is reported too): such a row
scores every miner. The baseline is the honest strategy in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from moderntensor.chain.genesis import dev_accounts
from moderntensor.client import AsyncLuxtensorClient
from moderntensor.localnet import Localnet, LocalnetSpec, ProcessInfo
from moderntensor.localnet.network import free_port
from moderntensor.wallet import Wallet

ACTORS = str(Path(__file__).with_name("incentive_actors.py"))
CLI = [sys.executable, "-m", "moderntensor.cli"]
STAKE_MDT = 200          # each adversarial validator: the stake of the honest one it copies
HONEST_VALIDATORS = 3    # the localnet's, staked 200, 400 and 600 MDT
RELAY_STAKE_MDT = 100    # the dev subnet's minimum: what a relay pays to be answered
LADDERS = {
    # the last smollm2 is the one relay and replay ask, so that their load slows no other
    1: ("smollm2", "slow", "oracle", "echo", "random", "constant", "smollm2"),
    3: ("variant-reference", "slow", "canonical", "echo", "random"),
}
STRATEGY = {"smollm2": "honest", "variant-reference": "honest", "slow": "slow-but-right",
            "oracle": "template-parser", "canonical": "public-answer lookup"}
CHEATS = ("echo", "random", "constant", "template-parser", "public-answer lookup", "relay",
          "replay")


@dataclass
class SubnetReport:
    """One subnet's run: rewards (base units) and shares of the honest strategy."""

    netuid: int
    epochs: int
    miners: dict[str, int] = field(default_factory=dict)
    validators: dict[str, int] = field(default_factory=dict)
    miner_shares: dict[str, float] = field(default_factory=dict)
    validator_shares: dict[str, float] = field(default_factory=dict)
    late_twin_ratio: float = 0.0
    late_twin_scored_s: float = 0.0   # from its endpoint on chain to a weight in every honest row
    seconds: float = 0.0


async def _fund_validator(client: AsyncLuxtensorClient, wallet: Wallet, funder: int,
                          netuid: int, stake: int) -> None:
    source = Wallet.from_private_key(dev_accounts()[funder].private_key)
    await client.transfer(wallet.address, stake + 100, wallet=source)
    await client.register_validator(netuid, stake, wallet=wallet)


async def _register_miner(client: AsyncLuxtensorClient, wallet: Wallet, netuid: int,
                          name: str, task_type: str) -> None:
    await client.register_miner(netuid, {"name": name, "type": task_type, "version": "1.0.0"},
                                wallet=wallet)


def _start_miner(net: Localnet, name: str, wallet: Wallet, netuid: int, argv: list[str],
                 model: str) -> ProcessInfo:
    port = free_port()
    return net.start_process(ProcessInfo(name, "miner", 0, "", [*argv, "--port", str(port)],
                                         netuid=netuid, address=wallet.address, port=port,
                                         model=model, wallet=name))


def _wait_endpoints(net: Localnet, infos: list[ProcessInfo], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for info in infos:
        while net.client.get_neuron(info.netuid, info.address).endpoint is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{info.name} published no endpoint; see {info.log}")
            time.sleep(0.2)


def _wait_weights(net: Localnet, netuid: int, validators: list[ProcessInfo],
                  timeout: float) -> None:
    """Until every honest validator has a row on chain: before that a lone adversarial row
    decides every score, which measures the start-up, not the rules."""
    deadline = time.monotonic() + timeout
    for info in validators:
        while not net.client.get_weights(netuid, info.address):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{info.name} set no weights; see {info.log}")
            time.sleep(0.5)


def _wait_scored(net: Localnet, netuid: int, validators: list[ProcessInfo], miner: str,
                 timeout: float) -> None:
    """Until every honest validator's row on chain weighs ``miner`` above 0."""
    uid = net.client.get_neuron(netuid, miner).uid
    deadline = time.monotonic() + timeout
    for info in validators:
        while not any(dict(zip(row["uids"], row["weights"], strict=True)).get(uid, 0) > 0
                      for row in net.client.get_weights(netuid, info.address)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{info.name} did not score {miner}; see {info.log}")
            time.sleep(0.5)


def _epoch(net: Localnet, netuid: int) -> int:
    last = net.client.get_epoch_info(netuid).get("lastEpoch") or {}
    return int(last.get("epoch", -1))


def _wait_epoch(net: Localnet, netuid: int, epoch: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _epoch(net, netuid) < epoch:
        if time.monotonic() > deadline:
            raise TimeoutError(f"epoch {epoch} of subnet {netuid} did not close in time")
        time.sleep(0.5)


def run_subnet(netuid: int, epochs: int, *, tempo: int, block_time: float, challenges: int,
               data_dir: Path) -> SubnetReport:
    """Start the localnet, add the actors, wait ``epochs`` closes, read who was paid what."""
    started = time.monotonic()
    ladder = LADDERS[netuid]
    spec = LocalnetSpec(miners=len(ladder), validators=HONEST_VALIDATORS, subnets=(netuid,),
                        ladder=ladder, tempo=tempo, block_time=block_time, challenges=challenges,
                        interval=tempo * block_time / 3)
    net = Localnet(spec, data_dir, detach=True)
    state = net.up()
    try:
        task_type = net.client.get_subnet(netuid).task_type
        references = [p for p in state.by_role("miner") if p.model == ladder[0]]
        relayed = references[-1]
        honest_validators = state.by_role("validator")
        honest_validator = honest_validators[0]
        names = {p.address.lower(): STRATEGY.get(p.model or "", p.model or "")
                 for p in state.by_role("miner")}
        if len(references) > 1:
            names[relayed.address.lower()] = "honest, relayed to"
        validators = {info.address.lower(): "honest" + (f" ({i + 1}x stake)" if i else "")
                      for i, info in enumerate(honest_validators)}
        wallets = {name: net.new_wallet(name) for name in
                   ("v-empty", "v-random", "v-copier", "relay-via", "relay", "replay",
                    "late-twin")}

        async def register() -> None:
            async with AsyncLuxtensorClient(net.url) as client:
                for index, name in enumerate(("v-empty", "v-random", "v-copier")):
                    await _fund_validator(client, wallets[name], 5 + index, netuid, STAKE_MDT)
                if netuid == 1:
                    await _fund_validator(client, wallets["relay-via"], 8, netuid,
                                          RELAY_STAKE_MDT)
                for name in ("relay", "replay") if netuid == 1 else ():
                    await _register_miner(client, wallets[name], netuid, name, task_type)
                await _register_miner(client, wallets["late-twin"], netuid, "late-twin",
                                      task_type)

        asyncio.run(register())
        for name, strategy in (("v-empty", "empty"), ("v-random", "random"),
                               ("v-copier", "copier")):
            argv = [sys.executable, ACTORS, "validator", strategy, "--wallet", name,
                    "--netuid", str(netuid), "--copy", honest_validator.address or "",
                    "--interval", str(block_time * 2)]
            net.start_process(ProcessInfo(name, "validator", 0, "", argv, netuid=netuid,
                                          address=wallets[name].address, wallet=name))
            validators[wallets[name].address.lower()] = strategy
        actors = []
        for name in ("relay", "replay") if netuid == 1 else ():
            argv = [sys.executable, ACTORS, "miner", name, "--wallet", name, "--netuid",
                    str(netuid), "--via", "relay-via", "--target", relayed.address or ""]
            actors.append(_start_miner(net, name, wallets[name], netuid, argv, name))
            names[wallets[name].address.lower()] = name
        twin_argv = [*CLI, "miner", "start", "--reference", task_type, "--model", ladder[0],
                     "--netuid", str(netuid), "--wallet", "late-twin"]
        actors.append(_start_miner(net, "late-twin", wallets["late-twin"], netuid, twin_argv,
                                   ladder[0]))
        _wait_endpoints(net, actors)
        served = time.monotonic()
        _wait_weights(net, netuid, honest_validators,
                      timeout=tempo * block_time * 4 + 120)
        # the twin registered last, so a row that weighs it is a row of every miner: until
        # each honest validator has one, a row of the start-up (a round waits for every
        # model's replies: ~20 s here) decides scores and lowers that validator's agreement
        _wait_scored(net, netuid, honest_validators, wallets["late-twin"].address,
                     timeout=tempo * block_time * 4 + 120)
        twin_scored_s = time.monotonic() - served
        first = _epoch(net, netuid) + 1    # the first epoch every actor could earn in
        last = first + epochs - 1
        _wait_epoch(net, netuid, last, timeout=epochs * tempo * block_time * 4 + 120)
        rewards = net.client.get_rewards(netuid=netuid, from_epoch=first, to_epoch=last,
                                         limit=1000)
    finally:
        net.stop()
    report = SubnetReport(netuid, epochs, seconds=round(time.monotonic() - started, 1),
                          late_twin_scored_s=round(twin_scored_s, 1))
    twin_pay = 0
    twin_address = wallets["late-twin"].address.lower()
    for reward in rewards:
        address = reward.address.lower()
        if reward.role == "miner" and address == twin_address:
            twin_pay += reward.reward
        elif reward.role == "miner" and address in names:
            label = names[address]
            report.miners[label] = report.miners.get(label, 0) + reward.reward
        elif reward.role == "validator" and address in validators:
            label = validators[address]
            report.validators[label] = report.validators.get(label, 0) + reward.reward
    for label in names.values():
        report.miners.setdefault(label, 0)
    for label in validators.values():
        report.validators.setdefault(label, 0)
    honest_pay = report.miners.get("honest", 0) or 1
    report.miner_shares = {k: round(v / honest_pay, 4) for k, v in report.miners.items()}
    honest_validator_pay = report.validators.get("honest", 0) or 1
    # per unit of stake: "honest (kx stake)" holds k times the others' stake
    report.validator_shares = {k: round(v / honest_validator_pay / _stake_multiple(k), 4)
                               for k, v in report.validators.items()}
    report.late_twin_ratio = round(twin_pay / honest_pay, 4)
    return report


def _stake_multiple(label: str) -> int:
    return int(label.split("(")[1][0]) if "x stake)" in label else 1


def print_report(report: SubnetReport) -> None:
    print(f"\nsubnet {report.netuid}: {report.epochs} epochs, {report.seconds:.0f} s")
    print(f"  {'miner strategy':24} {'MDT':>10} {'share of honest':>16}")
    for label, share in sorted(report.miner_shares.items(), key=lambda kv: -kv[1]):
        cheat = "  cheat" if label in CHEATS else ""
        print(f"  {label:24} {report.miners[label] / 1e18:10.3f} {share:16.3f}{cheat}")
    print(f"  late-registered twin / honest: {report.late_twin_ratio:.3f} (every honest validator "
          f"scored it {report.late_twin_scored_s:.0f} s after it served)")
    print(f"  {'validator strategy':24} {'MDT':>10} {'per stake, of honest':>21}")
    for label, share in sorted(report.validator_shares.items(), key=lambda kv: -kv[1]):
        print(f"  {label:24} {report.validators[label] / 1e18:10.3f} {share:21.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netuid", type=int, choices=sorted(LADDERS), action="append",
                        help="subnet(s) to measure (default: 1 and 3)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--tempo", type=int, default=30)
    parser.add_argument("--block-time", type=float, default=1.0)
    parser.add_argument("--challenges", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the reports here")
    parser.add_argument("--keep", type=Path, help="keep each localnet's files under this dir")
    args = parser.parse_args()
    reports = []
    for netuid in args.netuid or sorted(LADDERS):
        with tempfile.TemporaryDirectory(prefix=f"mt-incentives-{netuid}-") as tmp:
            data_dir = args.keep / f"subnet-{netuid}" if args.keep else Path(tmp)
            report = run_subnet(netuid, args.epochs, tempo=args.tempo,
                                block_time=args.block_time, challenges=args.challenges,
                                data_dir=data_dir)
        print_report(report)
        reports.append(report)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in reports], indent=2) + "\n")


if __name__ == "__main__":
    main()
