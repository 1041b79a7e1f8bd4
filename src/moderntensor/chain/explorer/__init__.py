"""The explorer: a single-page web app the node serves at ``/explorer``.

Its files (``static/``) ship inside the package and load nothing from elsewhere, so it works
offline; the page reads the chain only through the public JSON-RPC (``mt_*`` and ``eth_*``) of
the node that served it, and draws its charts itself as SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_utils import keccak
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from moderntensor.protocol.syscalls import SYSTEM_ABI, SYSTEM_ADDRESS

STATIC_DIR = Path(__file__).parent / "static"
# the page talks only to this node; inline scripts and other origins are refused
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self' ws: wss:; "
                           "frame-ancestors 'none'")


async def _index(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", headers={
        "content-security-policy": CONTENT_SECURITY_POLICY, "cache-control": "no-cache"})


def abi_index() -> dict[str, Any]:
    """The system contract's calls by selector and events by topic, for the page's decoder
    (the browser has no keccak; the node computes them once from the shipped ABI)."""
    calls, events = {}, {}
    for item in SYSTEM_ABI:
        inputs = [{"name": i["name"], "type": i["type"], "indexed": i.get("indexed", False)}
                  for i in item.get("inputs", [])]
        signature = f"{item.get('name')}({','.join(i['type'] for i in inputs)})"
        if item["type"] == "function":
            calls["0x" + keccak(text=signature)[:4].hex()] = {"name": item["name"],
                                                              "inputs": inputs}
        elif item["type"] == "event":
            events["0x" + keccak(text=signature).hex()] = {"name": item["name"],
                                                           "inputs": inputs}
    return {"system": SYSTEM_ADDRESS, "calls": calls, "events": events}


async def _abi(request: Request) -> Response:
    return JSONResponse(abi_index())


async def _to_index(request: Request) -> Response:
    return RedirectResponse("/explorer/", status_code=308)


def explorer_routes() -> list[Route | Mount]:
    """Starlette routes: ``/explorer`` (redirect), ``/explorer/`` and ``/explorer/static/*``."""
    return [Route("/explorer", _to_index, methods=["GET"]),
            Route("/explorer/", _index, methods=["GET"]),
            Route("/explorer/abi.json", _abi, methods=["GET"]),
            Mount("/explorer/static", StaticFiles(directory=STATIC_DIR), name="explorer")]
