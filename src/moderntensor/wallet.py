"""Wallets: BIP-39 mnemonics, secp256k1 keys, Ethereum addresses and encrypted keystores.

All cryptography is eth-account's; this module only gives it the shape of the seed API.

>>> wallet = Wallet.from_mnemonic(
...     "test test test test test test test test test test test junk")
>>> wallet.address
'0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.datastructures import SignedMessage, SignedTransaction
from eth_account.hdaccount import ETHEREUM_DEFAULT_PATH
from eth_account.hdaccount.mnemonic import Mnemonic
from eth_account.messages import SignableMessage, encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from moderntensor.config import Config, is_valid_name, resolve_config, resolve_home
from moderntensor.errors import (
    InvalidMnemonicError,
    InvalidPrivateKeyError,
    WalletError,
    WalletExistsError,
    WalletNotFoundError,
    WrongPasswordError,
)

Account.enable_unaudited_hdwallet_features()

VALID_WORD_COUNTS = (12, 15, 18, 21, 24)
# eth-account's default scrypt cost (n=2**18) is what MetaMask and geth use; tests may lower it.
DEFAULT_SCRYPT_N = 2**18
_ENGLISH = Mnemonic()  # English, the BIP-39 list every wallet uses


def check_mnemonic(mnemonic: str) -> str:
    """Return the normalised phrase, or raise saying what is wrong with it."""
    if not isinstance(mnemonic, str):
        raise InvalidMnemonicError("a mnemonic is a string of space-separated words")
    words = mnemonic.lower().split()
    if len(words) not in VALID_WORD_COUNTS:
        raise InvalidMnemonicError(
            f"a mnemonic has 12, 15, 18, 21 or 24 words; this one has {len(words)}"
        )
    wordlist = set(_ENGLISH.wordlist)
    unknown = [(i + 1, w) for i, w in enumerate(words) if w not in wordlist]
    if unknown:
        where = ", ".join(f"word {i} ({w!r})" for i, w in unknown[:3])
        raise InvalidMnemonicError(f"not in the BIP-39 English word list: {where}")
    phrase = " ".join(words)
    if not _ENGLISH.is_mnemonic_valid(phrase):
        raise InvalidMnemonicError(
            "the mnemonic's checksum does not match: a word is wrong or out of order"
        )
    return phrase


def wallets_dir(home: str | Path | None = None) -> Path:
    return Path(resolve_home(home).value) / "wallets"


def keystore_path(name: str, home: str | Path | None = None) -> Path:
    if not is_valid_name(name):
        raise WalletError(
            f"wallet name {name!r} may use only letters, digits, '-', '_' and '.' (max 64)",
            code="invalid_wallet_name",
        )
    return wallets_dir(home) / f"{name}.json"


class Wallet:
    """A secp256k1 key pair with its Ethereum address, and its mnemonic when known.

    ``repr``/``str`` show only the address: a wallet can be logged safely.
    """

    __slots__ = ("_account", "_mnemonic")

    def __init__(self, account: LocalAccount, mnemonic: str | None = None) -> None:
        self._account = account
        self._mnemonic = mnemonic

    # -- construction -------------------------------------------------------------------
    @classmethod
    def create(cls, num_words: int = 24) -> Wallet:
        """A new wallet from a fresh BIP-39 mnemonic (24 words by default)."""
        if num_words not in VALID_WORD_COUNTS:
            raise InvalidMnemonicError(f"num_words must be one of {VALID_WORD_COUNTS}")
        account, mnemonic = Account.create_with_mnemonic(
            num_words=num_words, account_path=ETHEREUM_DEFAULT_PATH
        )
        return cls(account, mnemonic)

    @classmethod
    def from_mnemonic(cls, mnemonic: str, account_index: int = 0) -> Wallet:
        """Restore from a BIP-39 phrase at m/44'/60'/0'/0/<index> (MetaMask's path)."""
        phrase = check_mnemonic(mnemonic)
        if not 0 <= account_index < 2**31:
            raise InvalidMnemonicError(f"account_index {account_index} is out of range")
        account = Account.from_mnemonic(phrase, account_path=f"m/44'/60'/0'/0/{account_index}")
        return cls(account, phrase)

    @classmethod
    def from_private_key(cls, private_key: str | bytes) -> Wallet:
        """Wrap a raw 32-byte secp256k1 key (hex string or bytes)."""
        try:
            account = Account.from_key(private_key)
        except (ValueError, TypeError) as exc:
            raise InvalidPrivateKeyError(
                f"not a valid secp256k1 private key (32 bytes, hex or raw): {exc}"
            ) from None
        return cls(account)

    # -- identity -----------------------------------------------------------------------
    @property
    def address(self) -> str:
        """EIP-55 checksummed Ethereum address."""
        return self._account.address

    @property
    def public_key(self) -> str:
        """Uncompressed public key, 64 bytes as 0x-hex."""
        return self._account._key_obj.public_key.to_hex()

    @property
    def mnemonic(self) -> str | None:
        """The BIP-39 phrase, or ``None`` for a wallet loaded from a key or keystore."""
        return self._mnemonic

    @property
    def private_key(self) -> bytes:
        return bytes(self._account.key)

    @property
    def account(self) -> LocalAccount:
        """The eth-account ``LocalAccount`` (for web3.py and eth-account interop)."""
        return self._account

    def __repr__(self) -> str:
        return f"Wallet(address={self.address})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Wallet holds a private key and cannot be pickled; save() it instead")

    # -- signing ------------------------------------------------------------------------
    def sign_message(self, message: str | bytes | SignableMessage) -> SignedMessage:
        """EIP-191 personal-sign a text (or bytes) message."""
        signable = message if isinstance(message, SignableMessage) else _signable(message)
        return self._account.sign_message(signable)

    def sign_transaction(self, transaction: dict[str, Any]) -> SignedTransaction:
        """Sign an Ethereum transaction dict (legacy EIP-155 or EIP-1559)."""
        return self._account.sign_transaction(transaction)

    @staticmethod
    def verify(
        message: str | bytes | SignableMessage, signature: bytes | str, address: str
    ) -> bool:
        """True when ``signature`` over ``message`` recovers to ``address``."""
        signable = message if isinstance(message, SignableMessage) else _signable(message)
        try:
            recovered = Account.recover_message(signable, signature=signature)
        except Exception:
            return False
        return recovered.lower() == str(address).lower()

    # -- keystore -----------------------------------------------------------------------
    def save(
        self,
        name: str,
        password: str,
        *,
        overwrite: bool = False,
        home: str | Path | None = None,
        scrypt_n: int = DEFAULT_SCRYPT_N,
    ) -> Path:
        """Write an encrypted keystore v3 (scrypt) to ``<home>/wallets/<name>.json``, mode 0600."""
        if not isinstance(password, str) or not password:
            raise WalletError("a keystore needs a non-empty password", code="empty_password")
        path = keystore_path(name, home)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.chmod(0o700)
        if path.exists() and not overwrite:
            raise WalletExistsError(
                f"wallet {name!r} already exists at {path}; pick another name or overwrite"
            )
        keystore = Account.encrypt(self._account.key, password, kdf="scrypt", iterations=scrypt_n)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(keystore, out)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, name: str, password: str, *, home: str | Path | None = None) -> Wallet:
        """Decrypt ``<home>/wallets/<name>.json``; a wrong password raises WrongPasswordError."""
        keystore = read_keystore(name, home)
        try:
            key = Account.decrypt(keystore, password)
        except ValueError:
            raise WrongPasswordError(f"wrong password for wallet {name!r}") from None
        return cls(Account.from_key(key))

    @classmethod
    def from_config(cls, config: Config | None = None) -> Wallet:
        """Load the wallet the config rules name (MT_WALLET / config.toml / 'default')."""
        config = config or resolve_config()
        name = config.wallet.value
        password = config.wallet_password.value
        if password is None:
            raise WalletError(
                f"wallet {name!r} is encrypted: set MT_WALLET_PASSWORD or pass a Wallet "
                "explicitly (`moderntensor miner start` in a terminal asks for it)",
                code="password_required",
            )
        try:
            return cls.load(name, password, home=config.home.value)
        except WrongPasswordError as exc:
            raise WrongPasswordError(f"{exc} (the password came from "
                                     f"{config.wallet_password.source})") from None


def read_keystore(name: str, home: str | Path | None = None) -> dict[str, Any]:
    path = keystore_path(name, home)
    if not path.exists():
        raise WalletNotFoundError(
            f"no wallet named {name!r} in {path.parent}; create one with "
            f"`moderntensor wallet create --name {name}`"
        )
    try:
        keystore = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise WalletError(f"{path} is not a keystore JSON file", code="corrupt_keystore") from None
    if not isinstance(keystore, dict) or ("crypto" not in keystore and "Crypto" not in keystore):
        raise WalletError(f"{path} is not a keystore v3 file", code="corrupt_keystore")
    return keystore


def keystore_address(name: str, home: str | Path | None = None) -> str:
    """The address stored in a keystore, read without decrypting it."""
    raw = read_keystore(name, home).get("address")
    if not raw:
        raise WalletError(f"wallet {name!r} has no address field", code="corrupt_keystore")
    return to_checksum_address("0x" + str(raw).removeprefix("0x"))


def list_wallets(home: str | Path | None = None) -> list[tuple[str, str]]:
    """(name, address) of every keystore under ``<home>/wallets``, sorted by name."""
    directory = wallets_dir(home)
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append((path.stem, keystore_address(path.stem, home)))
        except WalletError:
            found.append((path.stem, "<unreadable>"))
    return found


def _signable(message: str | bytes) -> SignableMessage:
    if isinstance(message, bytes):
        return encode_defunct(primitive=message)
    return encode_defunct(text=message)
