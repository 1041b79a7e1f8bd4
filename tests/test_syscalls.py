"""System calls: one ABI (python and JSON), read back identically from web3.py's encoding."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from eth_utils import keccak
from web3 import Web3

from moderntensor.protocol.syscalls import (
    EVENT_TOPICS,
    EVENTS,
    FUNCTIONS,
    SYSTEM_ABI,
    SYSTEM_ADDRESS,
    SyscallDataError,
    UnknownSyscallError,
    abi_json,
    decode_call,
    decode_event,
    decode_result,
    encode_call,
    encode_event,
    encode_result,
    is_system_address,
)

ACCOUNT = Web3.to_checksum_address("0x" + "ab" * 20)
CONTRACT = Web3().eth.contract(address=SYSTEM_ADDRESS, abi=SYSTEM_ABI)

CALLS: dict[str, list] = {
    "createSubnet": ["vision", "image-generation", '{"tempo": 10}', ""],
    "setSubnetParams": [5, '{"minScore": 1000}'],
    "dissolveSubnet": [5],
    "voteSubnetWeights": [[1, 5], [65535, 1000]],
    "registerMiner": [1, "my-llm-model", "text-generation", "1.0.0", 2**64 - 1, 12345],
    "updateModelInfo": [1, "my-llm-model", "text-generation", "2.0.0"],
    "deregister": [1],
    "registerValidator": [1],
    "addStake": [1, 10**24],
    "removeStake": [1, 1],
    "delegateStake": [1, ACCOUNT, 10**18],
    "undelegateStake": [1, ACCOUNT, 1],
    "setTake": [90_000_000],
    "setColdkey": [ACCOUNT],
    "swapHotkey": [ACCOUNT, Web3.to_checksum_address("0x" + "cd" * 20)],
    "serveEndpoint": [1, "203.0.113.7", 5000, "http"],
    "setWeights": [1, [0, 1, 7], [65535, 0, 32768], [1, 2, 3], [4, 5, 6], [7, 8, 9],
                   [10, 11, 12], 3],
    "commitWeights": [1, b"\x11" * 32],
    "revealWeights": [1, [0, 1], [65535, 0], [1, 2], [4, 5], [7, 8], [10, 11], 3,
                      b"\x22" * 32],
    "getSubnets": [],
    "getSubnet": [2],
    "getUid": [1, ACCOUNT],
    "getStake": [1, ACCOUNT],
    "getNeuron": [1, 3],
    "getEpoch": [1],
    "getRegistrationChallenge": [1],
}


def test_every_function_has_a_sample_call() -> None:
    assert set(CALLS) == set(FUNCTIONS)


def test_the_shipped_json_file_is_the_python_abi() -> None:
    shipped = resources.files("moderntensor.protocol").joinpath("abi/ModernTensor.json")
    text = shipped.read_text()
    assert text == abi_json(), "regenerate: python -c 'from moderntensor.protocol.syscalls " \
                               "import abi_json; print(abi_json(), end=\"\")' > <file>"
    assert json.loads(text) == SYSTEM_ABI


@pytest.mark.parametrize("name", sorted(CALLS))
def test_web3_calldata_decodes_to_the_same_arguments(name: str) -> None:
    args = CALLS[name]
    data = bytes.fromhex(CONTRACT.encode_abi(name, args=args)[2:])
    via_function = getattr(CONTRACT.functions, name)(*args)._encode_transaction_data()
    assert bytes.fromhex(via_function[2:]) == data
    call = decode_call(data)
    assert call.name == name
    assert list(call.args.values()) == args
    assert encode_call(name, *args) == data == encode_call(name, **call.args)


def test_results_decode_for_web3_and_back() -> None:
    values = ["text", "text-generation", 150_000_000, 75, 256, 64, 100, 10**21, 2**16, 3, 1]
    data = encode_result("getSubnet", *values)
    assert list(decode_result("getSubnet", data).values()) == values
    spec = FUNCTIONS["getSubnet"]
    assert list(Web3().codec.decode(list(spec.output_types), data)) == values
    assert decode_result("registerMiner", encode_result("registerMiner", 7)) == {"uid": 7}


EVENT_SAMPLES: dict[str, dict] = {
    "SubnetCreated": {"netuid": 5, "owner": ACCOUNT, "name": "n", "taskType": "audio",
                      "deposit": 10**20},
    "SubnetParamsSet": {"netuid": 5, "owner": ACCOUNT},
    "MinerRegistered": {"netuid": 1, "uid": 3, "account": ACCOUNT, "replaced": True},
    "ValidatorRegistered": {"netuid": 1, "uid": 0, "account": ACCOUNT},
    "StakeAdded": {"netuid": 1, "account": ACCOUNT, "amount": 5},
    "StakeRemoved": {"netuid": 1, "account": ACCOUNT, "amount": 5, "releaseBlock": 99},
    "StakeReleased": {"netuid": 1, "account": ACCOUNT, "amount": 5},
    "EndpointServed": {"netuid": 1, "uid": 3, "account": ACCOUNT, "host": "127.0.0.1",
                       "port": 5000, "protocol": "http"},
    "WeightsSet": {"netuid": 1, "uid": 0, "account": ACCOUNT, "count": 12},
    "EpochRewarded": {"epoch": 9, "netuid": 1, "account": ACCOUNT, "role": 0,
                      "score": 850_000_000, "totalScore": 10 * 10**9,
                      "subnetWeight": 150_000_000, "emission": 10**21,
                      "reward": 12_750_000_000_000_000_000},
}


@pytest.mark.parametrize("name", sorted(EVENT_SAMPLES))
def test_logs_read_the_same_in_web3_and_in_our_decoder(name: str) -> None:
    fields = EVENT_SAMPLES[name]
    topics, data = encode_event(name, fields)
    signature = f"{name}({','.join(t for _, t, _ in EVENTS[name].fields)})"
    assert topics[0] == EVENT_TOPICS[name] == keccak(text=signature)
    log = {"address": SYSTEM_ADDRESS, "topics": topics, "data": data, "logIndex": 0,
           "transactionIndex": 0, "transactionHash": b"\x00" * 32, "blockHash": b"\x00" * 32,
           "blockNumber": 1}
    assert dict(getattr(CONTRACT.events, name)().process_log(log)["args"]) == fields
    assert decode_event(topics, data) == (name, fields)


def test_unknown_selectors_and_names_raise_a_typed_error() -> None:
    for data in (b"", b"\x01\x02", b"\xde\xad\xbe\xef" + bytes(32)):
        with pytest.raises(UnknownSyscallError) as info:
            decode_call(data)
        assert info.value.code == "unknown_call"
    with pytest.raises(UnknownSyscallError):
        encode_call("mintMeSomeMDT")
    with pytest.raises(UnknownSyscallError):
        decode_event([b"\x00" * 32], b"")


def test_bad_calldata_raises_a_typed_error() -> None:
    good = encode_call("registerValidator", 1)
    dirty = good[:4] + b"\x01" + good[5:]                 # a u16 with its high bytes set
    for data in (good[:-1], good + b"\x00" * 32, dirty,
                 encode_call("setWeights", *CALLS["setWeights"])[:100]):
        with pytest.raises(SyscallDataError) as info:
            decode_call(data)
        assert info.value.code == "invalid_calldata"
    with pytest.raises(SyscallDataError):
        encode_call("registerValidator", 2**16)           # out of u16 range
    with pytest.raises(SyscallDataError):
        encode_call("registerValidator", 1, netuid=1)
    with pytest.raises(SyscallDataError):
        encode_event("StakeAdded", {"netuid": 1})


def test_the_system_range_is_reserved() -> None:
    assert is_system_address(SYSTEM_ADDRESS)
    assert is_system_address("0x00000000000000000000000000000000000008ff")
    assert is_system_address(bytes.fromhex("00" * 18 + "0801"))
    assert not is_system_address("0x0000000000000000000000000000000000000900")
    assert not is_system_address(ACCOUNT)
    assert not is_system_address("not an address")
