"""Every kind of administrative change the code records is one the database accepts (a
kind added to domain/admin.py without its migration would fail only when first used)."""

from __future__ import annotations

from domain.admin import AdminChange
from tests import factories
from tests.conftest import T0


async def test_every_admin_change_is_a_kind_the_audit_trail_accepts(db):
    district = await factories.district(db)
    school = await factories.school(db, district)
    for kind in AdminChange:
        await db.execute("insert into admin_audit (at, actor_id, district_id, school_id, kind, "
                         "detail) values ($1, null, $2, $3, $4, '{}')",
                         T0, district, school, kind)
    assert await db.fetchval("select count(distinct kind) from admin_audit") == len(AdminChange)
