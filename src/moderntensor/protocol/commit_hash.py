"""The commit of a weights row: what a validator hashes for ``commitWeights`` and reveals later.

``commit_hash = keccak256(abi.encode(address validator, uint16 netuid, uint16[] uids,
uint16[] weights, uint16[] accuracy, uint16[] latency, uint16[] availability,
uint16[] consistency, uint64 versionKey, bytes32 salt))``. The validator's address is inside,
so one validator's commit cannot be replayed by another; the salt (32 random bytes, kept secret
until the reveal) makes the hash of a guessable row unguessable. Shared by the chain, which
recomputes it at ``revealWeights``, and the client, which computes it to commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode
from eth_utils import to_canonical_address

from moderntensor.errors import InvalidInputError
from moderntensor.protocol.keccak import keccak

COMMIT_TYPES = ["address", "uint16", "uint16[]", "uint16[]", "uint16[]", "uint16[]",
                "uint16[]", "uint16[]", "uint64", "bytes32"]
SALT_BYTES = 32


def weights_commit_hash(validator: str | bytes, netuid: int, uids: Sequence[int],
                        weights: Sequence[int], accuracy: Sequence[int],
                        latency: Sequence[int], availability: Sequence[int],
                        consistency: Sequence[int], version_key: int, salt: bytes) -> bytes:
    """The 32-byte commitment of one weights row (see the module docstring)."""
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        raise InvalidInputError(f"salt must be {SALT_BYTES} bytes", code="invalid_weights")
    address = validator if isinstance(validator, bytes) else to_canonical_address(validator)
    return keccak(encode(COMMIT_TYPES, [address, netuid, list(uids), list(weights),
                                        list(accuracy), list(latency), list(availability),
                                        list(consistency), version_key, salt]))
