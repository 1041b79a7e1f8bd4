"""LuxtensorClient against a real dev node: the seed's registration, reads, writes, errors."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain_support import NodeProcess, running_node
from moderntensor import AsyncLuxtensorClient, LuxtensorClient, Wallet
from moderntensor.client import ChainError, NodeUnreachableError
from moderntensor.errors import InvalidInputError
from moderntensor.scoring import combine_u16
from moderntensor.units import to_base

DEV_MNEMONIC = "test test test test test test test test test test test junk"
MODEL = {"name": "my-llm-model", "type": "text-generation", "version": "1.0.0"}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    with running_node(tmp_path_factory.mktemp("client") / "node", block_time=0.2) as running:
        running.wait_for_block(1)
        yield running


@pytest.fixture
def dev(node: NodeProcess) -> Iterator[LuxtensorClient]:
    with LuxtensorClient(node.url, wallet=Wallet.from_mnemonic(DEV_MNEMONIC)) as client:
        yield client


def test_seed_snippet_registers_a_fresh_zero_mdt_wallet(node: NodeProcess, mt_home: Path) -> None:
    wallet = Wallet.create()
    wallet.save("default", "pw", scrypt_n=2**10)
    snippet = textwrap.dedent(f"""
        from moderntensor import LuxtensorClient

        client = LuxtensorClient("{node.url}")

        # Register as miner on subnet 1 (LLM inference)
        tx = client.register_miner(
            subnet_id=1,
            model_info={{
                "name": "my-llm-model",
                "type": "text-generation",
                "version": "1.0.0"
            }}
        )
        print(f"Registration TX: {{tx}}")
        print("uid", tx.uid)
    """)
    result = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                            env={**os.environ, "MT_WALLET_PASSWORD": "pw"}, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "Registration TX: 0x" in result.stdout
    with LuxtensorClient(node.url) as reader:
        neuron = reader.get_neuron(1, wallet.address)
        assert reader.get_balance(wallet.address) == 0
    assert neuron.role == "miner" and neuron.model is not None
    assert neuron.model.name == "my-llm-model"
    assert f"uid {neuron.uid}" in result.stdout


def test_transfer_moves_value_and_charges_exactly_the_fee(dev: LuxtensorClient) -> None:
    to = Wallet.create().address
    before = dev.get_balance()
    result = dev.transfer(to, "12.75")
    assert dev.get_balance(to) == to_base("12.75")
    assert dev.get_balance() == before - to_base("12.75") - result.fee
    assert result.ok and result.gas_used == 21_000


def test_validator_weights_and_components_land_on_chain(dev: LuxtensorClient) -> None:
    miner = Wallet.create()
    with LuxtensorClient(dev.url, wallet=miner) as miner_client:
        uid = miner_client.register_miner(1, MODEL).uid
    registered = dev.register_validator(1, stake=200)
    assert registered.uid is not None
    components = [50000], [40000], [65535], [30000]
    weight = combine_u16(50000, 40000, 65535, 30000)
    result = dev.set_weights(1, [uid], [weight], *components)
    assert [log.event for log in result.logs] == ["WeightsSet"]
    row = dev.get_weights(1, dev.wallet.address)[0]
    assert (row["uids"], row["weights"], row["accuracy"]) == ([uid], [weight], [50000])


def test_metagraph_columns_are_numpy_and_agree_with_neurons(dev: LuxtensorClient) -> None:
    miner = Wallet.create()
    with LuxtensorClient(dev.url, wallet=miner) as miner_client:
        uid = miner_client.register_miner(1, MODEL).uid
        miner_client.serve(1, "127.0.0.1", 5123)
    metagraph = dev.get_metagraph(1)
    assert metagraph.uids.dtype.kind == "i" and metagraph.n == len(metagraph.addresses)
    assert metagraph.addresses[uid] == miner.address and metagraph.roles[uid] == "miner"
    assert metagraph.endpoints[uid].url == "http://127.0.0.1:5123"
    assert metagraph.uid_of(miner.address.lower()) == uid
    assert dev.get_neuron(1, uid).address == miner.address


def test_stake_and_unstake(dev: LuxtensorClient) -> None:
    before = dev.get_neuron(1, dev.wallet.address).stake if dev.get_metagraph(1).uid_of(
        dev.wallet.address) is not None else 0
    dev.add_stake(1, 5)
    dev.remove_stake(1, 2)
    assert dev.get_neuron(1, dev.wallet.address).stake == before + to_base(3)


def test_model_type_must_match_the_subnet(dev: LuxtensorClient) -> None:
    with pytest.raises(InvalidInputError, match="task type 'text-generation'") as info:
        dev.register_miner(1, {**MODEL, "type": "image-generation"})
    assert info.value.code == "model_type_mismatch"


@pytest.mark.parametrize("model_info", [{"type": "text-generation"}, {"name": "", "type": "x"},
                                        "my-model", {"name": "m" * 500, "type": "x"}])
def test_bad_model_info_is_refused_before_any_work(dev: LuxtensorClient,
                                                   model_info: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        dev.register_miner(1, model_info)  # type: ignore[arg-type]
    assert info.value.code == "invalid_model_info"


def test_unknown_subnet_is_a_typed_chain_error(dev: LuxtensorClient) -> None:
    with pytest.raises(ChainError) as info:
        dev.get_subnet(999)
    assert info.value.code == "unknown_subnet"


def test_bad_weights_are_refused_without_sending(dev: LuxtensorClient) -> None:
    nonce = dev.get_nonce()
    with pytest.raises(InvalidInputError, match="u16"):
        dev.set_weights(1, [0], [70000], [0], [0], [0], [0])
    with pytest.raises(InvalidInputError, match="equal lengths"):
        dev.set_weights(1, [0, 1], [0], [0], [0], [0], [0])
    assert dev.get_nonce() == nonce


def test_bad_address_is_refused(dev: LuxtensorClient) -> None:
    with pytest.raises(InvalidInputError, match="not an Ethereum address"):
        dev.get_balance("0x1234")


def test_unreachable_node_says_how_to_start_one() -> None:
    with LuxtensorClient("http://127.0.0.1:9") as client, pytest.raises(
        NodeUnreachableError, match="moderntensor node start"
    ):
        client.block_number()


def test_sync_client_mirrors_every_async_method() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {name: inspect.signature(fn) for name, fn in inspect.getmembers(cls)
                if not name.startswith("_") and inspect.isfunction(fn) and name != "aclose"}

    async_methods = {name: sig for name, sig in public(AsyncLuxtensorClient).items()
                     if inspect.iscoroutinefunction(getattr(AsyncLuxtensorClient, name))}
    sync_methods = public(LuxtensorClient)
    for name, signature in async_methods.items():
        assert sync_methods[name] == signature, name


def test_reverted_call_raises_with_the_chains_reason(dev: LuxtensorClient) -> None:
    with pytest.raises(ChainError, match="cannot remove") as info:
        dev.remove_stake(1, 10**6)
    assert info.value.code == "insufficient_unstaked"
