"""Wallet: BIP-39 mnemonics, Ethereum addresses, keystores, signatures, no secret leaks."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from eth_account import Account

from moderntensor import Wallet
from moderntensor.errors import (
    InvalidMnemonicError,
    InvalidPrivateKeyError,
    WalletExistsError,
    WalletNotFoundError,
    WrongPasswordError,
)
from moderntensor.wallet import keystore_address, list_wallets

HARDHAT_MNEMONIC = "test test test test test test test test test test test junk"
ABANDON_MNEMONIC = " ".join(["abandon"] * 11 + ["about"])
FAST_SCRYPT = 2**10  # keystores in tests use a cheap KDF; the default is MetaMask's 2**18


def test_create_gives_24_words_and_checksummed_address() -> None:
    wallet = Wallet.create()
    assert len(wallet.mnemonic.split()) == 24
    assert wallet.address.startswith("0x") and len(wallet.address) == 42
    assert wallet.address != wallet.address.lower()  # EIP-55 mixes case


@pytest.mark.parametrize(
    ("mnemonic", "address"),
    [
        (HARDHAT_MNEMONIC, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        (ABANDON_MNEMONIC, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"),
    ],
)
def test_known_bip39_vectors_give_known_ethereum_addresses(mnemonic: str, address: str) -> None:
    assert Wallet.from_mnemonic(mnemonic).address == address


def test_restoring_from_mnemonic_gives_same_address() -> None:
    wallet = Wallet.create()
    assert Wallet.from_mnemonic(wallet.mnemonic).address == wallet.address


def test_account_index_follows_metamask_path() -> None:
    second = Wallet.from_mnemonic(HARDHAT_MNEMONIC, account_index=1)
    assert second.address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_mnemonic_with_wrong_word_count_says_so() -> None:
    with pytest.raises(InvalidMnemonicError, match="has 11"):
        Wallet.from_mnemonic(" ".join(["abandon"] * 11))


def test_mnemonic_with_unknown_word_names_it() -> None:
    words = ABANDON_MNEMONIC.split()
    words[3] = "notaword"
    with pytest.raises(InvalidMnemonicError, match=r"word 4 \('notaword'\)"):
        Wallet.from_mnemonic(" ".join(words))


def test_mnemonic_with_bad_checksum_says_checksum() -> None:
    with pytest.raises(InvalidMnemonicError, match="checksum"):
        Wallet.from_mnemonic(" ".join(["abandon"] * 12))


def test_from_private_key_rejects_garbage() -> None:
    with pytest.raises(InvalidPrivateKeyError):
        Wallet.from_private_key("0x1234")


def test_from_private_key_matches_eth_account() -> None:
    key = "0x" + "11" * 32
    assert Wallet.from_private_key(key).address == Account.from_key(key).address


def test_save_writes_encrypted_keystore_0600_in_0700_dir(mt_home: Path) -> None:
    wallet = Wallet.create()
    path = wallet.save("alice", "pw", scrypt_n=FAST_SCRYPT)
    assert path == mt_home / "wallets" / "alice.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    keystore = json.loads(path.read_text())
    assert keystore["version"] == 3 and keystore["crypto"]["kdf"] == "scrypt"
    assert wallet.private_key.hex() not in path.read_text()


def test_load_round_trips_the_key() -> None:
    wallet = Wallet.create()
    wallet.save("alice", "pw", scrypt_n=FAST_SCRYPT)
    assert Wallet.load("alice", "pw").address == wallet.address


def test_load_with_wrong_password_is_a_clear_error() -> None:
    Wallet.create().save("alice", "pw", scrypt_n=FAST_SCRYPT)
    with pytest.raises(WrongPasswordError, match="wrong password for wallet 'alice'"):
        Wallet.load("alice", "not-pw")


def test_save_refuses_to_overwrite_unless_asked() -> None:
    Wallet.create().save("alice", "pw", scrypt_n=FAST_SCRYPT)
    with pytest.raises(WalletExistsError):
        Wallet.create().save("alice", "pw", scrypt_n=FAST_SCRYPT)
    replacement = Wallet.create()
    replacement.save("alice", "pw", overwrite=True, scrypt_n=FAST_SCRYPT)
    assert keystore_address("alice") == replacement.address


def test_load_missing_wallet_tells_how_to_create_it() -> None:
    with pytest.raises(WalletNotFoundError, match="moderntensor wallet create"):
        Wallet.load("ghost", "pw")


def test_wallet_names_cannot_escape_the_wallet_dir() -> None:
    with pytest.raises(Exception, match="may use only"):
        Wallet.create().save("../evil", "pw", scrypt_n=FAST_SCRYPT)


def test_list_wallets_reads_addresses_without_password() -> None:
    a, b = Wallet.create(), Wallet.create()
    a.save("a", "pw", scrypt_n=FAST_SCRYPT)
    b.save("b", "pw", scrypt_n=FAST_SCRYPT)
    assert list_wallets() == [("a", a.address), ("b", b.address)]


def test_sign_and_verify_message() -> None:
    wallet = Wallet.create()
    signed = wallet.sign_message("hello")
    assert Wallet.verify("hello", signed.signature, wallet.address)
    assert not Wallet.verify("hello!", signed.signature, wallet.address)
    assert not Wallet.verify("hello", b"\x00" * 65, wallet.address)


def test_sign_transaction_recovers_to_wallet() -> None:
    wallet = Wallet.create()
    tx = {"to": wallet.address, "value": 1, "gas": 21000, "gasPrice": 1, "nonce": 0,
          "chainId": 1}
    signed = wallet.sign_transaction(tx)
    assert Account.recover_transaction(signed.raw_transaction) == wallet.address


def test_repr_str_and_logs_never_show_secrets(caplog: pytest.LogCaptureFixture) -> None:
    wallet = Wallet.create()
    secrets = [wallet.mnemonic, wallet.private_key.hex(), wallet.mnemonic.split()[0] + " "]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("wallet %s %r", wallet, wallet)
    shown = repr(wallet) + str(wallet) + f"{wallet}" + caplog.text
    assert wallet.address in shown
    for secret in secrets[:2]:
        assert secret not in shown


def test_wallet_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Wallet.create())
