"""weightsVersion: a subnet owner requires a validator release; older rows are refused."""

from __future__ import annotations

from moderntensor.chain.modules.records import get_subnet, get_weights
from moderntensor.validator.weight_rows import build_submission, validator_version_key
from modules_support import MDT, Sim, account
from test_chain_modules_epochs import easy_config, funded
from test_chain_modules_registration import expect

OWNER, VALIDATOR, MINER = account(0), account(1), account(1000)


def subnet_requiring(version: int) -> tuple[Sim, int]:
    sim = Sim(config=easy_config(), funded=funded())
    sim.next_block(2)
    sim.call(OWNER, "createSubnet", name="translation", taskType="translation",
             params=f'{{"weightsVersion": {version}, "commitRevealPeriod": 0}}', metadata="")
    sim.call(VALIDATOR, "addStake", netuid=5, amount=200 * MDT)
    sim.call(VALIDATOR, "registerValidator", netuid=5)
    uid = sim.register_miner(MINER, 5, model_type="translation")
    sim.next_block()
    return sim, uid


def row(uid: int, version_key: int) -> dict:
    return {"netuid": 5, "uids": [uid], "weights": [65535], "accuracy": [65535],
            "latency": [65535], "availability": [65535], "consistency": [65535],
            "versionKey": version_key}


def test_a_row_below_the_subnets_weights_version_is_refused() -> None:
    sim, uid = subnet_requiring(2_000_000)
    expect("outdated_version_key", sim.call, VALIDATOR, "setWeights", **row(uid, 1_999_999))
    assert get_weights(sim.state, 5, 1) is None


def test_a_row_at_or_above_the_weights_version_is_stored() -> None:
    sim, uid = subnet_requiring(2_000_000)
    sim.call(VALIDATOR, "setWeights", **row(uid, 2_000_000))
    stored = [get_weights(sim.state, 5, u) for u in range(2)]
    assert any(r is not None and r.version_key == 2_000_000 for r in stored)


def test_the_owner_raises_the_weights_version_later() -> None:
    sim, uid = subnet_requiring(0)
    sim.call(OWNER, "setSubnetParams", netuid=5, params='{"weightsVersion": 5}')
    assert get_subnet(sim.state, 5).params.weights_version == 5
    expect("outdated_version_key", sim.call, VALIDATOR, "setWeights", **row(uid, 4))


def test_validators_write_their_release_as_the_version_key() -> None:
    from moderntensor import __version__

    assert validator_version_key() == validator_version_key(__version__) > 0
    assert build_submission(5, []).version_key == validator_version_key()
