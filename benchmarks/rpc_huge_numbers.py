"""10,000 fuzzed JSON-RPC requests full of huge numbers against a real dev node.

    python benchmarks/rpc_huge_numbers.py [--requests 10000]

Every method the node serves gets 0-4 parameters drawn mostly from huge and out-of-range
numbers (``"0x" + "ff" * 5000``, 5,000-digit decimals, 2^256, floats). Reports the answers by
JSON-RPC error code, internal errors (-32603, must be 0), HTTP 5xx (must be 0) and tracebacks
in the node's log (must be 0), with requests/s next to a baseline of well-formed calls.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

from chain_harness import start_node

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "security"))
from rpc_fuzz_cases import huge_number_request, internal_errors, node_methods

SEED = 19


def send_all(url: str, bodies: list[bytes]) -> tuple[float, collections.Counter, int, int]:
    """Requests/s, answers by error code ("ok" for results), internal errors, HTTP 5xx."""
    codes: collections.Counter = collections.Counter()
    internal = server_errors = 0
    started = time.perf_counter()
    with httpx.Client(timeout=30, headers={"content-type": "application/json"}) as client:
        for body in bodies:
            response = client.post(url, content=body)
            if response.status_code >= 500:
                server_errors += 1
                continue
            answer = response.json()
            internal += internal_errors(answer)
            codes[answer["error"]["code"] if "error" in answer else "ok"] += 1
    return len(bodies) / (time.perf_counter() - started), codes, internal, server_errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp(prefix="rpc-fuzz-")) / "node.log"
    node = start_node(block_time=1.0, log=log)
    try:
        methods = node_methods()
        rng = random.Random(SEED)
        fuzzed = [huge_number_request(rng, methods, i) for i in range(args.requests)]
        wellformed = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "mt_getSubnet",
                                  "params": [i % 3]}).encode() for i in range(args.requests)]
        base_rate, base_codes, _, _ = send_all(node.url, wellformed)
        rate, codes, internal, server_errors = send_all(node.url, fuzzed)
    finally:
        node.stop()
    tracebacks = log.read_text(errors="replace").count("Traceback")
    print(json.dumps({
        "requests": args.requests, "methods": len(methods),
        "baseline_wellformed": {"req_per_s": round(base_rate), "answers": dict(base_codes)},
        "fuzzed_huge_numbers": {"req_per_s": round(rate),
                                "answers_by_code": {str(k): v for k, v in codes.most_common()},
                                "internal_errors": internal, "http_5xx": server_errors,
                                "tracebacks_in_log": tracebacks}}, indent=1))
    if internal or server_errors or tracebacks:
        raise SystemExit("FAIL: a client's mistake reached an internal error")


if __name__ == "__main__":
    main()
