"""Text generation suite (subnet 1): verified sampling pays; one quality rule per kind."""

from __future__ import annotations

import dataclasses
import json
import random
import statistics
from typing import Any

import pytest

from moderntensor.subnets import load_suite
from moderntensor.subnets.base import Challenge
from moderntensor.subnets.models import ModelUnavailableError
from moderntensor.subnets.text import (
    KINDS,
    TextInput,
    TextOutput,
    TextSuite,
    facts,
    normalize,
    score_arithmetic,
    score_exact_word,
    score_fact,
    score_item_count,
    score_json,
    score_length,
)
from moderntensor.subnets.text_models import FlakyText, SlowText

suite = TextSuite()


def challenges(count: int = 300, seed: int = 1) -> list[Challenge]:
    rng = random.Random(seed)
    return [suite.make_challenge(rng) for _ in range(count)]


MINER = "0x" + "ab" * 20
OTHER_MINER = "0x" + "cd" * 20


def miner_challenges(count: int, seed: int = 1) -> list[Challenge]:
    return [suite.for_miner(item, MINER) for item in challenges(count, seed)]


def model_as(name: str, address: str = MINER) -> Any:
    model = suite.reference_models()[name]()
    model.serve_as(address)
    return model


def mean_accuracy(model_name: str, items: list[Challenge]) -> float:
    model = model_as(model_name)
    return statistics.mean(
        suite.accuracy(item, model.generate(item.task, item.input, item.params)) for item in items
    )


def mean_quality(model_name: str, items: list[Challenge]) -> float:
    model = model_as(model_name)
    return statistics.mean(
        suite.quality(item, model.generate(item.task, item.input, item.params)) for item in items
    )


def test_registered_under_its_task_type() -> None:
    assert isinstance(load_suite("text-generation"), TextSuite)


def test_facts_ship_in_the_package() -> None:
    assert len(facts()) >= 80
    assert all(fact.question.endswith("?") and fact.answers for fact in facts())


def test_challenges_are_seeded_cover_every_kind_and_validate() -> None:
    items = challenges()
    assert items == challenges()
    assert {item.kind for item in items} == set(KINDS)
    for item in items:
        TextInput.model_validate(item.input)
        assert 0 < item.input["max_tokens"] <= 128


def test_challenges_are_plain_json_so_a_validator_can_store_them() -> None:
    for item in challenges(30):
        json.dumps(dataclasses.asdict(item))


def test_challenges_carry_a_fresh_seed_and_are_bound_to_the_miner_asked() -> None:
    items = miner_challenges(50)
    assert len({item.input["seed"] for item in items}) == 50
    assert all(item.expected.miner == MINER for item in items)


def test_the_named_model_sampling_for_its_own_address_is_fully_verified() -> None:
    items = miner_challenges(4)
    assert mean_accuracy("smollm2", items) == 1.0
    TextOutput.model_validate(model_as("smollm2").generate(items[0].task, items[0].input,
                                                           items[0].params))


def test_a_model_handed_only_the_input_gets_the_seed_and_length_too() -> None:
    item = miner_challenges(1)[0]
    model = model_as("smollm2")
    assert suite.accuracy(item, model.generate(item.task, item.input, {})) == 1.0


def test_the_same_seed_gives_the_same_reply() -> None:
    item = miner_challenges(1)[0]
    model = model_as("smollm2")
    assert model.generate(item.task, item.input, item.params) == model.generate(
        item.task, item.input, item.params)


def test_a_relayed_reply_sampled_for_another_miner_fails_verification() -> None:
    items = miner_challenges(6, seed=2)
    relay = model_as("smollm2", OTHER_MINER)
    shares = [suite.accuracy(item, relay.generate(item.task, item.input, item.params))
              for item in items]
    assert statistics.mean(shares) < 0.25


def test_a_replayed_reply_of_another_seed_fails_verification() -> None:
    items = miner_challenges(6, seed=3)
    model = model_as("smollm2")
    shares = [suite.accuracy(item, model.generate(item.task, {**item.input, "seed": 1}, {}))
              for item in items]
    assert statistics.mean(shares) < 0.25


def test_tokens_that_do_not_spell_the_text_score_zero() -> None:
    item = miner_challenges(1)[0]
    reply = model_as("smollm2").generate(item.task, item.input, item.params)
    assert suite.accuracy(item, {**reply, "text": reply["text"] + " extra"}) == 0.0


@pytest.mark.parametrize("token", [-1, 49_152, 2**40])
def test_token_ids_outside_the_vocabulary_score_zero(token: int) -> None:
    item = miner_challenges(1)[0]
    assert suite.accuracy(item, {"text": "x", "tokens": [token]}) == 0.0


def test_a_reply_cut_short_before_the_stop_token_scores_zero() -> None:
    item = miner_challenges(1)[0]
    reply = model_as("smollm2").generate(item.task, item.input, item.params)
    cut = reply["tokens"][:2]
    assert len(cut) < item.input["max_tokens"]
    model = model_as("smollm2")
    text = model.generate(item.task, {**item.input, "max_tokens": 2}, {})["text"]
    assert suite.accuracy(item, {"text": text, "tokens": cut}) == 0.0


def test_a_challenge_not_bound_to_a_miner_scores_zero() -> None:
    item = challenges(1)[0]
    assert suite.accuracy(item, model_as("smollm2").generate(item.task, item.input,
                                                             item.params)) == 0.0


def test_the_template_parser_answers_right_yet_earns_no_accuracy() -> None:
    items = miner_challenges(300)
    assert mean_quality("oracle", items) == 1.0
    assert mean_accuracy("oracle", items[:20]) == 0.0


@pytest.mark.parametrize("model_name", ["echo", "random", "constant"])
def test_models_that_run_no_model_score_zero(model_name: str) -> None:
    assert mean_accuracy(model_name, miner_challenges(20)) == 0.0
    assert mean_quality(model_name, challenges()) < 0.15


def test_inconsistent_model_loses_consistency_on_repeats() -> None:
    model = suite.reference_models()["inconsistent"](seed=3)
    item = challenges(1)[0]
    pairs = [(model.generate(item.task, item.input, {}), model.generate(item.task, item.input, {}))
             for _ in range(10)]
    assert statistics.mean(suite.consistency(a, b) for a, b in pairs) < 0.9


def test_oracle_is_perfectly_consistent() -> None:
    model = suite.reference_models()["oracle"]()
    item = challenges(1)[0]
    first, second = (model.generate(item.task, item.input, {}) for _ in range(2))
    assert suite.consistency(first, second) == 1.0


def test_consistency_ignores_case_punctuation_and_spacing() -> None:
    assert suite.consistency({"text": "Paris."}, "  paris ") == 1.0
    assert suite.consistency({"text": "Paris"}, {"text": "Madrid is lovely"}) < 0.5


@pytest.mark.parametrize("output", [None, 3, {"answer": "x"}, {"text": 5}, "x" * 20_000])
def test_malformed_output_scores_zero(output: Any) -> None:
    item = suite.for_miner(challenges(1)[0], MINER)
    assert suite.accuracy(item, output) == 0.0
    assert suite.quality(item, output) == 0.0


# --- the rules -----------------------------------------------------------------------------

def test_fact_rule_accepts_any_spelling_as_whole_words_early_in_the_reply() -> None:
    assert score_fact("It is New Delhi.", ("New Delhi", "Delhi")) == 1.0
    assert score_fact("Parisian food", ("Paris",)) == 0.0
    assert score_fact("word " * 25 + "Paris", ("Paris",)) == 0.0


def test_arithmetic_rule_reads_the_last_number() -> None:
    assert score_arithmetic("47 * 23 = 1081", 1081) == 1.0
    assert score_arithmetic("The answer is 1,081.", 1081) == 1.0
    assert score_arithmetic("-12", -12) == 1.0
    assert score_arithmetic("1081 or maybe 1080", 1081) == 0.0
    assert score_arithmetic("no idea", 5) == 0.0


def test_exact_word_rule() -> None:
    assert score_exact_word('"River".', "river") == 1.0
    assert score_exact_word("The word is river", "river") == 0.5
    assert score_exact_word("Here is a long reply that mentions river somewhere", "river") == 0.0


def test_item_count_rule_counts_distinct_lines_without_bullets() -> None:
    assert score_item_count("1. apple\n2. pear\n- plum\n", 3) == 1.0
    assert score_item_count("apple\napple\npear", 4) == 0.5
    assert score_item_count("", 3) == 0.0


def test_json_rule_gives_half_for_an_object_and_a_quarter_per_typed_key() -> None:
    assert score_json('{"name": "Ada", "age": 36}', ("name", "age")) == 1.0
    assert score_json('```json\n{"name": "Ada", "age": "36"}\n```', ("name", "age")) == 0.75
    assert score_json('{"age": true}', ("name", "age")) == 0.5
    assert score_json("[1, 2]", ("name", "age")) == 0.0
    assert score_json("name: Ada", ("name", "age")) == 0.0


def test_length_rule_needs_the_topic_and_no_forbidden_word() -> None:
    assert score_length("The ocean is wide.", (10, "ocean")) == 1.0
    assert score_length("ocean " * 20, (10, "ocean")) == 0.5
    assert score_length("It is wide.", (10, "ocean")) == 0.0
    assert score_length("I describe the ocean.", (10, "ocean")) == 0.0


def test_normalize_keeps_numbers_and_drops_punctuation() -> None:
    assert normalize("  Hello,  WORLD! 3.5 and -12 ") == "hello world 3.5 and -12"


# --- test-quality miners ---------------------------------------------------------------------

def test_flaky_fixture_fails_every_other_request() -> None:
    model = FlakyText()
    model.generate("text-generation", {"prompt": "x"}, {})
    with pytest.raises(ModelUnavailableError):
        model.generate("text-generation", {"prompt": "x"}, {})


def test_slow_fixture_waits_between_target_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("moderntensor.subnets.models.time.sleep", slept.append)
    item = miner_challenges(1)[0]
    model = SlowText()
    model.serve_as(MINER)
    assert suite.accuracy(item, model.generate(item.task, item.input, item.params)) == 1.0
    assert slept == [SlowText.delay_s]
    assert suite.latency_target_s < SlowText.delay_s < suite.timeout_s


def test_reference_models_include_the_real_model_and_every_test_miner() -> None:
    assert {"smollm2", "oracle", "echo", "constant", "random", "slow", "flaky",
            "inconsistent"} <= set(
        suite.reference_models())
