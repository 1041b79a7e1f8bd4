"""Which modules a node runs: every installer is listed in :data:`DEFAULT_MODULES`.

An installer is ``install(extensions: Extensions) -> None``: it registers system contracts,
end-block hooks, genesis hooks and ``mt_*`` RPC methods (see :mod:`.extensions`).
"""

from __future__ import annotations

from collections.abc import Iterable

from moderntensor.chain.extensions import Extensions, ModuleInstaller
from moderntensor.chain.modules.install import install as install_moderntensor

DEFAULT_MODULES: tuple[ModuleInstaller, ...] = (install_moderntensor,)


def build_extensions(installers: Iterable[ModuleInstaller] = DEFAULT_MODULES) -> Extensions:
    """A fresh :class:`Extensions` with every installer applied, in order."""
    extensions = Extensions()
    for install in installers:
        install(extensions)
    return extensions
