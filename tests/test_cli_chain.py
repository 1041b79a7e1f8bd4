"""The chain commands of `moderntensor`, as real processes against a real dev node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from chain_support import NodeProcess, running_node
from moderntensor.client import LuxtensorClient

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    with running_node(tmp_path_factory.mktemp("cli") / "node", block_time=0.2) as running:
        running.wait_for_block(1)
        yield running


@pytest.fixture
def mt(node: NodeProcess) -> Any:
    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "MT_NETWORK": node.url, "PW": "pw", "MN": DEV_MNEMONIC, **env}
        return subprocess.run([sys.executable, "-m", "moderntensor.cli", *args],
                              capture_output=True, text=True, env=full_env, timeout=120,
                              check=False, stdin=subprocess.DEVNULL)

    run.url = node.url  # type: ignore[attr-defined]
    return run


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_subnet_list_and_show(mt: Any) -> None:
    subnets = ok_json(mt("subnet", "list", "--json"))
    assert [s["taskType"] for s in subnets[:4]] == [
        "text-generation", "image-generation", "code-generation", "audio"]
    assert ok_json(mt("subnet", "show", "3", "--json"))["netuid"] == 3


def test_fresh_wallet_registers_as_miner_and_appears_in_metagraph(mt: Any) -> None:
    ok_json(mt("wallet", "create", "--name", "miner", "--password-env", "PW", "--json"))
    registered = ok_json(mt("miner", "register", "--subnet", "1", "--model-name", "tiny",
                            "--wallet", "miner", "--password-env", "PW", "--json"))
    address = ok_json(mt("wallet", "show", "--name", "miner", "--json"))["address"]
    balance = ok_json(mt("wallet", "balance", "--name", "miner", "--json"))
    assert balance == {"address": address, "balance": "0", "mdt": "0"}
    neurons = ok_json(mt("subnet", "metagraph", "1", "--json"))["neurons"]
    assert neurons[registered["uid"]]["address"] == address
    # the miner changes what it serves later: fee-free (0 MDT), same uid
    updated = ok_json(mt("miner", "update-model", "--netuid", "1", "--model-name", "tiny-ft",
                         "--model-version", "2.0", "--wallet", "miner", "--password-env", "PW",
                         "--json"))
    assert updated["uid"] == registered["uid"]
    with LuxtensorClient(mt.url) as client:
        model = client.get_neuron(1, address).model
    assert model is not None and (model.name, model.version) == ("tiny-ft", "2.0")
    # and leaves: fee-free, asked to confirm, the uid is vacant in the metagraph
    refused = mt("miner", "deregister", "--netuid", "1", "--wallet", "miner")
    assert refused.returncode != 0 and "--yes" in refused.stderr
    left = ok_json(mt("miner", "deregister", "--netuid", "1", "--yes", "--wallet", "miner",
                      "--password-env", "PW", "--json"))
    assert left["uid"] == registered["uid"]
    neurons = ok_json(mt("subnet", "metagraph", "1", "--json"))["neurons"]
    assert neurons[registered["uid"]]["address"] == "0x" + "00" * 20


def test_validator_register_stake_unstake(mt: Any) -> None:
    ok_json(mt("wallet", "import", "--name", "dev", "--mnemonic-env", "MN", "--password-env",
               "PW", "--json"))
    flags = ["--subnet", "2", "--wallet", "dev", "--password-env", "PW", "--json"]
    assert ok_json(mt("validator", "register", "--stake", "150", *flags))["uid"] is not None
    assert ok_json(mt("validator", "stake", "10", *flags))["status"] == 1
    assert ok_json(mt("validator", "unstake", "5", *flags))["status"] == 1
    assert ok_json(mt("validator", "set-take", "0.1", *flags[2:]))["status"] == 1
    # the same wallet as its own nominator: a delegation needs only a registered validator
    me = ok_json(mt("wallet", "show", "--name", "dev", "--json"))["address"]
    assert ok_json(mt("validator", "stake", "3", "--validator", me, *flags))["status"] == 1
    assert ok_json(mt("validator", "unstake", "3", "--validator", me, *flags))["status"] == 1
    stranger = mt("validator", "stake", "1", "--validator", "0x" + "12" * 20, *flags[:-1])
    assert stranger.returncode == 1 and "[not_a_validator]" in stranger.stderr


def test_transfer_between_wallets(mt: Any) -> None:
    ok_json(mt("wallet", "import", "--name", "dev", "--mnemonic-env", "MN", "--password-env",
               "PW", "--json"))
    ok_json(mt("wallet", "create", "--name", "payee", "--password-env", "PW", "--json"))
    payee = ok_json(mt("wallet", "show", "--name", "payee", "--json"))["address"]
    ok_json(mt("wallet", "transfer", payee, "1.5", "--name", "dev", "--password-env", "PW",
               "--json"))
    assert ok_json(mt("wallet", "balance", payee, "--json"))["mdt"] == "1.5"


def test_create_custom_subnet(mt: Any) -> None:
    ok_json(mt("wallet", "import", "--name", "dev", "--mnemonic-env", "MN", "--password-env",
               "PW", "--json"))
    created = ok_json(mt("subnet", "create", "cli-subnet", "my-task", "--params",
                         '{"tempo": 30}', "--suite", "mypkg.suite:MySuite", "--wallet", "dev",
                         "--password-env", "PW", "--json"))
    assert created["netuid"] >= 5
    shown = ok_json(mt("subnet", "show", str(created["netuid"]), "--json"))
    assert shown["params"]["tempo"] == 30 and shown["taskType"] == "my-task"
    ok_json(mt("subnet", "set-params", str(created["netuid"]), '{"tempo": 40}', "--wallet",
               "dev", "--password-env", "PW", "--json"))
    assert ok_json(mt("subnet", "show", str(created["netuid"]), "--json"))["params"]["tempo"] == 40
    not_owner = mt("subnet", "set-params", "1", '{"tempo": 5}', "--wallet", "dev",
                   "--password-env", "PW")
    assert not_owner.returncode == 1 and "[not_subnet_owner]" in not_owner.stderr
    assert shown["metadata"] == {"suite": "mypkg.suite:MySuite"}
    netuid = str(created["netuid"])
    unconfirmed = mt("subnet", "dissolve", netuid, "--wallet", "dev", "--password-env", "PW")
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    ok_json(mt("subnet", "dissolve", netuid, "--yes", "--wallet", "dev", "--password-env", "PW",
               "--json"))
    gone = mt("subnet", "show", netuid, "--json")
    assert gone.returncode == 1 and "[unknown_subnet]" in gone.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["subnet", "show", "99"], "unknown_subnet"),
        (["validator", "stake", "1", "--wallet", "nobody", "--password-env", "PW"],
         "cli_error"),
        (["wallet", "balance", "0x1234"], "invalid_address"),
        (["subnet", "create", "x", "y", "--params", "[1]", "--password-env", "PW"], "cli_error"),
        (["subnet", "vote", "5:x", "--password-env", "PW"], "cli_error"),
        (["wallet", "bind-coldkey", "nosuch", "--password-env", "PW"], "wallet_not_found"),
        (["wallet", "new-hotkey", "--name", "h", "--coldkey", "nosuch", "--password-env", "PW"],
         "wallet_not_found"),
    ],
)
def test_chain_command_errors_are_one_line(mt: Any, args: list[str], code: str) -> None:
    result = mt(*args)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"[{code}]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_node_is_a_clear_error(mt: Any) -> None:
    result = mt("subnet", "list", MT_NETWORK="http://127.0.0.1:9")
    assert result.returncode == 1 and "[node_unreachable]" in result.stderr


def test_cold_and_hot_keys_from_the_cli(mt: Any) -> None:
    cold = ok_json(mt("wallet", "import", "--name", "cold", "--mnemonic-env", "MN",
                      "--password-env", "PW", "--json"))["address"]
    hot = ok_json(mt("wallet", "new-hotkey", "--name", "hot", "--coldkey", "cold",
                     "--password-env", "PW", "--json"))
    assert hot["coldkey"] == cold
    ok_json(mt("miner", "register", "--subnet", "3", "--model-name", "tiny", "--wallet", "hot",
               "--password-env", "PW", "--json"))
    assert ok_json(mt("wallet", "bind-coldkey", "cold", "--name", "hot", "--password-env", "PW",
                      "--json"))["status"] == 1
    again = mt("wallet", "bind-coldkey", cold, "--name", "hot", "--password-env", "PW")
    assert again.returncode == 1 and "[coldkey_already_set]" in again.stderr
    fresh = ok_json(mt("wallet", "create", "--name", "hot2", "--password-env", "PW",
                       "--json"))["address"]
    assert ok_json(mt("wallet", "swap-hotkey", hot["address"], "hot2", "--name", "cold",
                      "--password-env", "PW", "--json"))["status"] == 1
    with LuxtensorClient(mt.url) as client:
        assert client.get_neuron(3, fresh).address == fresh
    shown = [n for n in ok_json(mt("subnet", "metagraph", "3", "--json"))["neurons"]
             if n["address"] == fresh]
    assert shown[0]["coldkey"] == cold
