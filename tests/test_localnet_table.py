"""The localnet table fits the console it is printed on and labels every neuron truly."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from moderntensor.localnet import render

MDT = 10**18


def miner(uid: int, name: str, **extra: Any) -> dict[str, Any]:
    return {"uid": uid, "address": "0x" + f"{uid:02x}" * 20, "name": name, "external": False,
            "running": True, "rewards": str(12 * MDT + MDT // 3), "balance": str(5 * MDT),
            "model": "smollm2", "score": 0.5, "scoreBeforeCut": 0.5, "accuracy": 0.91,
            "latency": 0.82, "availability": 1.0, "consistency": 0.95, "reasons": [], **extra}


def view() -> dict[str, Any]:
    outside = miner(2, "0x020202…0202", external=True, running=False, model="my-llm")
    gated = miner(3, "echo-miner", accuracy=0.02, score=0.0, scoreBeforeCut=0.0081,
                  reasons=["accuracy 0.02 under floor 0.20: latency/consistency not counted"])
    validator = {"uid": 0, "address": "0x" + "aa" * 20, "name": "validator-0", "running": True,
                 "external": False, "rewards": str(MDT), "balance": str(MDT), "stake": 200 * MDT,
                 "agreement": 0.97, "permit": True, "weightsAge": 3}
    return {"url": "http://127.0.0.1:8545", "block": 120, "dataDir": "/tmp/localnet",
            "sandbox": "", "subnets": [{"netuid": 1, "epoch": 4, "tempo": 20,
                                        "blocksRemaining": 7, "nextEpochBlock": 127,
                                        "miners": [miner(1, "miner-1"), outside, gated],
                                        "validators": [validator]}]}


def printed(width: int) -> str:
    console = Console(record=True, width=width, force_terminal=False)
    console.print(render(view(), width))
    return console.export_text()


def test_at_80_columns_no_line_is_cut_and_every_component_is_shown() -> None:
    text = printed(80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "0.91 0.82 1.00 0.95" in text and "…" not in text.replace("0x020202…0202", "")
    assert "uid 3: accuracy 0.02 under floor 0.20: latency/consistency not counted" in text


def test_a_wide_console_gets_one_column_per_component() -> None:
    text = printed(200)
    assert all(header in text for header in ("acc", "lat", "avail", "cons", "before cut", "why"))


def test_amounts_have_four_decimals_and_the_score_before_the_cut_is_shown() -> None:
    text = printed(80)
    assert "12.3333" in text and "12.33333" not in text
    assert "0.008" in text   # the gated miner's score before the min_score cut


def test_a_miner_registered_from_outside_is_labelled_external_with_its_model() -> None:
    text = printed(200)
    assert "0x020202…0202 (external)" in text and "my-llm" in text and "(stopped)" not in text
