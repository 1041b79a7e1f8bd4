"""Prometheus metrics of one node, in its own registry (several nodes may share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.height = Gauge("luxtensor_block_height", "Number of the latest committed block",
                            registry=self.registry)
        self.mempool_size = Gauge("luxtensor_mempool_size", "Pending transactions",
                                  registry=self.registry)
        self.txs_total = Counter("luxtensor_transactions", "Transactions committed in blocks",
                                 registry=self.registry)
        self.tx_rate = Gauge("luxtensor_transactions_per_second",
                             "Committed transactions per second over the last block interval",
                             registry=self.registry)
        self.block_seconds = Histogram("luxtensor_block_build_seconds",
                                       "Time to execute and persist a block",
                                       registry=self.registry)
        self.rpc_latency = Histogram(
            "luxtensor_rpc_latency_seconds", "JSON-RPC call latency by method", ["method"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
        self.rpc_errors = Counter("luxtensor_rpc_errors", "JSON-RPC error responses by code",
                                  ["code"], registry=self.registry)
        self.rejected = Counter("luxtensor_rejected_transactions",
                                "Transactions refused at submission by reason", ["reason"],
                                registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
