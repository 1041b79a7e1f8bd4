"""Registration proof of work: solvable, verifiable, and bound to chain/subnet/address/block."""

from __future__ import annotations

import pytest

from moderntensor.protocol.pow import (
    DEV_POW_DIFFICULTY,
    MAX_ADJUST_FACTOR,
    InvalidPowError,
    PowChallenge,
    PowNotFoundError,
    adjust_difficulty,
    is_recent_block,
    pow_hash,
    pow_target,
    solve_pow,
    verify_pow,
)

ADDRESS = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
BLOCK = bytes(range(32))
CHALLENGE = PowChallenge(chain_id=1337, netuid=1, block_number=42, block_hash=BLOCK,
                         difficulty=DEV_POW_DIFFICULTY)


@pytest.fixture(scope="module")
def solution():
    return CHALLENGE.solve(ADDRESS)


def proof(**changes: object) -> bool:
    args: dict = {"chain_id": 1337, "netuid": 1, "address": ADDRESS, "block_hash": BLOCK,
                  "difficulty": DEV_POW_DIFFICULTY}
    return verify_pow(**{**args, **changes})  # type: ignore[arg-type]


def test_a_solution_verifies_and_carries_its_block(solution) -> None:
    assert solution.block_number == 42
    assert proof(nonce=solution.nonce)
    assert int.from_bytes(solution.hash, "big") < pow_target(DEV_POW_DIFFICULTY)
    assert solution.hash == pow_hash(chain_id=1337, netuid=1, address=ADDRESS, block_hash=BLOCK,
                                     nonce=solution.nonce)
    assert solution.hashes >= solution.nonce + 1


@pytest.mark.parametrize("change", [
    {"netuid": 2}, {"chain_id": 1}, {"address": OTHER}, {"block_hash": bytes(32)},
    {"difficulty": DEV_POW_DIFFICULTY * 2**40},
])
def test_the_work_is_bound_to_chain_subnet_address_block(solution, change: dict) -> None:
    assert not proof(nonce=solution.nonce, **change)


def test_a_wrong_nonce_is_rejected(solution) -> None:
    wrong = next(n for n in range(solution.nonce + 1, solution.nonce + 10**6) if not proof(nonce=n))
    assert not proof(nonce=wrong)


def test_address_spelling_does_not_matter(solution) -> None:
    assert proof(nonce=solution.nonce, address=ADDRESS.upper().replace("0X", "0x"))
    assert proof(nonce=solution.nonce, address=bytes.fromhex("ab" * 20))


@pytest.mark.parametrize("change", [
    {"address": "0x1234"}, {"block_hash": "0x12"}, {"nonce": -1}, {"nonce": 2**64},
    {"difficulty": 0}, {"netuid": -1}, {"block_hash": "zz" * 32},
])
def test_malformed_arguments_raise_a_typed_error(change: dict) -> None:
    with pytest.raises(InvalidPowError):
        proof(**{"nonce": 0, **change})


def test_progress_is_reported_and_a_hash_budget_is_enforced() -> None:
    seen: list[int] = []
    with pytest.raises(PowNotFoundError):
        solve_pow(chain_id=1, netuid=1, address=ADDRESS, block_hash=BLOCK, difficulty=2**200,
                  max_hashes=40_000, progress=seen.append)
    assert seen[-1] == 40_000 and seen == sorted(seen)


def test_several_workers_find_the_same_nonce_as_one() -> None:
    args = {"chain_id": 7, "netuid": 3, "address": ADDRESS, "block_hash": BLOCK,
            "difficulty": 2**12}
    assert solve_pow(**args, workers=2).nonce == solve_pow(**args).nonce  # type: ignore[arg-type]


def test_challenge_round_trips_through_json() -> None:
    assert PowChallenge.from_dict(CHALLENGE.to_dict()) == CHALLENGE
    with pytest.raises(InvalidPowError):
        PowChallenge.from_dict({"chainId": 1})


def test_difficulty_moves_toward_the_target_rate_within_bounds() -> None:
    assert adjust_difficulty(4096, registrations=4, target_registrations=4) == 4096
    assert adjust_difficulty(4096, registrations=0, target_registrations=4) == 2048
    assert adjust_difficulty(4096, registrations=12, target_registrations=4) == 8192
    assert adjust_difficulty(4096, 10**6, 4) == 4096 * MAX_ADJUST_FACTOR
    assert adjust_difficulty(4096, 0, 4, minimum=3000) == 3000
    assert adjust_difficulty(4096, 10**6, 4, maximum=5000) == 5000
    with pytest.raises(InvalidPowError):
        adjust_difficulty(4096, 1, 0)


def test_only_recent_past_blocks_are_accepted() -> None:
    assert is_recent_block(100, 150)
    assert not is_recent_block(10, 150)
    assert not is_recent_block(151, 150)
