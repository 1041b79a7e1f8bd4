"""``moderntensor subnet ...``: list, inspect and create subnets; show a metagraph."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer

from moderntensor.cli.common import (
    JSON_OPTION,
    NETWORK_OPTION,
    PASSWORD_ENV_OPTION,
    WALLET_OPTION,
    YES_OPTION,
    CliError,
    confirm,
    console,
    open_client,
    print_json,
    print_table,
    report_tx,
)
from moderntensor.scoring import COMPONENTS
from moderntensor.units import format_mdt

app = typer.Typer(help="Subnets: list, show, create, metagraph.", no_args_is_help=True)


def _subnet_json(subnet: Any) -> dict[str, Any]:
    return subnet.raw


@app.command("list")
def list_(network: str | None = NETWORK_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Every subnet with its task type, weight, neurons and epoch."""
    with open_client(network) as client:
        subnets = client.get_subnets()
    if as_json:
        print_json([_subnet_json(s) for s in subnets])
        return
    print_table("Subnets", ["netuid", "name", "task type", "weight", "miners", "validators",
                            "tempo", "epoch", "next epoch block"],
                [[s.netuid, s.name, s.task_type, f"{s.subnet_weight:.2%}", s.miners,
                  s.validators, s.tempo, s.epoch, s.next_epoch_block] for s in subnets])


@app.command()
def show(netuid: int = typer.Argument(..., help="Subnet id."),
         network: str | None = NETWORK_OPTION, as_json: bool = JSON_OPTION) -> None:
    """One subnet's parameters and emission."""
    with open_client(network) as client:
        subnet = client.get_subnet(netuid)
    if as_json:
        print_json(_subnet_json(subnet))
        return
    rows = [["name", subnet.name], ["task type", subnet.task_type], ["owner", subnet.owner],
            ["subnet weight", f"{subnet.subnet_weight:.4f} (root vote)"],
            ["owner share", f"{subnet.owner_share:.0%} of the miner emission"
             if subnet.owner_share else "-"],
            ["epoch emission", format_mdt(subnet.epoch_emission)],
            ["registration difficulty", subnet.difficulty],
            ["miners / validators", f"{subnet.miners} / {subnet.validators}"],
            ["epoch", f"{subnet.epoch} (closes at block {subnet.next_epoch_block})"],
            ["metadata", json.dumps(subnet.metadata) if subnet.metadata else "-"]]
    rows += [[key, value] for key, value in subnet.params.items()]
    print_table(f"Subnet {netuid}", ["field", "value"], rows)


@app.command()
def metagraph(netuid: int = typer.Argument(..., help="Subnet id."),
              network: str | None = NETWORK_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Every neuron of a subnet: role, stake, score and its components, endpoint, reward."""
    with open_client(network) as client:
        graph = client.get_metagraph(netuid)
    if as_json:
        print_json({"netuid": graph.netuid, "block": graph.block, "neurons": [
            {"uid": int(graph.uids[i]), "address": graph.addresses[i], "role": graph.roles[i],
             "stake": str(graph.stakes[i]),
             "delegatedStake": str(graph.delegated_stakes[i]) if graph.delegated_stakes
             is not None else "0",
             "take": graph.takes[i] if graph.takes else None,
             "coldkey": graph.coldkeys[i] if graph.coldkeys else None,
             "validatorPermit": bool(graph.validator_permits[i]),
             "score": float(graph.scores[i]),
             **{name: float(column[i]) for name, column in graph.components.items()},
             "endpoint": asdict(graph.endpoints[i]) if graph.endpoints[i] else None,
             "lastReward": str(graph.last_rewards[i])} for i in range(graph.n)]})
        return
    rows = []
    for i in range(graph.n):
        endpoint = graph.endpoints[i]
        delegated = 0 if graph.delegated_stakes is None else int(graph.delegated_stakes[i])
        rows.append([int(graph.uids[i]), graph.roles[i], graph.addresses[i],
                     format_mdt(int(graph.stakes[i]), places=4)
                     + (f" +{format_mdt(delegated, places=4)}" if delegated else ""),
                     f"{graph.scores[i]:.4f}",
                     *(f"{graph.components[c][i]:.3f}" for c in COMPONENTS),
                     endpoint.url if endpoint else "-",
                     format_mdt(int(graph.last_rewards[i]), places=4)])
    print_table(f"Metagraph of subnet {netuid} at block {graph.block}",
                ["uid", "role", "address", "stake (+delegated)", "score", "acc", "lat", "avail",
                 "cons",
                 "endpoint", "last reward"], rows)


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{option} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CliError(f'{option} must be a JSON object, e.g. {{"tempo": 50}}')
    return value


@app.command()
def create(
    name: str = typer.Argument(..., help="Unique subnet name."),
    task_type: str = typer.Argument(..., help="Task type, e.g. text-generation or your own."),
    params: str = typer.Option("{}", "--params", help='JSON overrides, e.g. {"tempo": 50}.'),
    suite: str | None = typer.Option(None, "--suite",
                                     help="Custom task suite as package.module:ClassName."),
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a custom subnet (netuid 5+); locks the chain's subnet deposit."""
    overrides = _json_object(params, "--params")
    metadata = {"suite": suite} if suite else {}
    with open_client(network, wallet, password_env, signing=True) as client:
        result = client.create_subnet(name, task_type, overrides, metadata)
        netuid = next(int(log.args["netuid"]) for log in result.logs
                      if log.event == "SubnetCreated")
    if as_json:
        print_json({"netuid": netuid, "tx_hash": result.tx_hash, "block": result.block_number})
    else:
        console.print(f"Created subnet [bold]{netuid}[/] ({name}, {task_type}): {result}")


@app.command("set-params")
def set_params(
    netuid: int = typer.Argument(..., help="Subnet id (one you own)."),
    params: str = typer.Argument(..., help='JSON overrides, e.g. {"tempo": 50}.'),
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Tune the hyperparameters of a custom subnet you own."""
    overrides = _json_object(params, "PARAMS")
    with open_client(network, wallet, password_env, signing=True) as client:
        result = client.set_subnet_params(netuid, overrides)
    report_tx(result, as_json, f"Set {', '.join(overrides)} on subnet {netuid}")


@app.command("dissolve")
def dissolve(
    netuid: int = typer.Argument(..., help="Subnet id (a custom subnet you own)."),
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    yes: bool = YES_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Close a custom subnet you own: the deposit comes back, stakes unbond, neurons leave."""
    confirm(yes, "dissolving closes the subnet for every miner and validator on it",
            f"Dissolve subnet {netuid}? Every neuron leaves and every stake on it starts "
            "unbonding")
    with open_client(network, wallet, password_env, signing=True) as client:
        result = client.dissolve_subnet(netuid)
    deposit = next((int(log.args["deposit"]) for log in result.logs
                    if log.event == "SubnetDissolved"), 0)
    report_tx(result, as_json, f"Dissolved subnet {netuid}; {format_mdt(deposit)} returned")


VOTE_WEIGHTS = typer.Argument(..., help="NETUID=WEIGHT pairs, e.g. 1=0.4 5=0.6.")


@app.command("vote")
def vote(
    weights: list[str] = VOTE_WEIGHTS,
    wallet: str | None = WALLET_OPTION,
    network: str | None = NETWORK_OPTION,
    password_env: str | None = PASSWORD_ENV_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Your root vote on subnet weights (validators with the most stake; see
    docs/subnet-creator.md): relative weights per subnet, replacing your last vote."""
    parsed: dict[int, float] = {}
    for pair in weights:
        netuid, _, weight = pair.partition("=")
        try:
            parsed[int(netuid)] = float(weight)
        except ValueError:
            raise CliError(f"{pair!r} is not NETUID=WEIGHT, e.g. 5=0.6") from None
    with open_client(network, wallet, password_env, signing=True) as client:
        result = client.vote_subnet_weights(parsed)
    report_tx(result, as_json, f"Voted weights for subnets {', '.join(map(str, sorted(parsed)))}")

