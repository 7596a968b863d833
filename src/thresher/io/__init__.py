"""Reading inputs and writing outputs.

- :func:`thresher.io.plan.plan_shards` (inputs -> sorted :class:`~thresher.io.base.ShardSpec` list),
- :func:`thresher.io.readers.read_shard` (one shard -> Documents and BadRecords, in file order),
- :class:`thresher.io.writers.ShardWriter` (Documents -> one atomic ``part-NNNNN`` file),
- :func:`thresher.io.writers.write_bad_records` (BadRecords -> JSONL, atomic).

Each module's docstring is its full contract. The names are also importable from this package.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plan_shards", "read_shard", "ShardWriter", "write_bad_records"]

_WHERE = {
    "plan_shards": "thresher.io.plan",
    "read_shard": "thresher.io.readers",
    "ShardWriter": "thresher.io.writers",
    "write_bad_records": "thresher.io.writers",
}


def __getattr__(name: str) -> Any:
    """Import the public names lazily (``import thresher.io.base`` stays light)."""
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'thresher.io' has no attribute {name!r}")
