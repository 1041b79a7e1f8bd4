"""Subnets 2 (image) and 4 (audio) end to end: reference miners beat noise, on chain.

Real processes: a localnet's node, one validator per subnet and, on each subnet, the reference
miner (Pillow renderer; espeak-ng + pocketsphinx) and a noise miner. The validator's weights
and the four components it writes on chain must rank the reference above the noise.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from localnet_support import rpc, wait_for
from moderntensor.localnet import Localnet, LocalnetSpec

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("espeak-ng") is None,
                       reason="espeak-ng is not installed (apt-get install -y espeak-ng)"),
]

SPEC = LocalnetSpec(miners=2, validators=1, subnets=(2, 4), block_time=0.3, tempo=10,
                    interval=1.0, challenges=2, ladder=("renderer", "reference", "noise"))
REFERENCE = {2: "renderer", 4: "reference"}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Localnet]:
    localnet = Localnet(SPEC, tmp_path_factory.mktemp("media"))
    try:
        localnet.up()
        yield localnet
    finally:
        assert localnet.stop() == []


@pytest.mark.parametrize("netuid", [2, 4])
def test_reference_miner_outscores_noise_on_chain(net: Localnet, netuid: int) -> None:
    by_model = {p.model: p for p in net.state.by_role("miner") if p.netuid == netuid}
    graph = rpc(net.url, "mt_getMetagraph", netuid)
    uid = {m: graph["addresses"].index(p.address) for m, p in by_model.items()}

    def weights_for_both() -> dict[str, list[int]] | None:
        rows = rpc(net.url, "mt_getWeights", netuid)["rows"]
        row = rows[0] if rows else None
        if row is None or not {uid[REFERENCE[netuid]], uid["noise"]} <= set(row["uids"]):
            return None
        return row

    row = wait_for(weights_for_both, 90, f"weights of both miners on subnet {netuid}")
    at = {u: i for i, u in enumerate(row["uids"])}
    reference, noise = at[uid[REFERENCE[netuid]]], at[uid["noise"]]
    assert row["accuracy"][reference] > 0.8 * 65535 > 0.3 * 65535 > row["accuracy"][noise]
    assert row["weights"][reference] > row["weights"][noise]
    assert all(len(row[c]) == len(row["uids"])
               for c in ("latency", "availability", "consistency"))
