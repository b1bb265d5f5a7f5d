"""The base of Muster's values."""

from __future__ import annotations

import msgspec


class Value(msgspec.Struct, frozen=True):
    """A value: changed by copying (`msgspec.structs.replace`), never in place, so what a
    rule was given is what it decided on. Subclasses whose optional fields come before
    required ones add `kw_only=True` (msgspec applies it per class, not by inheritance)."""
