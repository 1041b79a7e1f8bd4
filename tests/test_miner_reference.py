"""``miner start --reference``: a suite's reference model behind MinerServer, by short name."""

from __future__ import annotations

import pytest

from moderntensor.errors import InvalidInputError
from moderntensor.miner.reference import ReferenceMiner, resolve_reference
from moderntensor.miner.request import MinerRequest
from moderntensor.wallet import Wallet


@pytest.mark.parametrize(("name", "model", "expected"), [
    ("text", None, ("text-generation", "smollm2")),
    ("text:echo", None, ("text-generation", "echo")),
    ("code", "canonical", ("code-generation", "canonical")),
    ("code-generation", "echo", ("code-generation", "echo")),
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
