"""The base of Muster's values."""

from __future__ import annotations

from typing import dataclass_transform

import msgspec


# msgspec inherits `frozen`, but type checkers read it per class (PEP 681): without this
# `frozen_default` mypy takes a subclass that does not spell `frozen=True` for a mutable one
# ("Non-frozen dataclass cannot inherit from a frozen dataclass").
@dataclass_transform(frozen_default=True, field_specifiers=(msgspec.field,))
class Value(msgspec.Struct, frozen=True):
    """A value: changed by copying (`msgspec.structs.replace`), never in place, so what a
    rule was given is what it decided on. Subclasses whose optional fields come before
    required ones add `kw_only=True` (msgspec applies it per class, not by inheritance)."""
