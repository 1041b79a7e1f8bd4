"""Genesis config of the modules: dev/production defaults and modules.moderntensor overrides."""

from __future__ import annotations

import pytest

from moderntensor.chain.errors import GenesisError
from moderntensor.chain.modules.params import (
    GENESIS_TASKS,
    config_from_spec,
    dev_config,
    production_config,
)
from moderntensor.scoring import PPB
from moderntensor.units import BASE_PER_MDT


def test_dev_chain_gets_short_epochs_and_the_guides_emission() -> None:
    config = config_from_spec(1337, {})
    assert config == dev_config()
    assert [s.task_type for s in config.subnets] == list(GENESIS_TASKS)
    assert sum(s.weight for s in config.subnets) == PPB
    assert config.subnets[0].params.tempo == 20
    assert config.network.miner_emission_per_block * 20 == 1000 * BASE_PER_MDT


def test_other_chains_get_production_defaults() -> None:
    config = config_from_spec(7777, {})
    assert config == production_config()
    assert config.subnets[0].params.tempo == 75


def test_overrides_apply_on_top_of_the_defaults() -> None:
    config = config_from_spec(7777, {"moderntensor": {
        "network": {"unbondingPeriod": 5, "subnetDeposit": "7"},
        "subnets": [{"netuid": 1, "taskType": "text-generation", "weight": "1000000000",
                     "params": {"tempo": 10, "minValidatorStake": "5"}}]}})
    assert config.network.unbonding_period == 5 and config.network.subnet_deposit == 7
    (subnet,) = config.subnets
    assert subnet.params.tempo == 10 and subnet.params.min_validator_stake == 5
    assert subnet.params.max_miners == production_config().subnets[0].params.max_miners


@pytest.mark.parametrize("modules", [
    {"moderntensor": {"subnets": [{"netuid": 1, "taskType": "audio", "weight": 5}]}},
    {"moderntensor": {"subnets": [{"netuid": 1, "taskType": "Bad Type", "weight": PPB}]}},
    {"moderntensor": {"subnets": [{"netuid": 1, "taskType": "audio", "weight": PPB,
                                   "params": {"tempo": 0}}]}},
    {"moderntensor": {"subnets": [{"netuid": 1, "taskType": "audio", "weight": PPB,
                                   "params": {"nope": 1}}]}},
    {"moderntensor": {"network": {"nope": 1}}},
    {"moderntensor": []},
])
def test_bad_genesis_config_is_a_genesis_error(modules: dict) -> None:
    with pytest.raises(GenesisError):
        config_from_spec(7777, modules)


def test_the_dev_spec_uses_the_dev_preset_on_any_chain_id() -> None:
    from moderntensor.chain.genesis import dev_spec

    spec = dev_spec(chain_id=4242)
    assert config_from_spec(spec.chain_id, spec.modules) == dev_config()
    with pytest.raises(GenesisError):
        config_from_spec(1, {"moderntensor": {"preset": "fast"}})


def test_dev_accounts_are_the_dev_mnemonics_first_ten_keys() -> None:
    from eth_account.hdaccount import key_from_seed, seed_from_mnemonic

    from moderntensor.chain.genesis import DEV_MNEMONIC, dev_accounts

    seed = seed_from_mnemonic(DEV_MNEMONIC, passphrase="")
    derived = ["0x" + key_from_seed(seed, f"m/44'/60'/0'/0/{i}").hex() for i in range(10)]
    assert [account.private_key for account in dev_accounts()] == derived
