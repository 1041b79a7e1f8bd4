"""From moving statistics to what goes on chain: u16 weights and the four components per uid.

The weight of a miner is its moving MinerScore total, gated (``MinerScore.gated``: the chain
shows the validity gate), a score in [0, 1], not normalised (the chain's consensus compares
validators' scores of the same miner). The total is combined from the rounded components with
:func:`moderntensor.scoring.combine_u16`, so anyone can recompute it from what is on chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import version as installed_version

from moderntensor.validator.chainview import WeightSubmission
from moderntensor.validator.store import MinerStats


def validator_version_key(version: str | None = None) -> int:
    """The ``versionKey`` this validator writes with its weights: ``major * 10**6 + minor *
    10**3 + patch`` of the package version, so a subnet owner can require a release with
    the subnet's ``weightsVersion`` (rows below it are refused: ``outdated_version_key``).

    >>> validator_version_key("1.2.3")
    1002003
    """
    version = installed_version("moderntensor") if version is None else version
    major, minor, patch = (int("".join(c for c in part if c.isdigit()) or 0)
                           for part in [*version.split("."), "0", "0"][:3])
    return major * 10**6 + minor * 10**3 + patch


def build_submission(netuid: int, stats: Iterable[MinerStats],
                     version_key: int = validator_version_key()) -> WeightSubmission:
    """One :class:`WeightSubmission` of every miner in ``stats``, ordered by uid.

    >>> from moderntensor.scoring import MinerScore
    >>> s = MinerStats(3, "0x" + "11" * 20, MinerScore(1.0, 0.5, 1.0, 1.0), 0.1, 1, 4, 4, 1)
    >>> build_submission(1, [s]).weights
    (58982,)
    """
    by_uid = sorted(stats, key=lambda s: s.uid)
    rows = [s.score.gated().to_u16() for s in by_uid]   # the chain shows the gate
    return WeightSubmission(
        netuid=netuid,
        uids=tuple(s.uid for s in by_uid),
        weights=tuple(row[4] for row in rows),
        accuracy=tuple(row[0] for row in rows),
        latency=tuple(row[1] for row in rows),
        availability=tuple(row[2] for row in rows),
        consistency=tuple(row[3] for row in rows),
        version_key=version_key,
    )
