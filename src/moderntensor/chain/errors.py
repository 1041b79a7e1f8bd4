"""Typed chain errors, each with a stable snake_case ``code`` and a JSON-RPC error number.

JSON-RPC numbers follow JSON-RPC 2.0 and EIP-1474; the ``code`` string travels in the error's
``data.reason`` so scripts match on it rather than on the message:

=========  ===================  ==========================================================
rpc code   class                codes (``data.reason``)
=========  ===================  ==========================================================
-32700     ParseError           parse_error
-32600     InvalidRequest       invalid_request, request_too_large, batch_too_large
-32601     MethodNotFound       method_not_found
-32602     InvalidParams        invalid_params
-32001     NotFound             not_found
-32003     TxRejected           invalid_rlp, invalid_signature, wrong_chain_id,
                                unsupported_tx_type, contract_creation_unsupported,
                                nonce_too_low, nonce_too_high, insufficient_funds,
                                intrinsic_gas_too_low, exceeds_block_gas_limit,
                                underpriced, fee_cap_below_tip, replacement_underpriced,
                                already_known, tx_too_large, and codes of system calls
-32005     LimitExceeded        mempool_full, sender_limit
3          ExecutionError       execution_reverted and codes of system calls
3          CallReverted             the same codes, from eth_call and eth_estimateGas: ``data``
                                is ABI-encoded ``Error(string)``, ``"<code>: <message>"``
=========  ===================  ==========================================================
"""

from __future__ import annotations

from typing import Any

from moderntensor.errors import ModernTensorError
from moderntensor.protocol.revert import encode_revert


class RpcError(ModernTensorError):
    """Base of every chain error; ``rpc_code`` is the JSON-RPC error number."""

    code = "chain_error"
    rpc_code = -32000

    def to_rpc(self) -> dict[str, Any]:
        """The JSON-RPC ``error`` object: number, message, and the stable code in data.reason."""
        data: dict[str, Any] = {"reason": self.code}
        if isinstance(self.data, dict):
            data.update(self.data)
        elif self.data is not None:
            data["detail"] = self.data
        return {"code": self.rpc_code, "message": self.message, "data": data}


class ParseError(RpcError):
    code = "parse_error"
    rpc_code = -32700


class InvalidRequest(RpcError):  # noqa: N818 - named like the JSON-RPC error it is
    code = "invalid_request"
    rpc_code = -32600


class MethodNotFound(RpcError):  # noqa: N818 - named like the JSON-RPC error it is
    code = "method_not_found"
    rpc_code = -32601


class InvalidParams(RpcError):  # noqa: N818 - named like the JSON-RPC error it is
    code = "invalid_params"
    rpc_code = -32602


class NotFound(RpcError):  # noqa: N818 - named like the JSON-RPC error it is
    code = "not_found"
    rpc_code = -32001


class TxRejected(RpcError):  # noqa: N818 - named like the JSON-RPC error it is
    """A transaction that cannot enter the mempool or a block; nothing about state changed."""

    code = "tx_rejected"
    rpc_code = -32003


class LimitExceeded(TxRejected):
    """The node is at a capacity limit; the same tx may be accepted later."""

    code = "limit_exceeded"
    rpc_code = -32005


class ExecutionError(RpcError):
    """A system call failed while executing: its state changes are reverted (status 0).

    System-call handlers raise this (or a subclass) with their own stable ``code``, e.g.
    ``ExecutionError("subnet 9 does not exist", code="unknown_subnet")``.
    """

    code = "execution_reverted"
    rpc_code = 3


class CallReverted(ExecutionError):  # noqa: N818 - named like the "execution reverted" it answers
    """How ``eth_call`` and ``eth_estimateGas`` answer a failing call: ``data`` is the
    ABI-encoded ``Error(string)`` (``"<code>: <message>"``) that Ethereum tools decode."""

    def to_rpc(self) -> dict[str, Any]:
        revert = encode_revert(self.code, self.message)
        return {"code": self.rpc_code, "message": f"execution reverted: {self.message}",
                "data": "0x" + revert.hex()}


class StoreError(RpcError):
    """The data directory is unusable (corrupt, another chain, unwritable)."""

    code = "store_error"


class GenesisError(RpcError):
    """A genesis file is malformed or inconsistent."""

    code = "invalid_genesis"
