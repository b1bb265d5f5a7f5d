"""Rosters from CSV: every row checked first, problems named by spreadsheet row and column."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.admin import Actor
from domain.errors import Invalid
from domain.roles import Role
from domain.roster import (
    MAX_ERRORS,
    MAX_ROWS,
    InvalidRows,
    Member,
    RoomRow,
    RowError,
    StaffRow,
    decode,
    plan_rooms,
    plan_staff,
    repeats,
    room_rows,
    staff_columns,
    staff_rows,
)
from domain.schools import Room

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")


def phone(raw: str) -> str:
    """A stand-in for api/phones.to_e164: ten digits become +1 and the digits."""
    digits = "".join(c for c in raw if c.isdigit())
    if len(digits) != 10:
        raise Invalid(f"{raw!r} is not a valid phone number", field="phone")
    return "+1" + digits


STAFF = staff_columns(phone, CHICAGO, NOW)


def errors_of(call, *args) -> list[tuple[int, str, str]]:
    with pytest.raises(InvalidRows) as refused:
        call(*args)
    return [(e.row, e.column, e.message) for e in refused.value.errors]


def test_rooms_file_becomes_rows():
    """Headers in any case and order; empty optional cells are None; blank lines skipped."""
    rows = room_rows(" Name ,CODE,floor,capacity,building\r\n"
                     "Science Lab,B-114,1,32,Building B\r\n"
                     "\r\n"
                     "Gym,GYM,,,\r\n")
    assert rows == [RoomRow(code="B-114", name="Science Lab", building="Building B", floor=1,
                            capacity=32),
                    RoomRow(code="GYM", name="Gym")]


def test_only_required_columns_are_needed():
    """A file with just code and name is enough."""
    assert room_rows("code,name\nA-1,Room A-1\n") == [RoomRow(code="A-1", name="Room A-1")]


def test_quoted_cells_may_hold_commas_and_quotes():
    """A quoted cell keeps its commas and doubled quotes; a stray quote inside a cell is
    text."""
    assert room_rows('code,name\nA-1,"Room, with ""quotes"""\nA-2,Room 5" wide\n') == [
        RoomRow(code="A-1", name='Room, with "quotes"'),
        RoomRow(code="A-2", name='Room 5" wide')]


@pytest.mark.parametrize("content, row", [
    ('code,name\nT-1,"abc\nT-2,def\nT-3,ghi', 2),  # the quote is never closed
    ('code,name\nT-1,"abc\nT-2,def"\nT-3,ghi\n', 2),  # closed a row later
    ('code,name\nT-1,abc\nT-2,"def\r\nT-3,ghi\r\n', 3),
    ('code,name\r\nT-1,"abc\rdef"\r\n', 2),
    ('code,name\nT-1,abc\nT-2,"def', 3),  # open at the very end
    ('code,name\nT-1,"abc"def\nT-2,ghi\n', 2),  # text after the closing quote
    ('code,"name\n', 1),
])
def test_a_quote_left_open_is_refused_naming_its_row(content, row):
    """An open quote swallowed the rows after it into one room's name; no roster cell holds
    a line break, so a cell that runs past its row is refused, named by the row it
    started on."""
    ((at, column, message),) = errors_of(room_rows, content)
    assert (at, column) == (row, "")
    assert "quote" in message


BAD_ROOMS = [
    ("code,name\n,Gym\n", [(2, "code", "required")]),
    ("code,name\nA-1,Gym\nA-2,Art\nA-1,Band\n", [(4, "code", "A-1 is also in row 2")]),
    ("code,name,floor\nA-1,Gym,first\n", [(2, "floor", "'first' is not a whole number")]),
    ("code,name,floor\nA-1,Gym,1.5\n", [(2, "floor", "'1.5' is not a whole number")]),
    ("code,name,floor\nA-1,Gym,1_0\n", [(2, "floor", "'1_0' is not a whole number")]),
    ("code,name,floor\nA-1,Gym,201\n", [(2, "floor", "201 is not between -5 and 200")]),
    ("code,name,capacity\nA-1,Gym,-1\n", [(2, "capacity", "-1 is not between 0 and 10000")]),
    ("code,name,capacity\nA-1,Gym,99999999999\n",
     [(2, "capacity", "'99999999999' is not a whole number")]),
    ("code,name\n" + "X" * 41 + ",Gym\n", [(2, "code", "longer than 40 characters")]),
    ("code,name\nA-1,Gy\x00m\n", [(2, "name", "contains a NUL character")]),
    ("code,name\nA-1,Gym,extra\n", [(2, "", "more cells than the 2 columns")]),
    ("code,name,\nA-1,Gym,x\n", [(2, "", "a cell under a column with no name")]),
    ("code\nA-1\n", [(1, "name", "this column is required")]),
    ("code,name,room\nA-1,Gym,1\n",
     [(1, "room", "not a column; the columns are code, name, building, floor, capacity")]),
    ("code,name,Code\nA-1,Gym,A-2\n", [(1, "code", "this column is named twice")]),
    ("", [(1, "", "the file is empty; its first row names the columns: code, name, building, "
          "floor, capacity")]),
]


@pytest.mark.parametrize(("content", "expected"), BAD_ROOMS)
def test_bad_room_files_name_row_column_and_problem(content, expected):
    """Each problem is found and named as a spreadsheet user sees it."""
    assert errors_of(room_rows, content) == expected


def test_every_bad_row_is_reported_not_just_the_first():
    """All problems of a file come back at once, so one fix-up round is enough."""
    found = errors_of(room_rows, "code,name,floor\n,Gym,1\nA-2,Art,x\nA-3,Band,2\nA-4,,\n")
    assert found == [(2, "code", "required"), (3, "floor", "'x' is not a whole number"),
                     (5, "name", "required")]


def test_a_huge_list_of_errors_is_cut_but_counted():
    """The answer stays small; the count says how many problems there were."""
    with pytest.raises(InvalidRows) as refused:
        room_rows("code,name\n" + ",x\n" * (MAX_ERRORS + 50))
    assert len(refused.value.errors) == MAX_ERRORS and refused.value.total == MAX_ERRORS + 50
    assert str(refused.value).startswith(f"{MAX_ERRORS + 50} problems in the file")


def test_too_many_rows_is_refused():
    """One file holds at most MAX_ROWS rows."""
    content = "code,name\n" + "".join(f"R{n},Room\n" for n in range(MAX_ROWS + 1))
    assert errors_of(room_rows, content) == [
        (MAX_ROWS + 2, "", f"more than {MAX_ROWS} rows in one file")]


def test_decode_accepts_excels_byte_order_mark():
    """"CSV UTF-8" from Excel starts with a BOM, which is not part of the first header."""
    assert room_rows(decode("\ufeffcode,name\nA-1,Gym\n".encode())) == [
        RoomRow(code="A-1", name="Gym")]


def test_decode_refuses_other_encodings_naming_the_row():
    """A Latin-1 file fails on the row holding the first non-UTF-8 byte."""
    assert errors_of(decode, "code,name\nA-1,Caf\u00e9\n".encode("latin-1")) == [
        (2, "", 'not UTF-8 text; save the file as "CSV UTF-8"')]


def test_repeats_map_each_repeat_to_its_first_place():
    assert repeats(["a", "b", "a", "c", "b", "a"]) == {2: 0, 4: 1, 5: 0}


def _room(code: str, **kw) -> Room:
    return Room(id=uuid.uuid4(), code=code, name=kw.pop("name", f"Room {code}"), **kw)


def test_plan_rooms_creates_updates_and_keeps_ids():
    """New codes get fresh ids; known codes keep theirs; unchanged rooms are not updates."""
    same, moved = _room("A-1"), _room("A-2", floor=1)
    ids = iter([uuid.UUID(int=1)])
    plan = plan_rooms({r.code: r for r in (same, moved, _room("Z-9"))},
                      [RoomRow(code="NEW", name="New"), RoomRow(code="A-2", name="Room A-2",
                                                                floor=2),
                       RoomRow(code="A-1", name="Room A-1")], lambda: next(ids))
    new = Room(id=uuid.UUID(int=1), code="NEW", name="New")
    assert plan.rooms == [new, Room(id=moved.id, code="A-2", name="Room A-2", floor=2), same]
    assert plan.created == [new] and plan.updated == [plan.rooms[1]]


def test_staff_file_becomes_rows_with_phones_normalised():
    """Phones are normalised, roles read in any case, a date-only expiry runs through that
    day in the school's time zone."""
    rows = staff_rows("name,phone,role,email,expires_at\n"
                      "Maria Gonzalez,(512) 555-0100,Teacher,maria@example.org,\n"
                      "Sam Sub,512.555.0101,teacher,,2026-12-04\n"
                      "Ann Sro,5125550102,sro,,2026-12-01T15:30:00-06:00\n", STAFF)
    assert rows == [
        (2, StaffRow(name="Maria Gonzalez", phone="+15125550100", role=Role.TEACHER,
                     email="maria@example.org")),
        (3, StaffRow(name="Sam Sub", phone="+15125550101", role=Role.TEACHER,
                     expires_at=datetime(2026, 12, 5, tzinfo=CHICAGO))),
        (4, StaffRow(name="Ann Sro", phone="+15125550102", role=Role.SRO,
                     expires_at=datetime(2026, 12, 1, 21, 30, tzinfo=UTC)))]
    assert rows[1][1].expires_at == datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


BAD_STAFF = [
    ("A,555,teacher", [(2, "phone", "'555' is not a valid phone number")]),
    ("A,5125550100,janitor",
     [(2, "role", "'janitor' is not a role; one of teacher, staff, sro, principal, "
                  "district_admin")]),
    ("A,5125550100,teacher,not-an-email", [(2, "email", "'not-an-email' is not an email address")]),
    ("A,5125550100,teacher,,2026-11-28", [(2, "expires_at", "2026-11-29T00:00:00-06:00 is not "
                                                           "in the future")]),
    ("A,5125550100,teacher,,2028-01-01", [(2, "expires_at", "2028-01-02T00:00:00-06:00 is more "
                                                           "than 366 days ahead; a substitute "
                                                           "needed that long is staff")]),
    ("A,5125550100,teacher,,2026-12-05T10:00", [(2, "expires_at", "'2026-12-05T10:00' has no UTC "
                                                                  "offset; add one, or give just "
                                                                  "the date")]),
    ("A,5125550100,teacher,,next friday",
     [(2, "expires_at", "'next friday' is neither a date (2026-12-04) nor a time with an "
                        "offset (2026-12-04T15:30:00-06:00)")]),
    ("A,5125550100,teacher\nB,512-555-0100,staff", [(3, "phone", "+15125550100 is also in row 2")]),
    (",,,a@example.org",
     [(2, "name", "required"), (2, "phone", "required"), (2, "role", "required")]),
]


@pytest.mark.parametrize(("body", "expected"), BAD_STAFF)
def test_bad_staff_rows_name_row_column_and_problem(body, expected):
    """Each bad cell of a staff file is named by row and column."""
    assert errors_of(staff_rows, "name,phone,role,email,expires_at\n" + body + "\n",
                     STAFF) == expected


ME = uuid.uuid4()


def _row(n: int, role: Role = Role.TEACHER, expires_at: datetime | None = None) -> StaffRow:
    return StaffRow(name=f"Person {n}", phone=f"+1512555{n:04d}", role=role,
                    expires_at=expires_at)


def test_plan_staff_adds_changes_and_leaves_alone():
    """Unknown phones become people; known ones get a membership here or a changed one;
    a row that changes nothing is counted as unchanged."""
    ids = (uuid.UUID(int=n) for n in itertools.count(1))
    there, elsewhere, same = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    sub_until = NOW + timedelta(days=2)
    known = {_row(2).phone: Member(user_id=elsewhere),
             _row(3).phone: Member(user_id=there, role=Role.TEACHER),
             _row(4).phone: Member(user_id=same, role=Role.STAFF, expires_at=sub_until,
                                   name="Person 4")}
    rows = [(2, _row(1)), (3, _row(2)), (4, _row(3, Role.SRO)),
            (5, _row(4, Role.STAFF, sub_until))]
    plan = plan_staff(rows, known, Actor(user_id=ME, role=Role.PRINCIPAL), lambda: next(ids))
    assert plan.new_people == [(uuid.UUID(int=1), _row(1))]
    assert plan.memberships == [(uuid.UUID(int=1), _row(1)), (elsewhere, _row(2)),
                                (there, _row(3, Role.SRO))]
    assert (plan.added, plan.updated, plan.unchanged) == (2, 1, 1)


def test_plan_staff_sets_the_schools_entry_from_the_file():
    """A phone another school has gets a membership here named as the file names them;
    a new name or email for someone on the staff is a change of this school's entry."""
    elsewhere, here = uuid.uuid4(), uuid.uuid4()
    known = {_row(2).phone: Member(user_id=elsewhere),
             _row(3).phone: Member(user_id=here, role=Role.TEACHER, name="Old Name")}
    rows = [(2, _row(2)), (3, _row(3))]
    plan = plan_staff(rows, known, Actor(user_id=ME, role=Role.PRINCIPAL), uuid.uuid4)
    assert plan.new_people == []
    assert plan.memberships == [(elsewhere, _row(2)), (here, _row(3))]
    assert (plan.added, plan.updated, plan.unchanged) == (1, 1, 0)


def test_plan_staff_refuses_rows_beyond_the_importers_powers():
    """A principal's file may not grant district_admin, touch a district admin, or change
    the importer's own membership; each such row is named and nothing is planned."""
    known = {_row(3).phone: Member(user_id=uuid.uuid4(), role=Role.DISTRICT_ADMIN),
             _row(4).phone: Member(user_id=ME, role=Role.PRINCIPAL, name="Person 4")}
    rows = [(2, _row(2, Role.DISTRICT_ADMIN)), (3, _row(3)), (4, _row(4)),
            (5, _row(5)), (6, _row(4, Role.PRINCIPAL))]
    errors = errors_of(plan_staff, rows, known, Actor(user_id=ME, role=Role.PRINCIPAL),
                       uuid.uuid4)
    assert errors == [
        (2, "role", "a principal may not grant the district_admin role"),
        (3, "role", "+15125550003 is a district admin of this district; change that one "
                    "person at a time, not by a file"),
        (4, "role", "you may not change your own membership; ask another administrator")]


def test_row_error_is_plain_data():
    """Row errors cross the wire as {row, column, message}."""
    assert RowError(row=2, column="code", message="required").row == 2
