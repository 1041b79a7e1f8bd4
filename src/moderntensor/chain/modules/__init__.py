"""ModernTensor on the Luxtensor chain: subnets, neurons, stake, weights, epochs.

Plain functions over small dataclasses, one concern a module; all state lives in the core's
namespaced key-value store (see :mod:`.records`). :func:`.install.install` plugs them into a
node's :class:`~moderntensor.chain.extensions.Extensions`; :mod:`.system` is the entry point
that reads in one screen: ``execute`` (system calls), ``check_fee_free`` and ``end_block``.
"""
