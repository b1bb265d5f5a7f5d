"""A drill record as text: the headline figures in words, the CSV export and the terminal
table of `muster report`. The printable page (api/rendering/report_html.py) uses the same words.

A duration a person reads is written one way everywhere (the page, its chart, the
terminal): m:ss, h:mm:ss from an hour. The CSV keeps seconds as numbers, like the JSON,
for a spreadsheet to sort and add up (a cell "2:33" would be read as a time of day)."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC, datetime, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from api.usecases.drill_record import EventReport
from domain.after_action import AfterAction
from domain.timing import RoomTiming, TimingRecord

NEVER = "—"


def duration(value: float) -> str:
    """m:ss (h:mm:ss from an hour) to the nearest second, a half second up (as a
    stopwatch reads 0.5 s as begun, not as nothing)."""
    hours, rest = divmod(int(value + 0.5), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def zone(name: str) -> tzinfo:
    """The school's time zone; UTC if the name is not one this system knows."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local(at: datetime | None, tz: tzinfo) -> str:
    return NEVER if at is None else at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


class Figure(NamedTuple):
    """A headline figure; `missing` when it never happened, its value then saying why."""

    label: str
    value: str
    note: str = ""
    missing: bool = False


def figures(t: TimingRecord) -> list[Figure]:
    """The headline figures of docs/records.md's table, in words, in the order of a drill.
    A figure that did not happen says why rather than showing a bare dash."""
    active = t.duration_s is None
    yet = " yet" if active else ""
    failed = f", {t.alerts_failed} failed" if t.alerts_failed else ""
    no_alert = "no alerts sent" if not t.alerts else f"none handed off{yet}"
    no_room = "no rooms on record" if not t.rooms_total else f"no check-ins{yet}"
    short = ("no rooms on record" if not t.rooms_total
             else "not yet" if active else "not reached")
    reported = f"{t.rooms_reported} of {t.rooms_total} rooms" if t.rooms_total else ""

    def timed(label: str, value: float | None, why: str, note: str = "") -> Figure:
        if value is None:
            return Figure(label, why, note, missing=True)
        return Figure(label, duration(value), note)

    def share(label: str, value: float | None) -> Figure:
        return timed(label, value, short, reported if value is None else "")

    # a school without a student roster has no such line (nor an empty one)
    students = [timed("Every student accounted for", t.to_full_student_accountability_s,
                      "not yet" if active else "not reached",
                      f"{t.students_expected} students")] if t.students_expected else []
    acknowledged = (Figure("Acknowledged by 1:00", "nobody was alerted", missing=True)
                    if t.acknowledged_pct_60s is None else
                    Figure("Acknowledged by 1:00", f"{t.acknowledged_pct_60s:.1f} %",
                           f"{t.acknowledged_60s} of {t.recipients} people"))
    return [
        timed("First alert handed off", t.notified_first_s, no_alert, f"{t.alerts} alerts"),
        timed("Last alert handed off", t.notified_all_s, no_alert,
              f"{t.alerts_handed_off} of {t.alerts} handed off{failed}"),
        acknowledged,
        timed("First room reported", t.first_checkin_s, no_room),
        share("Half the rooms reported", t.rooms_50_s),
        share("90 % of rooms reported", t.rooms_90_s),
        timed("All rooms reported", t.rooms_100_s, short, reported),
        *students,
        timed("Duration", t.duration_s, "event still active", f"as of {duration(t.as_of_s)}"
              if active else ""),
        Figure("Rooms needing help", str(t.rooms_needs_help)),
        Figure("Unreported rooms", str(len(t.unreported_rooms))),
    ]


def title(report: EventReport) -> str:
    """"Lockdown drill" or "Lockdown (real event)"."""
    action = report.event.action.value.capitalize()
    return f"{action} drill" if report.event.drill else f"{action} (real event)"


STATUS_WORDS = {None: "not reported", "ok": "OK", "needs_help": "NEEDS HELP"}


def room_cells(room: RoomTiming, people: dict) -> list[str]:
    """One room as the table shows it (code, name, time to report, status, counts, reporter)."""
    def count(n: int | None) -> str:
        return "" if n is None else str(n)

    reporter = people.get(room.reported_by, "") if room.reported_by else ""
    after = NEVER if room.time_to_report_s is None else duration(room.time_to_report_s)
    return [room.code, room.name, after,
            STATUS_WORDS[room.status], count(room.students_present),
            count(room.students_missing), count(room.students_extra), count(room.injured),
            reporter]


ROOM_HEADINGS = ["room", "name", "after", "status", "present", "missing", "extra",
                 "injured", "reporter"]  # after: m:ss from the start to its first report

# The headline figures in the CSV, by their JSON names, so that a spreadsheet reads numbers.
_CSV_FIGURES = ("duration_s", "notified_first_s", "notified_all_s", "alerts",
                "alerts_handed_off", "alerts_failed", "recipients", "acknowledged",
                "acknowledged_60s", "acknowledged_pct_60s", "first_checkin_s", "rooms_50_s",
                "rooms_90_s", "rooms_100_s", "rooms_total", "rooms_reported", "rooms_ok",
                "rooms_needs_help", "students_expected", "to_full_student_accountability_s")
_CSV_ROOM_COLUMNS = ("room_code", "room_name", "time_to_report_s", "status",
                     "students_present", "students_missing", "students_extra", "injured",
                     "reported_by", "reporter", "reports", "arrived_after_end",
                     "clock_skew_flagged", "note")


def _cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula (=, +, -, @) is quoted with a
    leading apostrophe, since room names and people's names are typed by users."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def to_csv(report: EventReport) -> str:
    """Two blocks: `figure,value` (the event, then the headline figures), a blank line,
    then one row per room (unreported rooms with empty cells)."""
    out = io.StringIO()
    write = csv.writer(out, lineterminator="\r\n").writerow
    event, t = report.event, report.timing
    write(["figure", "value"])
    for key, value in [("event_id", event.id), ("school", report.school.name),
                       ("action", event.action.value), ("drill", event.drill),
                       ("status", event.status.value), ("partial", report.partial),
                       ("started_at", _iso(event.started_at)), ("ended_at", _iso(event.ended_at)),
                       ("computed_at", _iso(report.computed_at)),
                       *((k, getattr(t, k)) for k in _CSV_FIGURES),
                       ("unreported_rooms", "; ".join(r.code for r in t.unreported_rooms)),
                       *_after_action_rows(report)]:
        write([key, _cell(str(value).lower() if isinstance(value, bool) else value)])
    write([])
    write(_CSV_ROOM_COLUMNS)
    for room in t.rooms:
        write([_cell(v) for v in (
            room.code, room.name, room.time_to_report_s, room.status, room.students_present,
            room.students_missing, room.students_extra, room.injured, room.reported_by,
            report.people.get(room.reported_by) if room.reported_by else None, room.reports,
            str(room.arrived_after_end).lower(), str(room.clock_skew_flagged).lower(),
            room.note)])
    return out.getvalue()


def _after_action_rows(report: EventReport) -> list[tuple[str, object]]:
    """The after-action notes as `figure,value` rows (empty values when there are none)."""
    edit = report.after_action
    notes = edit or AfterAction()
    p = notes.participants
    observers = "; ".join(", ".join(v for v in (o.name, o.agency, o.role, o.certification) if v)
                          for o in notes.observers)
    problems = "; ".join(f"{x.kind}: {x.detail}" if x.detail else x.kind for x in notes.problems)
    return [("scheduled_at", _iso(notes.scheduled_at)), ("during", notes.during),
            ("participants_students", p.students), ("participants_staff", p.staff),
            ("participants_visitors", p.visitors),
            ("notification_method", notes.notification_method), ("observers", observers),
            ("problems", problems), ("lessons_learned", notes.lessons_learned),
            ("after_action_report", notes.report),
            ("after_action_revision", edit.revision if edit else None),
            ("after_action_edited_by", report.people.get(edit.edited_by) if edit else None),
            ("after_action_edited_at", _iso(edit.edited_at if edit else None))]


def _iso(at: datetime | None) -> str | None:
    return None if at is None else msgspec.json.encode(at).decode().strip('"')


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]


def _printable(line: str) -> str:
    """A line as the terminal shows it: control characters (a line break in a note, an
    escape sequence) become spaces, so typed text cannot move the cursor or recolour."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in line)


def to_terminal(report: EventReport) -> str:
    """The record for `muster report`: what, where, when, the figures, every room and what
    the rooms wrote."""
    event, t, tz = report.event, report.timing, zone(report.school.timezone)
    lines = [f"{title(report)} at {report.school.name}: {event.status.value}"
             + (" (PARTIAL: still active)" if report.partial else ""),
             f"event {event.id}",
             f"started {local(event.started_at, tz)} by {report.people.get(event.started_by, '?')}"]
    if event.ended_at:
        lines.append(f"ended   {local(event.ended_at, tz)} by "
                     f"{report.people.get(event.ended_by, '?') if event.ended_by else '?'}"
                     + (f": {event.end_reason}" if event.end_reason else ""))
    lines.append("")
    lines += _table([[f.label, f.value, f.note] for f in figures(t)])
    lines.append("")
    lines += _table([ROOM_HEADINGS, *(room_cells(r, report.people) for r in t.rooms)])
    if t.unreported_rooms:
        lines += ["", "Unreported: " + ", ".join(f"{r.code} ({r.name})"
                                                 for r in t.unreported_rooms)]
    noted = [r for r in t.rooms if r.note]
    if noted:
        lines += ["", "Notes from rooms (their latest report):",
                  *(f"  {r.code}  {r.note}" for r in noted)]
    return "\n".join(_printable(line) for line in lines) + "\n"
