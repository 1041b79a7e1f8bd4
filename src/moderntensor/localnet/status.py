"""What a localnet looks like right now, read from the chain: a dict and a rich table.

Two JSON-RPC batches per refresh (epoch info, metagraph, weights, rewards per subnet; then the
balance of every neuron on them), so a live table every second costs the node two requests.
The table fits the console: every column from 150 columns up, a compact layout below (down to 80).
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
from moderntensor.units import format_mdt


def snapshot(state: LocalnetState) -> dict[str, Any]:
    """Block, epochs, every miner's components/score/rewards/balance, validators' weight age."""
    subnets = sorted({p.netuid for p in state.processes if p.netuid is not None})
    calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", [])]
    for netuid in subnets:
        calls += [("mt_getEpochInfo", [netuid]), ("mt_getMetagraph", [netuid]),
                  ("mt_getWeights", [netuid]),
                  ("mt_getRewards", [{"netuid": netuid, "limit": 1000}])]
    with LuxtensorClient(state.url, timeout=10) as client:
        results = client.batch(calls)
        # every neuron's balance, the localnet's own and any registered from outside
        graphs = [results[2 + 4 * index] for index in range(len(subnets))]
        addresses = sorted({a.lower() for g in graphs for a in g["addresses"]})
        found = client.batch([("eth_getBalance", [a, "latest"]) for a in addresses])
    block = int(results[0], 16)
    balances = {a: int(r, 16) for a, r in zip(addresses, found, strict=True)}
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
        # a neuron this localnet did not start runs elsewhere: shown by address, not "stopped"
        common = {"uid": uid, "address": address,
                  "name": proc.name if proc else f"{address[:8]}…{address[-4:]}",
                  "external": proc is None, "running": bool(proc and alive(proc.pid)),
                  "rewards": str(paid.get(key, 0)), "balance": str(balances.get(key, 0))}
        if graph["roles"][uid] == "miner":
            components = {c: graph[c][uid] / U16_MAX for c in COMPONENTS}
            chain_model = (graph.get("models") or [None] * (uid + 1))[uid] or {}
            miners.append({**common, "model": proc.model if proc else chain_model.get("name"),
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


WIDE = 150  # console columns from which the miners' table shows one column per component


def render(view: dict[str, Any], width: int = WIDE) -> Group:
    """The live table of ``localnet up`` / ``localnet status``, laid out for ``width`` columns."""
    parts: list[Any] = [Text(f"localnet {view['url']}  block {view['block']}  "
                             f"data {view['dataDir']}", style="bold")]
    sandbox = view.get("sandbox") or ""
    if sandbox:
        parts.append(Text(f"miners' code runs in: {sandbox}",
                          style="bold red" if sandbox.startswith("UNSAFE") else ""))
    for subnet in view["subnets"]:
        title = (f"subnet {subnet['netuid']} · epoch {subnet['epoch']} · next epoch in "
                 f"{subnet['blocksRemaining']} blocks (at {subnet['nextEpochBlock']})")
        parts += _miner_table(subnet, title, wide=width >= WIDE)
        parts.append(_validator_table(subnet, wide=width >= WIDE))
    return Group(*parts)


def _label(neuron: dict[str, Any]) -> str:
    if neuron.get("external"):
        return neuron["name"] + " (external)"
    return neuron["name"] + ("" if neuron["running"] else " (stopped)")


def _miner_table(subnet: dict[str, Any], title: str, *, wide: bool) -> list[Any]:
    miners = Table(title=title, title_justify="left", padding=(0, 1 if wide else 0))
    components = ["acc", "lat", "avail", "cons"] if wide else ["acc lat av con"]
    columns = ["uid", "miner", "model", *components, "score", "before cut" if wide else "cut",
               "rewards MDT", *(["balance MDT", "why"] if wide else [])]
    for column in columns:
        miners.add_column(column, justify="left" if column in ("miner", "model", "why")
                          else "right", overflow="fold")
    notes = []
    for m in sorted(subnet["miners"], key=lambda m: -m["score"]):
        values = [f"{m[c]:.2f}" for c in COMPONENTS]
        reasons = "; ".join(m["reasons"])
        miners.add_row(str(m["uid"]), _label(m), m["model"] or "-",
                       *(values if wide else [" ".join(values)]), f"{m['score']:.3f}",
                       f"{m['scoreBeforeCut']:.3f}", _mdt(m["rewards"]),
                       *([_mdt(m["balance"]), reasons] if wide else []))
        if not wide and reasons:
            notes.append(Text(f"  uid {m['uid']}: {reasons}"))
    return [miners, *notes]


def _validator_table(subnet: dict[str, Any], *, wide: bool) -> Table:
    validators = Table(show_header=True, title_justify="left", padding=(0, 1 if wide else 0))
    columns = ["uid", "validator", "stake MDT", "permit", "weights age" if wide else "age",
               "agreement" if wide else "agree", "rewards MDT", *(["balance MDT"] if wide else [])]
    for column in columns:
        validators.add_column(column, justify="left" if column == "validator" else "right",
                              overflow="fold")
    for v in subnet["validators"]:
        age = "never" if v["weightsAge"] is None else str(v["weightsAge"])
        validators.add_row(str(v["uid"]), _label(v), _mdt(v["stake"]),
                           "yes" if v["permit"] else "no", age, f"{v['agreement']:.2f}",
                           _mdt(v["rewards"]), *([_mdt(v["balance"])] if wide else []))
    return validators


def _mdt(base_units: str | int) -> str:
    # display only (4 decimals); exact amounts are in the --json output and on chain
    return format_mdt(int(base_units), symbol=False, places=4)
