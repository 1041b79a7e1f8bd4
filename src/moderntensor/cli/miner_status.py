"""``moderntensor miner status``: the miner guide's troubleshooting checklist, one command.

Answers, from the chain and the miner's own endpoint: am I registered (uid)? what endpoint does
the chain publish, and does it answer ``GET /health``? what did each validator last say per
score component? how far is the epoch? is my score above the subnet's ``min_score``? what are
my address, balance and recent rewards? Each failed check comes with what to do about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import typer

from moderntensor.cli.common import (
    JSON_OPTION,
    NETWORK_OPTION,
    WALLET_OPTION,
    CliError,
    console,
    print_json,
    resolved_address,
)
from moderntensor.config import resolve_config
from moderntensor.scoring import COMPONENTS, PPB, U16_MAX, MinerScore, score_reasons

if TYPE_CHECKING:
    from moderntensor.client import LuxtensorClient

HEALTH_TIMEOUT_S = 3.0
RECENT_REWARDS = 5


def status(
    netuid: int | None = typer.Option(None, "--netuid", "--subnet",
                                      help="Subnet id (else MT_NETUID; "
                                      "else every subnet the address is registered on)."),
    address: str | None = typer.Option(None, "--address", help="Miner address (default: the "
                                       "resolved wallet's, read without its password)."),
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Registration, endpoint reachability, validator feedback, epoch, threshold, rewards."""
    from moderntensor.client import ChainError, LuxtensorClient  # light CLI start-up

    config = resolve_config(network=network, wallet=wallet, netuid=netuid)
    target = resolved_address(address, wallet)
    with LuxtensorClient(config.network.value, config=config) as client:
        try:
            netuids = ([int(config.netuid.value)] if config.netuid.value is not None
                       else [s.netuid for s in client.get_subnets()])
            reports = [miner_report(client, target, n) for n in netuids]
        except ChainError as exc:
            raise CliError(f"the node at {client.url} refused: {exc.message}",
                           code=exc.code) from None
    registered = [r for r in reports if r["registered"]] or reports[:1]
    if as_json:
        print_json(registered if len(registered) > 1 else registered[0])
        return
    for report in registered:
        _print_report(report)


def miner_report(client: LuxtensorClient, address: str, netuid: int) -> dict[str, Any]:
    """Everything the checklist asks about one address on one subnet (exact ints kept)."""
    from moderntensor.client import ChainError

    subnet = client.call("mt_getSubnet", netuid)
    epoch = client.call("mt_getEpochInfo", netuid)
    balance = client.get_balance(address)
    report: dict[str, Any] = {
        "address": address, "netuid": netuid, "taskType": subnet["taskType"],
        "balance": str(balance), "registered": False, "epoch": _epoch(epoch),
        "minScore": subnet["params"]["minScore"] / PPB, "advice": [],
    }
    try:
        neuron = client.call("mt_getNeuron", netuid, address)
    except ChainError as exc:
        if exc.code != "unknown_neuron":
            raise
        report["advice"].append(f"not registered on subnet {netuid}: run `moderntensor miner "
                                f"register --netuid {netuid} --model-name NAME`")
        return report
    endpoint = neuron.get("endpoint")
    rewards = client.call("mt_getRewards", {"address": neuron["address"], "netuid": netuid,
                                            "limit": RECENT_REWARDS})
    rows = client.call("mt_getWeights", netuid, None, neuron["uid"])["rows"]
    report |= {
        "registered": True, "uid": neuron["uid"], "role": neuron["role"],
        "coldkey": neuron.get("coldkey"), "subnetWeight": subnet["subnetWeight"] / PPB,
        "model": neuron.get("model"), "registeredBlock": neuron["registeredBlock"],
        "endpoint": endpoint, "reachable": _health(endpoint),
        "score": neuron["score"] / PPB, "scoreBeforeCut": neuron["scoreBeforeCut"] / PPB,
        "components": {c: neuron[c] / U16_MAX for c in COMPONENTS},
        "reasons": score_reasons(MinerScore.from_u16(*(neuron[c] for c in COMPONENTS))),
        "feedback": [_feedback(row, epoch["blockNumber"]) for row in rows],
        "recentRewards": [{"epoch": r["epoch"], "block": r["block"], "score": r["score"] / PPB,
                           "reward": r["reward"]} for r in rewards["rewards"]],
        "rewardsTotal": rewards["total"],
    }
    report["advice"] = _advice(report)
    return report


def _epoch(info: dict[str, Any]) -> dict[str, Any]:
    done = info["tempo"] - info["blocksRemaining"]
    return {"epoch": info["epoch"], "block": info["blockNumber"], "tempo": info["tempo"],
            "blocksRemaining": info["blocksRemaining"], "nextEpochBlock": info["nextEpochBlock"],
            "progress": round(done / info["tempo"], 3), "lastEpoch": info.get("lastEpoch")}


def _health(endpoint: dict[str, Any] | None) -> dict[str, Any] | None:
    """GET /health of the endpoint the chain publishes (what validators will use)."""
    if not endpoint:
        return None
    url = f"{endpoint.get('protocol', 'http')}://{endpoint['host']}:{endpoint['port']}/health"
    try:
        response = httpx.get(url, timeout=HEALTH_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return {"url": url, "ok": False, "error": type(exc).__name__}
    try:
        body = response.json()
    except ValueError:
        body = {}
    return {"url": url, "ok": response.status_code == 200, "status": response.status_code,
            "health": body.get("status")}


def _feedback(row: dict[str, Any], block: int) -> dict[str, Any]:
    """One validator's latest weights for this miner, per component, and their age."""
    components = {c: (row[c][0] / U16_MAX if row[c] else None) for c in COMPONENTS}
    known = None not in components.values()
    return {"validator": row["address"], "uid": row["uid"], "block": row["block"],
            "age": block - row["block"], "permit": row["validatorPermit"],
            "score": row["weights"][0] / U16_MAX if row["weights"] else None, **components,
            "reasons": score_reasons(MinerScore(*components.values())) if known else []}


def _advice(report: dict[str, Any]) -> list[str]:
    advice = []
    if report["endpoint"] is None:
        advice.append("no endpoint on chain: start your miner (`moderntensor miner start`), it "
                      "publishes its endpoint")
    elif not (report["reachable"] or {}).get("ok"):
        advice.append(f"endpoint not reachable at {report['reachable']['url']}: is the miner "
                      "running, the port open, --external-host right?")
    if not report["feedback"]:
        advice.append("no validator has scored you yet: wait for a validator round")
    if report["epoch"]["lastEpoch"] is None:
        advice.append("no epoch has closed yet: rewards come at the end of each epoch")
    elif report["score"] < report["minScore"]:
        advice.append(f"score {report['scoreBeforeCut']:.3f} is under the subnet's min_score "
                      f"{report['minScore']:.3f}: it earns nothing; see the components")
    elif report["score"] == 0:
        advice.append("score 0 in the last epoch: it earned nothing; see the components")
    return advice


def _print_report(report: dict[str, Any]) -> None:
    from rich.table import Table

    ok, bad = "[green]✓[/]", "[red]✗[/]"
    epoch = report["epoch"]
    console.print(f"[bold]miner {report['address']}[/] on subnet {report['netuid']} "
                  f"({report['taskType']})")
    console.print(f"  balance {int(report['balance']) / 10**18:,.6f} MDT")
    console.print(f"  epoch {epoch['epoch']}: block {epoch['block']}, "
                  f"{epoch['blocksRemaining']} of {epoch['tempo']} blocks left "
                  f"({epoch['progress']:.0%} done)")
    if not report["registered"]:
        console.print(f"  {bad} not registered")
    else:
        model = report["model"] or {}
        console.print(f"  {ok} registered: uid {report['uid']} ({report['role']}) since block "
                      f"{report['registeredBlock']}, model {model.get('name')} "
                      f"{model.get('version')}")
        payee = (f"its cold key {report['coldkey']}" if report["coldkey"]
                 else "this key (no cold key bound: `moderntensor wallet bind-coldkey`)")
        console.print(f"  rewards go to {payee}; subnet weight "
                      f"{report['subnetWeight']:.4f}")
        endpoint, health = report["endpoint"], report["reachable"]
        if endpoint is None:
            console.print(f"  {bad} endpoint: none on chain")
        else:
            mark = ok if health and health["ok"] else bad
            detail = (health.get("health") or health.get("error")) if health else ""
            console.print(f"  {mark} endpoint {health['url'] if health else endpoint}: {detail}")
        above = report["score"] >= report["minScore"] and report["score"] > 0
        console.print(f"  {ok if above else bad} score {report['score']:.4f} (before the cut "
                      f"{report['scoreBeforeCut']:.4f}) vs min_score {report['minScore']:.4f}  ("
                      + ", ".join(f"{c} {v:.3f}" for c, v in report["components"].items()) + ")")
        for reason in report["reasons"]:
            console.print(f"    [yellow]gate:[/] {reason}")
        table = Table(title="latest validator feedback", title_justify="left")
        for column in ("validator", "age (blocks)", "score", *COMPONENTS, "why"):
            table.add_column(column, justify="left" if column in ("validator", "why")
                             else "right")
        for f in report["feedback"]:
            table.add_row(f"uid {f['uid']} {f['validator'][:10]}…", str(f["age"]),
                          *(_num(f[c]) for c in ("score", *COMPONENTS)), "; ".join(f["reasons"]))
        console.print(table)
        rewards = ", ".join(f"epoch {r['epoch']}: {int(r['reward']) / 10**18:.4f}"
                            for r in report["recentRewards"]) or "none yet"
        console.print(f"  recent rewards (MDT): {rewards}")
    for line in report["advice"]:
        console.print(f"  [yellow]→[/] {line}")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
