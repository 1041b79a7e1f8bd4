"""What a localnet looks like right now, read from the chain: a dict and a rich table.

One JSON-RPC batch per refresh (epoch info, metagraph, weights, rewards per subnet; balances),
so a live table every second costs the node one request.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from moderntensor.client import LuxtensorClient
from moderntensor.localnet.processes import alive
from moderntensor.localnet.spec import LocalnetState
from moderntensor.scoring import COMPONENTS, PPB, U16_MAX, MinerScore, score_reasons
from moderntensor.units import BASE_PER_MDT


def snapshot(state: LocalnetState) -> dict[str, Any]:
    """Block, epochs, every miner's components/score/rewards/balance, validators' weight age."""
    subnets = sorted({p.netuid for p in state.processes if p.netuid is not None})
    calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", [])]
    for netuid in subnets:
        calls += [("mt_getEpochInfo", [netuid]), ("mt_getMetagraph", [netuid]),
                  ("mt_getWeights", [netuid]),
                  ("mt_getRewards", [{"netuid": netuid, "limit": 1000}])]
    neurons = [p for p in state.processes if p.address]
    calls += [("eth_getBalance", [p.address, "latest"]) for p in neurons]
    with LuxtensorClient(state.url, timeout=10) as client:
        results = client.batch(calls)
    block = int(results[0], 16)
    balances = {(p.address or "").lower(): int(r, 16)
                for p, r in zip(neurons, results[1 + 4 * len(subnets):], strict=True)}
    out: dict[str, Any] = {"url": state.url, "block": block, "dataDir": state.data_dir,
                           "sandbox": state.sandbox, "subnets": []}
    for index, netuid in enumerate(subnets):
        epoch, graph, weights, rewards = results[1 + 4 * index: 5 + 4 * index]
        out["subnets"].append(_subnet_view(state, netuid, block, epoch, graph, weights,
                                           rewards, balances))
    return out


def _subnet_view(state: LocalnetState, netuid: int, block: int, epoch: dict[str, Any],
                 graph: dict[str, Any], weights: dict[str, Any], rewards: dict[str, Any],
                 balances: dict[str, int]) -> dict[str, Any]:
    paid: dict[str, int] = {}
    for record in rewards["rewards"]:
        key = record["address"].lower()
        paid[key] = paid.get(key, 0) + int(record["reward"])
    rows = {row["address"].lower(): row for row in weights["rows"]}
    processes = {(p.address or "").lower(): p for p in state.processes if p.netuid == netuid}
    miners, validators = [], []
    for uid in graph["uids"]:
        address = graph["addresses"][uid]
        key = address.lower()
        proc = processes.get(key)
        common = {"uid": uid, "address": address, "name": proc.name if proc else "",
                  "running": bool(proc and alive(proc.pid)),
                  "rewards": str(paid.get(key, 0)), "balance": str(balances.get(key, 0))}
        if graph["roles"][uid] == "miner":
            components = {c: graph[c][uid] / U16_MAX for c in COMPONENTS}
            miners.append({**common, "model": proc.model if proc else None,
                           "score": graph["scores"][uid] / PPB,
                           "scoreBeforeCut": graph["scoresBeforeCut"][uid] / PPB, **components,
                           "reasons": score_reasons(MinerScore(*components.values()))})
        else:
            row = rows.get(key)
            validators.append({**common, "stake": graph["stakes"][uid],
                               "agreement": graph["agreement"][uid] / PPB,
                               "permit": graph["validatorPermits"][uid],
                               "weightsAge": None if row is None else block - row["block"]})
    last = epoch.get("lastEpoch") or {}
    return {"netuid": netuid, "epoch": epoch["epoch"], "tempo": epoch["tempo"],
            "blocksRemaining": epoch["blocksRemaining"], "nextEpochBlock": epoch["nextEpochBlock"],
            "lastEpoch": last, "miners": miners, "validators": validators}


def render(view: dict[str, Any]) -> Group:
    """The live table of ``localnet up`` / ``localnet status``."""
    parts: list[Any] = [Text(f"localnet {view['url']}  block {view['block']}  "
                             f"data {view['dataDir']}", style="bold")]
    sandbox = view.get("sandbox") or ""
    if sandbox:
        parts.append(Text(f"miners' code runs in: {sandbox}",
                          style="bold red" if sandbox.startswith("UNSAFE") else ""))
    for subnet in view["subnets"]:
        title = (f"subnet {subnet['netuid']} · epoch {subnet['epoch']} · next epoch in "
                 f"{subnet['blocksRemaining']} blocks (at {subnet['nextEpochBlock']})")
        miners = Table(title=title, title_justify="left")
        for column in ("uid", "miner", "model", "acc", "lat", "avail", "cons", "score",
                       "before cut", "rewards MDT", "balance MDT", "why"):
            miners.add_column(column, justify="left" if column in ("miner", "model", "why")
                              else "right")
        for m in sorted(subnet["miners"], key=lambda m: -m["score"]):
            name = m["name"] + ("" if m["running"] else " (stopped)")
            miners.add_row(str(m["uid"]), name, m["model"] or "?",
                           *(f"{m[c]:.2f}" for c in COMPONENTS), f"{m['score']:.3f}",
                           f"{m['scoreBeforeCut']:.3f}", _mdt(m["rewards"]), _mdt(m["balance"]),
                           "; ".join(m["reasons"]))
        validators = Table(show_header=True, title_justify="left")
        for column in ("uid", "validator", "stake MDT", "permit", "weights age (blocks)",
                       "agreement", "rewards MDT", "balance MDT"):
            validators.add_column(column, justify="left" if column == "validator" else "right")
        for v in subnet["validators"]:
            age = "never" if v["weightsAge"] is None else str(v["weightsAge"])
            validators.add_row(str(v["uid"]), v["name"] + ("" if v["running"] else " (stopped)"),
                               _mdt(v["stake"]), "yes" if v["permit"] else "no", age,
                               f"{v['agreement']:.2f}", _mdt(v["rewards"]), _mdt(v["balance"]))
        parts += [miners, validators]
    return Group(*parts)


def _mdt(base_units: str | int) -> str:
    # display only (4 decimals); exact amounts are in the --json output and on chain
    return f"{int(base_units) / BASE_PER_MDT:,.4f}"
