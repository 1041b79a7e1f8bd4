"""``miner start --reference``: a suite's reference model behind MinerServer, by short name."""

from __future__ import annotations

import pytest

from moderntensor.errors import InvalidInputError
from moderntensor.miner.reference import SLOW_MODEL_WORKERS, ReferenceMiner, resolve_reference
from moderntensor.miner.request import MinerRequest
from moderntensor.wallet import Wallet


@pytest.mark.parametrize(("name", "model", "expected"), [
    ("text", None, ("text-generation", "smollm2")),
    ("text:echo", None, ("text-generation", "echo")),
    ("code", "canonical", ("code-generation", "canonical")),
    ("code-generation", "echo", ("code-generation", "echo")),
    ("code", None, ("code-generation", "variant-reference")),
    ("image", None, ("image-generation", "renderer")),
    ("stt", None, ("audio", "pocketsphinx")),
    ("tts", None, ("audio", "espeak")),
])
def test_short_names_resolve_to_a_suite_and_model(name: str, model: str | None,
                                                  expected: tuple[str, str]) -> None:
    assert resolve_reference(name, model) == expected


def test_unknown_names_say_what_exists() -> None:
    with pytest.raises(InvalidInputError, match="known"):
        resolve_reference("video")
    with pytest.raises(InvalidInputError, match="oracle"):
        resolve_reference("text", "gpt-9")


def test_the_reference_miner_answers_with_its_model() -> None:
    miner = ReferenceMiner("text", "echo", wallet=Wallet.create(num_words=12), netuid=1,
                           metagraph_source=[])
    request = MinerRequest(netuid=1, task="text-generation", input={"prompt": "hello"},
                           params={}, sender="0x" + "11" * 20, nonce=1)
    answer = miner.inference(request)
    assert answer["output"] == {"text": "hello"} and answer["latency_ms"] >= 0
    assert request.subnet == request.netuid == 1   # `request.subnet`: the documented alias
    assert miner.model_name == "text-generation:echo"


def test_a_slow_reference_model_answers_requests_side_by_side() -> None:
    wallet = Wallet.create(num_words=12)
    slow = ReferenceMiner("code", "slow", wallet=wallet, netuid=3, metagraph_source=[])
    plain = ReferenceMiner("code", wallet=wallet, netuid=3, metagraph_source=[])
    assert slow.settings.workers == SLOW_MODEL_WORKERS and plain.settings.workers == 1


def test_the_named_model_serves_as_the_miner_it_runs_in() -> None:
    wallet = Wallet.create(num_words=12)
    miner = ReferenceMiner("text", wallet=wallet, netuid=1, metagraph_source=[])
    assert miner.model.address == wallet.address
