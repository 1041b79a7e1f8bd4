"""Every system call, declared once: :data:`SYSCALLS` is the table everything else derives from.

One :class:`Syscall` entry gives a call's name, its ABI signature, the chain function that runs
it, its fee rule and who may call it. From the table come the ABI (:mod:`.syscalls`,
``abi/ModernTensor.json``), the chain's dispatch (``chain/modules/system.py``), the client's
``syscall`` method (``client/luxtensor.py``) and the reference table of docs/rpc.md
(:func:`reference_markdown`). Adding a call is one entry here, its handler and its test
(docs/architecture.md, "Add a system call").

Handlers are named by import path (``"package.module:function"``) because this layer may not
import the chain; the chain resolves them when it runs a call, and a test resolves them all.
A handler is ``handler(state, system_address, call, args, emit) -> result``; a fee-free call
also names ``free_check(state, call, args)``, which raises what the handler would raise, so a
free call that would fail is refused at submission and never takes block space. ``caller``
says who may call; the handler refuses anyone else with its own stable code
(``tests/test_syscall_callers.py`` checks each restricted entry against a stranger).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mutability = Literal["view", "nonpayable", "payable"]
Caller = Literal["anyone", "staker", "nominator", "neuron", "validator", "any_validator",
                 "owner", "root", "coldkey"]

CALLERS: dict[str, str] = {
    "anyone": "any account",
    "staker": "an account with stake on the subnet",
    "nominator": "an account that delegated to that validator",
    "neuron": "a neuron registered on the subnet",
    "validator": "a validator holding a permit on the subnet",
    "any_validator": "a validator registered on any subnet",
    "owner": "the owner of a custom subnet",
    "coldkey": "the cold key the old hot key bound itself to",
    "root": "one of the `rootVoters` validators with the most stake (over all subnets)",
}
_CHAIN = "moderntensor.chain.modules"


@dataclass(frozen=True)
class Syscall:
    """One system call. ``inputs``/``outputs`` are Solidity-like (``"uint16 netuid, ..."``).

    ``mutability`` is the ABI's: ``view`` (answered by ``eth_call``), ``nonpayable`` (a
    transaction that must send value 0) or ``payable`` (the value sent is the call's to use).
    ``free_check`` set means the call pays no gas (fee rule "free"); unset, it pays gas.
    """

    name: str
    inputs: str
    outputs: str
    handler: str
    mutability: Mutability = "nonpayable"
    free_check: str | None = None
    caller: Caller = "anyone"
    notes: str = ""

    @property
    def is_view(self) -> bool:
        return self.mutability == "view"

    @property
    def fee_free(self) -> bool:
        return self.free_check is not None

    @property
    def payable(self) -> bool:
        return self.mutability == "payable"


SYSCALLS: list[Syscall] = [
    Syscall("createSubnet", "string name, string taskType, string params, string metadata",
            "uint16 netuid", f"{_CHAIN}.calls:create_subnet",
            notes="returns the new netuid (5+); locks `subnetDeposit`; `params` a JSON object "
                  "of `params` overrides (camelCase) or `\"\"`; `metadata` a JSON object or "
                  "`\"\"`"),
    Syscall("setSubnetParams", "uint16 netuid, string params", "uint16 netuid",
            f"{_CHAIN}.calls:set_subnet_params", caller="owner",
            notes="custom subnets only"),
    Syscall("dissolveSubnet", "uint16 netuid", "uint256 deposit",
            f"{_CHAIN}.calls:dissolve_subnet", caller="owner",
            notes="custom subnets only; returns the deposit to the owner; every stake on it "
                  "starts unbonding, every neuron leaves; the netuid is never reused"),
    Syscall("voteSubnetWeights", "uint16[] netuids, uint16[] weights", "uint16 count",
            f"{_CHAIN}.calls:vote_subnet_weights", caller="root",
            notes="the root vote: every `rootTempo` blocks the votes, stake-weighted and "
                  "kappa-clipped, set every subnet's weight (docs/subnet-creator.md); a new "
                  "vote replaces the voter's last"),
    Syscall("registerMiner", "uint16 netuid, string modelName, string modelType, "
            "string modelVersion, uint64 powNonce, uint64 powBlock", "uint16 uid",
            f"{_CHAIN}.calls:register_miner",
            free_check=f"{_CHAIN}.calls:check_register_miner",
            notes="gas price may be 0, works from a 0-MDT address: the proof of work is the fee; "
                  "`powBlock`/nonce from `mt_getRegistrationChallenge`"),
    Syscall("registerValidator", "uint16 netuid", "uint16 uid",
            f"{_CHAIN}.calls:register_validator", mutability="payable",
            notes="any `value` sent is staked first"),
    Syscall("addStake", "uint16 netuid, uint256 amount", "uint256 stake",
            f"{_CHAIN}.calls:add_stake", mutability="payable",
            notes="returns the new stake; stake `amount` from the balance, or send it as "
                  "`value` with `amount` 0 (or equal)"),
    Syscall("removeStake", "uint16 netuid, uint256 amount", "uint256 stake",
            f"{_CHAIN}.calls:remove_stake", caller="staker",
            notes="returns the remaining stake; it stops counting at once and is back in the "
                  "balance at the end of block `now + unbondingPeriod`"),
    Syscall("delegateStake", "uint16 netuid, address validator, uint256 amount",
            "uint256 delegated", f"{_CHAIN}.calls:delegate_stake", mutability="payable",
            notes="returns your delegation to that validator; it counts for the validator's "
                  "permit, pay and root vote, and you share its reward after its take; send "
                  "the amount as `value` with `amount` 0, or from the balance"),
    Syscall("undelegateStake", "uint16 netuid, address validator, uint256 amount",
            "uint256 delegated", f"{_CHAIN}.calls:undelegate_stake", caller="nominator",
            notes="returns what stays delegated; back in the balance after `unbondingPeriod`"),
    Syscall("setTake", "uint32 take", "uint32 take", f"{_CHAIN}.calls:set_take",
            caller="any_validator",
            notes="ppb of your validator reward kept before nominators share the rest; "
                  "0..180000000 (18%, the default); a raise at most once per `unbondingPeriod`"),
    Syscall("setColdkey", "address coldkey", "uint16 subnets", f"{_CHAIN}.calls:set_coldkey",
            free_check=f"{_CHAIN}.calls:check_set_coldkey", caller="neuron",
            notes="sent by the hot key, once: its rewards go to `coldkey` from then on, and "
                  "only `coldkey` can swap it (docs/keys.md)"),
    Syscall("swapHotkey", "address oldHotkey, address newHotkey", "uint16 subnets",
            f"{_CHAIN}.calls:swap_hotkey", caller="coldkey",
            notes="the new key takes the old one's uids, stake, delegations, take and root "
                  "vote on every subnet; the old key is refused from then on"),
    Syscall("serveEndpoint", "uint16 netuid, string host, uint16 port, string protocol",
            "uint16 uid", f"{_CHAIN}.calls:serve_endpoint",
            free_check=f"{_CHAIN}.calls:check_serve_endpoint", caller="neuron",
            notes="rate-limited"),
    Syscall("updateModelInfo", "uint16 netuid, string modelName, string modelType, "
            "string modelVersion", "uint16 uid", f"{_CHAIN}.calls:update_model_info",
            free_check=f"{_CHAIN}.calls:check_update_model_info", caller="neuron",
            notes="miners only; the same field rules as `registerMiner`; shares "
                  "`servingRateLimit` with `serveEndpoint`; keeps uid, stake and history"),
    Syscall("deregister", "uint16 netuid", "uint16 uid", f"{_CHAIN}.calls:deregister",
            free_check=f"{_CHAIN}.calls:check_deregister", caller="neuron",
            notes="a miner leaves: its key is refused from then on, its uid is vacant (weighted "
                  "by nobody, taken first by the next registration); reward history stays; "
                  "validators leave with `removeStake`"),
    Syscall("setWeights", "uint16 netuid, uint16[] uids, uint16[] weights, uint16[] accuracy, "
            "uint16[] latency, uint16[] availability, uint16[] consistency, uint64 versionKey",
            "uint16 uid", f"{_CHAIN}.calls:set_weights", caller="validator",
            notes="u16 arrays of one length (components may all be empty); `weights[i]` must be "
                  "`scoring.combine_u16` of the components (= `MinerScore.to_u16()[4]`)"),
    Syscall("commitWeights", "uint16 netuid, bytes32 commitHash", "uint64 revealBlock",
            f"{_CHAIN}.calls:commit_weights", caller="validator",
            notes="commit-reveal (docs/incentives.md): `commitHash` = "
                  "`protocol.commit_hash.weights_commit_hash` of the row and a secret salt; "
                  "returns the first block `revealWeights` may run (`commitRevealPeriod` "
                  "later); rate-limited like `setWeights`; replaces an unrevealed commit"),
    Syscall("revealWeights", "uint16 netuid, uint16[] uids, uint16[] weights, "
            "uint16[] accuracy, uint16[] latency, uint16[] availability, "
            "uint16[] consistency, uint64 versionKey, bytes32 salt", "uint16 uid",
            f"{_CHAIN}.calls:reveal_weights", caller="validator",
            notes="the committed row and salt; it becomes the validator's weights row as of the "
                  "commit block (same checks as `setWeights`); a mismatch stores nothing"),
    Syscall("getSubnets", "", "uint16[] netuids", f"{_CHAIN}.view_calls:view_subnets",
            mutability="view"),
    Syscall("getSubnet", "uint16 netuid",
            "string name, string taskType, uint256 weight, uint64 tempo, uint16 maxMiners, "
            "uint16 maxValidators, uint64 immunityPeriod, uint256 minValidatorStake, "
            "uint256 difficulty, uint16 miners, uint16 validators",
            f"{_CHAIN}.view_calls:view_subnet", mutability="view"),
    Syscall("getUid", "uint16 netuid, address account", "bool registered, uint16 uid",
            f"{_CHAIN}.view_calls:view_uid", mutability="view"),
    Syscall("getStake", "uint16 netuid, address account", "uint256 stake",
            f"{_CHAIN}.view_calls:view_stake", mutability="view"),
    Syscall("getNeuron", "uint16 netuid, uint16 uid",
            "address account, uint8 role, uint256 stake, bool permit, uint64 score, string host, "
            "uint16 port, uint64 registeredBlock, uint64 lastUpdate",
            f"{_CHAIN}.view_calls:view_neuron", mutability="view",
            notes="`role` 0 = miner, 1 = validator"),
    Syscall("getEpoch", "uint16 netuid",
            "uint64 epoch, uint64 nextEpochBlock, uint64 tempo, uint256 epochEmission",
            f"{_CHAIN}.view_calls:view_epoch", mutability="view"),
    Syscall("getRegistrationChallenge", "uint16 netuid",
            "uint64 blockNumber, bytes32 blockHash, uint256 difficulty",
            f"{_CHAIN}.view_calls:view_challenge", mutability="view"),
]

# Logs of the system address: (name, "type [indexed] name, ...").
EVENTS_TABLE: list[tuple[str, str]] = [
    ("SubnetCreated", "uint16 indexed netuid, address indexed owner, string name, "
     "string taskType, uint256 deposit"),
    ("SubnetParamsSet", "uint16 indexed netuid, address indexed owner"),
    ("SubnetWeightsVoted", "address indexed account, uint16 count"),
    ("SubnetDissolved", "uint16 indexed netuid, address indexed owner, uint256 deposit, "
     "uint256 unbonding"),
    ("MinerRegistered", "uint16 indexed netuid, uint16 uid, address indexed account, "
     "bool replaced"),
    ("ValidatorRegistered", "uint16 indexed netuid, uint16 uid, address indexed account"),
    ("StakeAdded", "uint16 indexed netuid, address indexed account, uint256 amount"),
    ("StakeRemoved", "uint16 indexed netuid, address indexed account, uint256 amount, "
     "uint64 releaseBlock"),
    ("StakeDelegated", "uint16 indexed netuid, address indexed validator, "
     "address indexed account, uint256 amount"),
    ("StakeUndelegated", "uint16 indexed netuid, address indexed validator, "
     "address indexed account, uint256 amount, uint64 releaseBlock"),
    ("ColdkeySet", "address indexed hotkey, address indexed coldkey"),
    ("HotkeySwapped", "address indexed coldkey, address indexed oldHotkey, "
     "address newHotkey"),
    ("TakeSet", "address indexed account, uint32 take"),
    ("StakeReleased", "uint16 indexed netuid, address indexed account, uint256 amount"),
    ("EndpointServed", "uint16 indexed netuid, uint16 uid, address indexed account, "
     "string host, uint16 port, string protocol"),
    ("ModelInfoUpdated", "uint16 indexed netuid, uint16 uid, address indexed account, "
     "string modelName, string modelType, string modelVersion"),
    ("MinerDeregistered", "uint16 indexed netuid, uint16 uid, address indexed account"),
    ("WeightsSet", "uint16 indexed netuid, uint16 uid, address indexed account, uint16 count"),
    ("WeightsCommitted", "uint16 indexed netuid, uint16 uid, address indexed account, "
     "uint64 revealBlock"),
    ("EpochRewarded", "uint64 epoch, uint16 indexed netuid, address indexed account, "
     "uint8 role, uint256 score, uint256 totalScore, uint256 subnetWeight, uint256 emission, "
     "uint256 reward"),
]


def _names(params: str) -> str:
    names = ", ".join(part.split()[-1] for part in params.split(",") if part.strip())
    return f"`{names}`" if names else "-"


def reference_markdown() -> str:
    """The reference table of docs/rpc.md ("System calls"), one row per entry."""
    rows = ["| call | arguments | returns | kind | fee | who may call | notes |",
            "|---|---|---|---|---|---|---|"]
    for entry in SYSCALLS:
        kind = "view (`eth_call`)" if entry.is_view else (
            "transaction, payable" if entry.payable else "transaction")
        fee = "-" if entry.is_view else ("**free**" if entry.fee_free else "gas")
        rows.append(f"| `{entry.name}` | {_names(entry.inputs)} | {_names(entry.outputs)} "
                    f"| {kind} | {fee} | {CALLERS[entry.caller]} | {entry.notes} |")
    return "\n".join(rows) + "\n"
