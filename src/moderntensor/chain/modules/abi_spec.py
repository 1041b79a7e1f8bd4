"""Interim ABI of the system contract, used until ``protocol/syscalls.py`` ships the shared one.

Argument names are the issue's (``subnet``, ``modelName``...), which the handlers read.
"""

from __future__ import annotations

from typing import Any

SYSTEM_ADDRESS = "0x000000000000000000000000000000000000A001"


def _fn(name: str, inputs: list[tuple[str, str]], outputs: list[str] | None = None,
        mutability: str = "nonpayable") -> dict[str, Any]:
    return {"type": "function", "name": name, "stateMutability": mutability,
            "inputs": [{"name": n, "type": t} for n, t in inputs],
            "outputs": [{"name": "", "type": t} for t in (outputs or [])]}


def _event(name: str, inputs: list[tuple[str, str, bool]]) -> dict[str, Any]:
    return {"type": "event", "name": name, "anonymous": False,
            "inputs": [{"name": n, "type": t, "indexed": i} for n, t, i in inputs]}


ABI: list[dict[str, Any]] = [
    _fn("createSubnet", [("name", "string"), ("taskType", "string"), ("params", "string"),
                         ("metadata", "string")], ["uint16"]),
    _fn("setSubnetParams", [("subnet", "uint16"), ("params", "string")], ["uint16"]),
    _fn("registerMiner", [("subnet", "uint16"), ("modelName", "string"),
                          ("modelType", "string"), ("modelVersion", "string"),
                          ("powNonce", "uint64"), ("powBlock", "uint64")], ["uint16"]),
    _fn("registerValidator", [("subnet", "uint16")], ["uint16"], "payable"),
    _fn("addStake", [("subnet", "uint16"), ("amount", "uint256")], ["uint256"], "payable"),
    _fn("removeStake", [("subnet", "uint16"), ("amount", "uint256")], ["uint256"]),
    _fn("serveEndpoint", [("subnet", "uint16"), ("host", "string"), ("port", "uint16"),
                          ("protocol", "string")], ["uint16"]),
    _fn("setWeights", [("subnet", "uint16"), ("uids", "uint16[]"), ("weights", "uint16[]"),
                       ("accuracy", "uint16[]"), ("latency", "uint16[]"),
                       ("availability", "uint16[]"), ("consistency", "uint16[]"),
                       ("versionKey", "uint64")], ["uint16"]),
    _fn("getSubnets", [], ["uint16[]"], "view"),
    _fn("getSubnet", [("subnet", "uint16")],
        ["string", "string", "uint256", "uint64", "uint16", "uint16", "uint64", "uint256",
         "uint256", "uint16", "uint16"], "view"),
    _fn("getUid", [("subnet", "uint16"), ("account", "address")], ["bool", "uint16"], "view"),
    _fn("getStake", [("subnet", "uint16"), ("account", "address")], ["uint256"], "view"),
    _fn("getNeuron", [("subnet", "uint16"), ("uid", "uint16")],
        ["address", "uint8", "uint256", "bool", "uint64", "string", "uint16", "uint64",
         "uint64"], "view"),
    _fn("getEpoch", [("subnet", "uint16")], ["uint64", "uint64", "uint64", "uint256"], "view"),
    _fn("getRegistrationChallenge", [("subnet", "uint16")],
        ["uint64", "bytes32", "uint256"], "view"),
    _event("SubnetCreated", [("netuid", "uint16", True), ("owner", "address", True),
                             ("name", "string", False), ("taskType", "string", False),
                             ("deposit", "uint256", False)]),
    _event("SubnetParamsSet", [("netuid", "uint16", True), ("owner", "address", True)]),
    _event("MinerRegistered", [("subnet", "uint16", True), ("uid", "uint16", False),
                               ("account", "address", True), ("replaced", "bool", False)]),
    _event("ValidatorRegistered", [("subnet", "uint16", True), ("uid", "uint16", False),
                                   ("account", "address", True)]),
    _event("StakeAdded", [("subnet", "uint16", True), ("account", "address", True),
                          ("amount", "uint256", False)]),
    _event("StakeRemoved", [("subnet", "uint16", True), ("account", "address", True),
                            ("amount", "uint256", False), ("releaseBlock", "uint64", False)]),
    _event("StakeReleased", [("subnet", "uint16", True), ("account", "address", True),
                             ("amount", "uint256", False)]),
    _event("EndpointServed", [("subnet", "uint16", True), ("uid", "uint16", False),
                              ("account", "address", True), ("host", "string", False),
                              ("port", "uint16", False), ("protocol", "string", False)]),
    _event("WeightsSet", [("subnet", "uint16", True), ("uid", "uint16", False),
                          ("account", "address", True), ("count", "uint16", False)]),
    _event("EpochRewarded", [("epoch", "uint64", False), ("netuid", "uint16", True),
                             ("account", "address", True), ("role", "uint8", False),
                             ("score", "uint256", False), ("totalScore", "uint256", False),
                             ("subnetWeight", "uint256", False), ("emission", "uint256", False),
                             ("reward", "uint256", False)]),
]
