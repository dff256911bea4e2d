"""``ledger keys rotate-master``: re-wrap every data key under a new master key.

Events are not touched: only ``ledger_keys`` rows and the wrapped index key in
``ledger_meta`` change, in one transaction. With a key file, the new key is first
written to ``<file>.new`` (owner-only), the store is switched, then the file is
replaced; an interruption leaves the new key in ``.new`` and the error on the next
start says so. With ``LEDGER_MASTER_KEY``, the new key must be given in
``LEDGER_NEW_MASTER_KEY`` and the environment switched afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import ConfigurationError
from ledger.persistence.keys import KeyRing, decode_key, master_key_id

if TYPE_CHECKING:
    from ledger.appending.application import Ledger

NEW_MASTER_KEY_ENV = "LEDGER_NEW_MASTER_KEY"


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did."""

    keys: int
    old_id: str
    new_id: str
    where: str


def rotate_master(ledger: Ledger) -> Rotation:
    """Re-wrap every live data key and the index key under a fresh master key.

    The ledger is held alone throughout (``Ledger.exclusive``): no call of another
    thread makes a key under the old master key while the rows are re-wrapped.
    """
    with ledger.exclusive():
        return _rotate(ledger)


def _rotate(ledger: Ledger) -> Rotation:
    source = ledger.key_source
    ring = ledger.keyring  # checks the current key against the store
    new_text = os.environ.get(NEW_MASTER_KEY_ENV)
    if source.env_value and not new_text:
        msg = f"the master key comes from the environment: give the new one in {NEW_MASTER_KEY_ENV}"
        raise ConfigurationError(msg)
    new_key = decode_key(new_text, NEW_MASTER_KEY_ENV) if new_text else AESGCM.generate_key(256)
    rows = ring.rewrapped(ledger.ledger_recorder.select_all_keys(), new_key)
    index_key = KeyRing(ledger.ledger_recorder, new_key).wrap_secret(ledger.index_key, "index_key")
    fresh = None if source.env_value else source.replace_with(new_key)
    meta = {"master_key_id": master_key_id(new_key).encode(), "index_key": index_key}
    ledger.ledger_recorder.rewrap(rows, meta)
    if fresh is not None:
        os.replace(fresh, source.path)
        where = str(source.path)
    else:
        where = f"{NEW_MASTER_KEY_ENV}: set LEDGER_MASTER_KEY to it now"
    ledger.forget_keys()
    return Rotation(len(rows), ring.master_id, master_key_id(new_key), where)
