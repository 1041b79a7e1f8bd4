"""``EthClient``: the Ethereum-standard half of the Luxtensor client (reads, signed sends).

The wallet and node URL follow the config rules (argument > env > config.toml > default),
so a client built with no arguments talks to ``MT_NETWORK`` with the ``MT_WALLET`` wallet.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eth_utils import is_address, to_checksum_address
from typing_extensions import Self

from moderntensor.client.transport import ChainError, JsonRpcTransport
from moderntensor.client.types import Log, TxResult
from moderntensor.config import Config, resolve_config
from moderntensor.errors import InvalidInputError, ModernTensorError
from moderntensor.units import Amount, to_base
from moderntensor.wallet import Wallet

TRANSFER_GAS = 21_000
RECEIPT_POLL_S = 0.1
DEFAULT_RECEIPT_TIMEOUT_S = 60.0


class TxTimeoutError(ModernTensorError):
    code = "tx_timeout"


def checksum(address: str) -> str:
    if not isinstance(address, str) or not is_address(address):
        raise InvalidInputError(f"{address!r} is not an Ethereum address (0x + 40 hex digits)",
                                code="invalid_address")
    return to_checksum_address(address)


def _quantity(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class EthClient:
    """Async Ethereum JSON-RPC client: balances, blocks, nonces, signed transactions."""

    def __init__(
        self,
        url: str | None = None,
        *,
        wallet: Wallet | None = None,
        config: Config | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.config = config or resolve_config(network=url)
        self.url: str = url or self.config.network.value
        self._wallet = wallet
        self._rpc = JsonRpcTransport(self.url, timeout=timeout)
        self._send_lock = asyncio.Lock()  # one wallet, one nonce sequence
        self._chain_id: int | None = None

    # -- plumbing -----------------------------------------------------------------------
    @property
    def wallet(self) -> Wallet:
        """The signing wallet: the one given, else the one the config rules name."""
        if self._wallet is None:
            self._wallet = Wallet.from_config(self.config)
        return self._wallet

    async def call(self, method: str, *params: Any) -> Any:
        """Raw JSON-RPC call, for methods this client has no helper for."""
        return await self._rpc.call(method, *params)

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Many raw JSON-RPC calls in one HTTP request; results in call order (the first
        error raises :class:`ChainError`)."""
        return await self._rpc.batch(calls)

    async def aclose(self) -> None:
        await self._rpc.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- standard Ethereum reads --------------------------------------------------------
    async def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = _quantity(await self._rpc.call("eth_chainId"))
        return self._chain_id

    async def block_number(self) -> int:
        return _quantity(await self._rpc.call("eth_blockNumber"))

    async def get_balance(self, address: str | None = None) -> int:
        """Balance in base units (``format_mdt`` it for people); default: own wallet."""
        target = checksum(address) if address else self.wallet.address
        return _quantity(await self._rpc.call("eth_getBalance", target, "latest"))

    async def get_nonce(self, address: str | None = None) -> int:
        target = checksum(address) if address else self.wallet.address
        return _quantity(await self._rpc.call("eth_getTransactionCount", target, "pending"))

    async def get_block(self, block: int | str = "latest", *, full: bool = False) -> dict[str, Any]:
        tag = hex(block) if isinstance(block, int) else block
        return await self._rpc.call("eth_getBlockByNumber", tag, full)

    async def get_receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return await self._rpc.call("eth_getTransactionReceipt", tx_hash)

    # -- sending ------------------------------------------------------------------------
    async def send_raw_transaction(self, raw: bytes | str) -> str:
        data = raw if isinstance(raw, str) else "0x" + raw.hex()
        return await self._rpc.call("eth_sendRawTransaction", data)

    async def wait_for_receipt(
        self, tx_hash: str, timeout: float = DEFAULT_RECEIPT_TIMEOUT_S
    ) -> TxResult:
        """Poll until the transaction is in a block; raise TxTimeoutError after ``timeout``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            receipt = await self.get_receipt(tx_hash)
            if receipt is not None:
                return self._result(receipt)
            if asyncio.get_running_loop().time() > deadline:
                raise TxTimeoutError(f"transaction {tx_hash} not mined after {timeout:.0f} s")
            await asyncio.sleep(RECEIPT_POLL_S)

    async def send_transaction(
        self,
        to: str,
        *,
        value: int = 0,
        data: bytes = b"",
        gas: int | None = None,
        fee_free: bool = False,
        wallet: Wallet | None = None,
        wait: bool = True,
    ) -> TxResult | str:
        """Sign (EIP-1559) and send; ``fee_free`` for system calls the chain lets pay no gas.

        Returns the mined :class:`TxResult`, or the hash when ``wait=False``. A reverted
        transaction raises :class:`ChainError` with the chain's reason.
        """
        signer = wallet or self.wallet
        async with self._send_lock:
            chain_id = await self.chain_id()
            nonce = await self.get_nonce(signer.address)
            tx: dict[str, Any] = {"type": 2, "chainId": chain_id, "nonce": nonce,
                                  "to": checksum(to), "value": value, "data": data}
            if fee_free:
                tx |= {"maxFeePerGas": 0, "maxPriorityFeePerGas": 0}
            else:
                tip = _quantity(await self._rpc.call("eth_maxPriorityFeePerGas"))
                base = _quantity(await self._rpc.call("eth_gasPrice"))
                tx |= {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}
            if gas is None:
                estimate_args = {"from": signer.address, "to": tx["to"], "value": hex(value),
                                 "data": "0x" + data.hex()}
                gas = _quantity(await self._rpc.call("eth_estimateGas", estimate_args))
            tx["gas"] = gas
            tx_hash = await self.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
        if not wait:
            return tx_hash
        result = await self.wait_for_receipt(tx_hash)
        if not result.ok:
            # the node puts the revert reason in the receipt's "error" (code + message)
            reason = result.error or {}
            raise ChainError(
                f"transaction reverted in block {result.block_number}: "
                f"{reason.get('message', 'no reason given')}",
                rpc_code=3, code=reason.get("code", "tx_reverted"), data={"tx_hash": tx_hash},
            )
        return result

    async def transfer(self, to: str, amount: Amount, *, wallet: Wallet | None = None) -> TxResult:
        """Send ``amount`` MDT (``"12.75"``, ``Decimal``, int MDT); waits for its block."""
        result = await self.send_transaction(to, value=to_base(amount), gas=TRANSFER_GAS,
                                             wallet=wallet)
        assert isinstance(result, TxResult)
        return result

    def _result(self, receipt: dict[str, Any]) -> TxResult:
        logs = [Log(address=entry["address"], topics=list(entry["topics"]), data=entry["data"])
                for entry in receipt.get("logs", [])]
        return TxResult(
            tx_hash=receipt["transactionHash"],
            block_number=_quantity(receipt["blockNumber"]),
            status=_quantity(receipt["status"]),
            gas_used=_quantity(receipt["gasUsed"]),
            effective_gas_price=_quantity(receipt.get("effectiveGasPrice", 0)),
            logs=logs,
            error=receipt.get("error"),
        )
