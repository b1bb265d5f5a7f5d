"""Who an event's messages reach: the school's live members (and its district's admins),
how each can be reached, and who was alerted already."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from db.pool import Connection
from domain.alerts import Recipient
from domain.language import Language
from domain.readiness import MemberReach

# live members of school $1 at time $2, and the admins of its district
_AUDIENCE = """
from memberships m join users u on u.id = m.user_id
where (m.expires_at is null or m.expires_at > $2)
  and (m.school_id = $1 or (m.school_id is null and m.district_id =
                            (select district_id from schools where id = $1)))
"""

# recipients -- everyone an alert of the school may reach, and their working devices
_RECIPIENTS = """
select u.id as user_id, m.name, u.phone, m.role, u.language,
       (select count(*) from devices d
        where d.user_id = u.id and d.disabled_at is null)::int as push_devices
""" + _AUDIENCE

# goes_as_wave -- whether an event change must wait behind a wave of the event that is
# still to be written out, or reaches more than $4 memberships (one round trip for both)
_GOES_AS_WAVE = """
select exists (select 1 from alert_waves where event_id = $3 and expanded_at is null)
    or (select count(*) """ + _AUDIENCE + """) > $4
"""


async def goes_as_wave(conn: Connection, event_id: uuid.UUID, school_id: uuid.UUID,
                       now: datetime, most_inline: int) -> bool:
    waits: bool = await conn.fetchval(_GOES_AS_WAVE, school_id, now, event_id, most_inline)
    return waits


async def recipients(conn: Connection, school_id: uuid.UUID,
                     now: datetime) -> list[Recipient]:
    """Everyone the school's alerts may reach (district admins included; the plan
    decides whether they get it)."""
    rows = await conn.fetch(_RECIPIENTS, school_id, now)
    return [msgspec.convert(dict(r), Recipient) for r in rows]


# notified -- who of its people was (or is about to be) alerted about the event, on which
# channel, and their language now (for the ending's words)
_NOTIFIED = """
select distinct o.user_id, o.channel, u.language
from notification_outbox o join users u on u.id = o.user_id
where o.event_id = $1 and o.kind in ('alert', 'action', 'reminder')
  and o.state in ('queued', 'sending', 'sent', 'delivered')
"""


async def notified(conn: Connection,
                   event_id: uuid.UUID) -> list[tuple[uuid.UUID, str, Language]]:
    """(person, channel, language) for each channel a person was alerted on."""
    rows = await conn.fetch(_NOTIFIED, event_id)
    return [(r["user_id"], r["channel"], Language(r["language"])) for r in rows]


# whether the member's last SMS or call (the channel) that went out failed
_LAST_FAILED = """
coalesce((select o.state = 'failed' from notification_outbox o
          where o.user_id = u.id and o.channel = '{channel}'
            and o.state in ('sent', 'delivered', 'failed')
          order by o.updated_at desc limit 1), false)"""

# member_reach -- each live member of a school: devices, and whether the last SMS or
# the last call failed
_MEMBER_REACH = f"""
select u.id as user_id, m.name, m.role, u.phone,
       count(d.id) filter (where d.disabled_at is null)::int as working_devices,
       count(d.id) filter (where d.disabled_at is not null)::int as disabled_devices,
       {_LAST_FAILED.format(channel="sms")} as last_sms_failed,
       {_LAST_FAILED.format(channel="voice")} as last_voice_failed
from memberships m
join users u on u.id = m.user_id
left join devices d on d.user_id = u.id
where m.school_id = $1 and (m.expires_at is null or m.expires_at > $2)
group by u.id, m.name, m.role, u.phone
order by m.name
"""


async def member_reach(conn: Connection, school_id: uuid.UUID,
                       now: datetime) -> list[MemberReach]:
    rows = await conn.fetch(_MEMBER_REACH, school_id, now)
    return [msgspec.convert(dict(r), MemberReach) for r in rows]
