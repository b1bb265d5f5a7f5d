"""Rosters: a school's rooms and staff as an administrator loads them, from a list or a
CSV file.

Every row is checked before anything is stored: a file with one bad row is refused
whole, and each problem is named by its row, numbered as a spreadsheet shows it (the
header is row 1), and its column.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo

import msgspec

from domain.admin import Actor, check_expiry, check_membership_change
from domain.errors import DomainError, Invalid
from domain.identity import LANGUAGE_NOT_YOURS
from domain.language import Language
from domain.roles import Role
from domain.schools import Room
from domain.values import Value

MAX_ROWS = 5000  # data rows in one file; a district's largest school has far fewer
MAX_ERRORS = 100  # listed in one answer; the count says how many there were

# The database's limits (db/migrations/0001_schema.sql), so that a bad value is a row
# error, never a failed insert.
CODE_MAX, NAME_MAX, BUILDING_MAX, EMAIL_MAX = 40, 200, 100, 254
FLOORS, CAPACITIES = (-5, 200), (0, 10_000)
EMAIL = r"^[^@\s\x00]+@[^@\s\x00]+$"


class RowError(Value, kw_only=True, omit_defaults=True):
    """One problem: the row (the header is row 1), the column, why; and the file, when
    the import is of several (a OneRoster export)."""

    row: int
    column: str
    message: str
    file: str | None = None


class InvalidRows(Invalid):
    """A file (or list) with problems; nothing of it was stored."""

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        many = f"{len(errors)} problems" if len(errors) > 1 else "a problem"
        where = ((f"{first.file} " if first.file else "") + f"row {first.row}"
                 + (f", {first.column}" if first.column else ""))
        super().__init__(f"{many} in the file, so nothing was imported; {where}: "
                         f"{first.message}")
        self.errors = errors[:MAX_ERRORS]
        self.total = len(errors)


class Column(Value):
    """A CSV column: its header, how a cell becomes a value (raising ValueError or a
    DomainError whose text is the message), and whether every row must fill it."""

    name: str
    parse: Callable[[str], object]
    required: bool = False


def text(limit: int) -> Callable[[str], str]:
    def parse(cell: str) -> str:
        if len(cell) > limit:
            raise ValueError(f"longer than {limit} characters")
        if "\x00" in cell:
            raise ValueError("contains a NUL character")
        return cell

    return parse


def whole(low: int, high: int) -> Callable[[str], int]:
    def parse(cell: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,9}", cell):
            raise ValueError(f"{cell!r} is not a whole number")
        if not low <= int(cell) <= high:
            raise ValueError(f"{cell} is not between {low} and {high}")
        return int(cell)

    return parse


def email(cell: str) -> str:
    if len(cell) > EMAIL_MAX or not re.fullmatch(EMAIL, cell):
        raise ValueError(f"{cell!r} is not an email address")
    return cell


def language(cell: str) -> Language:
    try:
        return Language(cell.lower())
    except ValueError:
        raise ValueError(f"{cell!r} is not a language; one of {', '.join(Language)}") from None


def role(cell: str) -> Role:
    try:
        return Role(cell.lower())
    except ValueError:
        raise ValueError(f"{cell!r} is not a role; one of {', '.join(Role)}") from None


def expiry(tz: tzinfo, now: datetime) -> Callable[[str], datetime]:
    """A substitute's last day (2026-12-04: through that day in the school's time zone) or
    an exact time with its offset (2026-12-04T15:30:00-06:00)."""

    def parse(cell: str) -> datetime:
        try:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", cell):
                last_day = date.fromisoformat(cell)
                at = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
            else:
                at = datetime.fromisoformat(cell)
        except ValueError:
            raise ValueError(f"{cell!r} is neither a date (2026-12-04) nor a time with an "
                             "offset (2026-12-04T15:30:00-06:00)") from None
        if at.utcoffset() is None:
            raise ValueError(f"{cell!r} has no UTC offset; add one, or give just the date")
        check_expiry(at, now)
        return at

    return parse


def decode(body: bytes) -> str:
    """An uploaded file as text: UTF-8, with or without the byte-order mark Excel writes."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = body[:exc.start].count(b"\n") + 1
        raise InvalidRows([RowError(row=row, column="", message="not UTF-8 text; save the "
                                    "file as \"CSV UTF-8\"")]) from None


def read_table(content: str, columns: Sequence[Column]) -> list[tuple[int, dict[str, object]]]:
    """Each data row's number and its values by column (None for an empty optional cell);
    InvalidRows naming every problem. Blank rows are skipped; headers are matched
    without regard to case or surrounding spaces."""
    records = _records(content)
    header = [h.strip().lower() for h in records[0]] if records else []
    _check_header(header, columns)
    by_name = {c.name: c for c in columns}
    table: list[tuple[int, dict[str, object]]] = []
    errors: list[RowError] = []
    for number, record in enumerate(records[1:], start=2):
        cells = [c.strip() for c in record]
        if not any(cells):
            continue
        if len(table) == MAX_ROWS:
            raise InvalidRows([RowError(row=number, column="",
                                        message=f"more than {MAX_ROWS} rows in one file")])
        if any(cells[len(header):]):
            errors.append(RowError(row=number, column="",
                                   message=f"more cells than the {len(header)} columns"))
        values: dict[str, object] = {c.name: None for c in columns}
        for name, cell in zip(header, cells + [""] * (len(header) - len(cells)), strict=False):
            if name:
                values[name] = _cell(by_name[name], cell, number, errors)
            elif cell:
                errors.append(RowError(row=number, column="",
                                       message="a cell under a column with no name"))
        table.append((number, values))
    if errors:
        raise InvalidRows(errors)
    return table


def _records(content: str) -> list[list[str]]:
    """The file's rows, one per line. No roster cell holds a line break, so a quoted cell
    that runs onto the next line is a quote left open (`T-1,"abc` swallowing the rows
    after it into one room's name): refused, naming the row where it opened."""
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    records: list[list[str]] = []
    while True:
        row = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            raise InvalidRows([RowError(row=row, column="", message=f"not well-formed CSV "
                                        f"({exc}); is a closing quote missing?")]) from None
        if reader.line_num > row:
            raise InvalidRows([RowError(row=row, column="", message="a quoted cell runs on "
                                        "past the end of the row; is a closing quote "
                                        "missing? (a cell cannot hold a line break)")])
        records.append(record)


def _check_header(header: list[str], columns: Sequence[Column]) -> None:
    names = ", ".join(c.name for c in columns)
    if not any(header):
        raise InvalidRows([RowError(row=1, column="", message="the file is empty; its first "
                                    f"row names the columns: {names}")])
    known = {c.name for c in columns}
    errors = [RowError(row=1, column=h, message=f"not a column; the columns are {names}")
              for h in header if h and h not in known]
    errors += [RowError(row=1, column=h, message="this column is named twice")
               for h in sorted(set(header)) if h and header.count(h) > 1]
    errors += [RowError(row=1, column=c.name, message="this column is required")
               for c in columns if c.required and c.name not in header]
    if errors:
        raise InvalidRows(errors)


def _cell(column: Column, cell: str, number: int, errors: list[RowError]) -> object:
    if not cell:
        if column.required:
            errors.append(RowError(row=number, column=column.name, message="required"))
        return None
    try:
        return column.parse(cell)
    except (ValueError, DomainError) as exc:
        errors.append(RowError(row=number, column=column.name, message=str(exc)))
        return None


def repeats(keys: Iterable[object]) -> dict[int, int]:
    """Position -> earlier position, for every key already seen before it."""
    first: dict[object, int] = {}
    found = {}
    for i, key in enumerate(keys):
        if key in first:
            found[i] = first[key]
        else:
            first[key] = i
    return found


def _refuse_repeats(table: list[tuple[int, dict[str, object]]], column: str) -> None:
    again = repeats(values[column] for _, values in table)
    if again:
        raise InvalidRows([RowError(row=table[i][0], column=column,
                                    message=f"{table[i][1][column]} is also in row "
                                            f"{table[j][0]}") for i, j in again.items()])


# -- rooms -----------------------------------------------------------------------------

class RoomRow(Value, kw_only=True):
    """A room as an administrator describes it; `code` is how it is found again."""

    code: str
    name: str
    building: str | None = None
    floor: int | None = None
    capacity: int | None = None


ROOM_COLUMNS = (Column("code", text(CODE_MAX), required=True),
                Column("name", text(NAME_MAX), required=True),
                Column("building", text(BUILDING_MAX)),
                Column("floor", whole(*FLOORS)),
                Column("capacity", whole(*CAPACITIES)))


def room_rows(content: str) -> list[RoomRow]:
    """A rooms CSV file's rows, each code once; InvalidRows otherwise."""
    table = read_table(content, ROOM_COLUMNS)
    _refuse_repeats(table, "code")
    return [RoomRow(**values) for _, values in table]  # type: ignore[arg-type]


class RoomPlan(Value, kw_only=True):
    """What saving a list of rooms does: `rooms` in the list's order, with their ids."""

    rooms: list[Room]
    created: list[Room]
    updated: list[Room]


def plan_rooms(existing: Mapping[str, Room], wanted: Sequence[RoomRow],
               mint: Callable[[], uuid.UUID]) -> RoomPlan:
    """Upsert by code: a new code is a new room, a known one keeps its id (and its
    check-ins) and takes the new description. Rooms not listed are not touched."""
    rooms, created, updated = [], [], []
    for row in wanted:
        known = existing.get(row.code)
        room = Room(id=known.id if known else mint(), **msgspec.structs.asdict(row))
        if known is None:
            created.append(room)
        elif room != known:
            updated.append(room)
        rooms.append(room)
    return RoomPlan(rooms=rooms, created=created, updated=updated)


# -- staff -----------------------------------------------------------------------------

class StaffRow(Value, kw_only=True):
    """A person and their membership at one school; `phone` (E.164) is who they are.
    `language` is the person's (left empty: as it is, English for someone new)."""

    name: str
    phone: str
    role: Role
    email: str | None = None
    expires_at: datetime | None = None
    language: Language | None = None


def staff_columns(phone: Callable[[str], str], tz: tzinfo, now: datetime) -> tuple[Column, ...]:
    """The staff CSV's columns; `phone` normalises a typed number, `tz` is the school's."""
    return (Column("name", text(NAME_MAX), required=True),
            Column("phone", phone, required=True),
            Column("role", role, required=True),
            Column("email", email),
            Column("expires_at", expiry(tz, now)),
            Column("language", language))


def staff_rows(content: str, columns: Sequence[Column]) -> list[tuple[int, StaffRow]]:
    """A staff CSV file's rows with their numbers, each phone once; InvalidRows otherwise."""
    table = read_table(content, columns)
    _refuse_repeats(table, "phone")
    return [(number, StaffRow(**values)) for number, values in table]  # type: ignore[arg-type]


class Member(Value, kw_only=True):
    """A person already known by phone, and their membership at this school if any, with
    the school's entry for them (nothing another school has of them)."""

    user_id: uuid.UUID
    role: Role | None = None
    expires_at: datetime | None = None
    name: str | None = None
    email: str | None = None
    language: Language = Language.EN  # the person's own, at every school


class StaffPlan(Value, kw_only=True):
    """What importing a staff file does: people to create, memberships to set, and the
    languages of people already known to set."""

    new_people: list[tuple[uuid.UUID, StaffRow]]
    memberships: list[tuple[uuid.UUID, StaffRow]]
    languages: list[tuple[uuid.UUID, Language]]
    added: int
    updated: int
    unchanged: int


def language_changes(rows: Sequence[tuple[int, StaffRow]],
                     known: Mapping[str, Member]) -> set[uuid.UUID]:
    """The people already known whose language the file changes (who may is asked of
    each: domain/identity.py)."""
    return {member.user_id for _, row in rows
            if (member := known.get(row.phone)) and row.language not in (None, member.language)}


def plan_staff(rows: Sequence[tuple[int, StaffRow]], known: Mapping[str, Member], actor: Actor,
               mint: Callable[[], uuid.UUID],
               languages_allowed: Collection[uuid.UUID] = ()) -> StaffPlan:
    """Add or change each row's membership here, with the school's entry (name, email) as
    the file has it, as far as `actor` may. A phone already known is that person: they
    get a membership here, and nothing else of theirs (their own name, email, phone,
    other schools) is changed, except their language when the file changes it and they
    are in `languages_allowed` (the actor manages them at every school; otherwise the row
    is refused: the language is how every school of theirs reaches them)."""
    new_people, memberships, languages, errors = [], [], [], []
    added = updated = 0
    for number, row in rows:
        member = known.get(row.phone) or Member(user_id=mint())
        new_language = row.phone in known and row.language not in (None, member.language)
        if new_language and member.user_id not in languages_allowed:
            errors.append(RowError(row=number, column="language", message=LANGUAGE_NOT_YOURS))
            continue
        if new_language:
            languages.append((member.user_id, row.language or member.language))
        as_is = (member.role, member.expires_at, member.name, member.email)
        if as_is == (row.role, row.expires_at, row.name, row.email):
            updated += new_language
            continue
        try:
            if member.role is Role.DISTRICT_ADMIN:
                raise Invalid(f"{row.phone} is a district admin of this district; change "
                              "that one person at a time, not by a file")
            check_membership_change(actor, member.user_id, member.role, row.role)
        except DomainError as exc:
            errors.append(RowError(row=number, column="role", message=str(exc)))
            continue
        if row.phone not in known:
            new_people.append((member.user_id, row))
        memberships.append((member.user_id, row))
        added, updated = (added + 1, updated) if member.role is None else (added, updated + 1)
    if errors:
        raise InvalidRows(errors)
    return StaffPlan(new_people=new_people, memberships=memberships, languages=languages,
                     added=added, updated=updated, unchanged=len(rows) - added - updated)
