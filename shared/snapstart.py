"""Lambda SnapStart (the template's ``SnapStart=on``): what a snapshot of a function's init must not keep,
and what each container restored from it makes anew.

With SnapStart, Lambda runs a version's init once, when the version is published, snapshots the
process, and starts each new container of that version from the snapshot: whatever init left in memory
is shared by every container. Init here leaves nothing that must be fresh or unique: it opens no
connection and reads no secret (the MongoDB client is made, and the secrets read, on first use), and
ids and tokens take the operating system's randomness (``os.urandom``, ``secrets``) when they are made.
The two runtime hooks keep it so whatever a later init does:

- before the snapshot, each piece of per-container state registered with ``per_container`` is
  forgotten (the MongoDB client closed, the settings and the secrets Powertools cached dropped), so
  that none is in the snapshot;
- after each restore, the same again, and ``random`` is reseeded from the operating system (Powertools'
  log sampling draws from it): each restored container's first request connects and reads the secrets
  on its own.

The hooks' API is ``snapshot_restore_py``, which Lambda's Python runtime provides (a module of a few
lines, never in the layer). Without it, outside Lambda, no hook is registered; tests run the hooks
themselves.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Reset = Callable[[], None]

_resets: list[Reset] = []


def per_container(reset: Reset) -> Reset:
    """Register ``reset``, which forgets one piece of per-container state (a client, cached secrets), to
    run before the snapshot and after each restore; returns it (a decorator, too)."""
    _resets.append(reset)
    return reset


def before_snapshot() -> None:
    """The runtime hook before the snapshot: nothing connected or secret in it."""
    for reset in _resets:
        reset()


def after_restore() -> None:
    """The runtime hook after each restore: this container connects, reads its secrets and draws its
    random numbers on its own."""
    random.seed()
    for reset in _resets:
        reset()


def register_hooks() -> None:
    """Give Lambda's runtime the two hooks (once per process); outside Lambda, without
    ``snapshot_restore_py``, nothing."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
