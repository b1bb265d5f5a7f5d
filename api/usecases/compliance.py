"""A district's own rule pack: its rules apply to every school of the district besides
its state's, and `replaces` drops state rules. Only a district admin of the district
sets it."""

from __future__ import annotations

import uuid
from datetime import datetime

from api.usecases.callers import Caller
from api.usecases.school_years import require_district_admin
from api.usecases.unit_of_work import UnitOfWork
from db import compliance as db
from domain.compliance import RulePack
from domain.compliance_rules import check_district_pack


async def set_district_pack(uow: UnitOfWork, caller: Caller, district_id: uuid.UUID,
                            pack: RulePack, now: datetime) -> RulePack:
    """The pack as checked and stored, replacing the district's own (Invalid unless it is
    valid, named apart from the built-in packs and replacing only built-in rules)."""
    async with uow:
        await require_district_admin(uow.conn, caller, district_id, now,
                                     "change the district's rule pack")
        checked = check_district_pack(pack)
        await db.save_rule_pack(uow.conn, district_id, checked, caller.user_id, now)
    return checked
