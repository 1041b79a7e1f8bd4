"""The consumer gateway: an OpenAI-compatible API answered by a subnet's best miners.

A validator runs it (its permit is what miners accept): :class:`Gateway` routes each request
to miners by on-chain score and measured latency, retrying others and keeping failing miners
out with a circuit breaker; :func:`build_app` puts OpenAI's endpoints, API keys, rate limits
and usage accounting in front of it.
"""

from moderntensor.gateway.app import build_app, serve
from moderntensor.gateway.directory import ChainDirectory, MinerDirectory, StaticDirectory
from moderntensor.gateway.errors import GatewayError
from moderntensor.gateway.keys import ApiKey, KeyStore, default_db_path
from moderntensor.gateway.routing import Router, RoutingPolicy
from moderntensor.gateway.service import Gateway

__all__ = [
    "ApiKey",
    "ChainDirectory",
    "Gateway",
    "GatewayError",
    "KeyStore",
    "MinerDirectory",
    "Router",
    "RoutingPolicy",
    "StaticDirectory",
    "build_app",
    "default_db_path",
    "serve",
]
