"""The printable drill report: one page of HTML with inline CSS and a timeline chart drawn
here as SVG. No JavaScript and nothing fetched, so it prints and archives as it is. Every
text a person typed (names, notes, rooms) goes through `escape`."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from api.rendering.report_text import (
    NEVER,
    ROOM_HEADINGS,
    figures,
    local,
    room_cells,
    seconds,
    title,
    zone,
)
from api.usecases.drill_record import EventReport
from domain.after_action import AfterActionRevision
from domain.timing import MarkerKind, RoomTiming, TimingRecord

_CSS = """
@page { size: letter; margin: 9mm 10mm; }
* { box-sizing: border-box; }
body { font: 9pt/1.3 "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: #111;
       max-width: 196mm; margin: 0 auto; padding: 6mm 0;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print { body { padding: 0; } }
h1 { font-size: 16pt; margin: 0; }
h2 { font-size: 10.5pt; margin: 10px 0 4px; border-bottom: 1.5px solid #111; }
header { display: flex; justify-content: space-between; align-items: flex-start; gap: 12px; }
.kind { display: inline-block; font-weight: 700; padding: 1px 8px; border-radius: 3px;
        border: 1.5px solid #111; letter-spacing: .04em; }
.real { background: #111; color: #fff; }
.status { text-align: right; font-size: 9pt; }
.status .muted { font-size: 7.5pt; line-height: 1.25; margin-top: 2px; }
.banner { margin: 8px 0; padding: 6px 10px; border: 2px solid #9a6700; background: #fff8c5;
          font-weight: 700; }
.halves { display: flex; gap: 14px; } .halves > div { flex: 1 1 0; min-width: 0; }
.halves .facts { grid-template-columns: auto 1fr; }
.facts { display: grid; grid-template-columns: auto 1fr auto 1fr; gap: 1px 10px;
         margin: 6px 0 0; font-size: 9pt; }
.facts dt { color: #555; } .facts dd { margin: 0; }
.figures { display: grid; grid-template-columns: repeat(5, 1fr); gap: 4px; margin-top: 8px; }
.figure { border: 1px solid #999; border-radius: 3px; padding: 2px 6px; break-inside: avoid;
          line-height: 1.2; }
.figure .v { font-size: 12.5pt; font-weight: 700; font-variant-numeric: tabular-nums; }
.figure .l { font-size: 8pt; color: #333; } .figure .n { font-size: 7.5pt; color: #666; }
svg { display: block; width: 100%; height: auto; }
.rooms { display: flex; gap: 10px; align-items: flex-start; }
.rooms > table { flex: 1 1 0; min-width: 0; }
.rooms-table { table-layout: fixed; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; line-height: 1.25; }
thead { display: table-header-group; }
th { text-align: left; border-bottom: 1px solid #111; padding: 0 2px; font-weight: 600;
     font-size: 7.5pt; }
td { border-bottom: 1px solid #ddd; padding: 0 2px; vertical-align: top; }
.rooms-table td, .rooms-table th { white-space: nowrap; overflow: hidden;
                                   text-overflow: ellipsis; }
ul.inline { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; }
tr { break-inside: avoid; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.name { color: #555; }
.help { color: #b00; font-weight: 700; }
.never { color: #b00; }
.muted { color: #666; }
.key { font-size: 7.5pt; font-weight: 400; color: #555; margin-left: 8px; }
p { margin: 3px 0; }
.text { white-space: pre-wrap; }
ul { margin: 2px 0; padding-left: 18px; }
"""

# Rooms beyond this many go in two side-by-side tables, to keep the page to one sheet.
_ONE_COLUMN_ROOMS = 12
# Widths (%) of the room table's columns: room, after, status, four counts, reporter.
_ROOM_COLUMNS = (20, 8, 10, 12, 12, 9, 11, 18)
_STATUS = {None: "—", "ok": "OK", "needs_help": "HELP"}  # short, for the two-table layout

# The chart's frame, in SVG user units (the page scales it to its width).
_W, _H = 720, 186
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 706, 30, 124
_SERIES = (  # legend words, stroke colour, dash pattern
    ("Rooms reported", "#1a7f37", ""),
    ("Alerts handed off", "#0550ae", "7 3"),
    ("Acknowledged", "#bc4c00", "2 2.5"),
)
_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200,
          10800, 21600, 43200, 86400)


def render(report: EventReport) -> str:
    """The whole page."""
    t, tz = report.timing, zone(report.school.timezone)
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title(report))}, {escape(report.school.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        _header(report, tz),
        _banner(report, tz),
        _figures(t),
        "<h2>Timeline</h2>", chart(t),
        f'<h2>Rooms ({t.rooms_reported} of {t.rooms_total} reported) <span class="key">'
        "after: m:ss from the start to the room's first report; HELP: needs help; "
        "status and counts: its latest report</span></h2>",
        _rooms(t.rooms, report.people),
        _unreported(t),
        _after_action(report, tz),
        "</body></html>\n",
    ])


def _header(report: EventReport, tz: tzinfo) -> str:
    event, people = report.event, report.people
    kind = ('<span class="kind">DRILL</span>' if event.drill
            else '<span class="kind real">REAL EVENT</span>')
    ended = (f"{escape(local(event.ended_at, tz))} by "
             f"{escape(people.get(event.ended_by, '?') if event.ended_by else '?')}"
             if event.ended_at else "not yet")
    facts = [("Started", f"{escape(local(event.started_at, tz))} by "
                         f"{escape(people.get(event.started_by, '?'))}"),
             ("Ended", ended),
             ("Action", escape(event.action.value)),
             ("Directive", escape(event.directive))]
    if event.end_reason:
        facts.append(("End note", escape(event.end_reason)))
    if event.location:
        facts.append(("Location", escape(event.location)))
    return (f"<header><div>{kind}<h1>{escape(title(report))}</h1>"
            f"<div>{escape(report.school.name)}</div></div>"
            f'<div class="status">Status: <b>{escape(event.status.value.replace("_", " "))}'
            f'</b><div class="muted">event {escape(str(event.id))}<br>computed at '
            f"{escape(local(report.computed_at, tz))}<br>from the stored timeline, check-ins,"
            f"<br>alerts and acknowledgements; times in {escape(report.school.timezone)}"
            "</div></div></header>"
            '<dl class="facts">'
            + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")


def _banner(report: EventReport, tz: tzinfo) -> str:
    if not report.partial:
        return ""
    return ('<div class="banner" role="status">IN PROGRESS: a partial report as of '
            f"{escape(local(report.computed_at, tz))}. The event is still active; these "
            "figures change until it ends, and the record is kept then.</div>")


def _figures(t: TimingRecord) -> str:
    cells = [f'<div class="figure"><div class="l">{escape(f.label)}</div>'
             f'<div class="v">{escape(f.value)}</div>'
             f'<div class="n">{escape(f.note) or "&nbsp;"}</div></div>' for f in figures(t)]
    return f'<div class="figures">{"".join(cells)}</div>'


def _room_table(rooms: list[RoomTiming], people: dict) -> str:
    numeric = {"after", "present", "missing", "extra", "injured"}
    head = "".join(f'<th class="n">{h}</th>' if h in numeric else f"<th>{h}</th>"
                   for h in ROOM_HEADINGS if h != "name")
    rows = []
    for room in rooms:
        code, name, after, _, *counts, reporter = room_cells(room, people)
        status = _STATUS[room.status]
        status_class = {"needs_help": ' class="help"', None: ' class="never"'}.get(
            room.status, "")
        rows.append(
            f'<tr><td>{escape(code)} <span class="name">{escape(name)}</span></td>'
            f'<td class="n">{escape(after)}</td><td{status_class}>{escape(status)}</td>'
            + "".join(f'<td class="n">{escape(c)}</td>' for c in counts)
            + f"<td>{escape(reporter)}</td></tr>")
    cols = "".join(f'<col style="width: {w}%">' for w in _ROOM_COLUMNS)
    return (f'<table class="rooms-table"><colgroup>{cols}</colgroup><thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table>")


def _rooms(rooms: list[RoomTiming], people: dict) -> str:
    if not rooms:
        return '<p class="muted">This school has no rooms on record.</p>'
    if len(rooms) <= _ONE_COLUMN_ROOMS:
        return _room_table(rooms, people)
    half = (len(rooms) + 1) // 2
    return (f'<div class="rooms">{_room_table(rooms[:half], people)}'
            f"{_room_table(rooms[half:], people)}</div>")


def _unreported(t: TimingRecord) -> str:
    if not t.rooms_total:
        return ""
    if not t.unreported_rooms:
        return "<h2>Unreported rooms</h2><p>None: every room reported.</p>"
    items = "".join(f"<li><b>{escape(r.code)}</b> {escape(r.name)}</li>"
                    for r in t.unreported_rooms)
    return (f"<h2>Unreported rooms ({len(t.unreported_rooms)})</h2>"
            f'<ul class="inline never">{items}</ul>')


def _after_action(report: EventReport, tz: tzinfo) -> str:
    notes = report.after_action
    if notes is None:
        later = " They are written once the event has ended." if report.partial else ""
        return f'<h2>After-action notes</h2><p class="muted">None recorded yet.{later}</p>'
    edited = (f"revision {notes.revision}, by {report.people.get(notes.edited_by, '?')} at "
              f"{local(notes.edited_at, tz)}")
    return (f'<h2>After-action notes <span class="key">{escape(edited)}</span></h2>'
            f'<div class="halves"><div>{_notes_facts(notes, report, tz)}{_observers(notes)}'
            f"</div><div>{_problems(notes)}"
            + _long_text("Lessons learned", notes.lessons_learned)
            + _long_text("After-action report", notes.report)
            + "</div></div>")


def _notes_facts(notes: AfterActionRevision, report: EventReport, tz: tzinfo) -> str:
    scheduled = NEVER
    if notes.scheduled_at is not None:
        late = (report.event.started_at - notes.scheduled_at).total_seconds()
        scheduled = (f"{escape(local(notes.scheduled_at, tz))} (started "
                     f"{seconds(abs(late))} {'after' if late >= 0 else 'before'} that)")
    p = notes.participants
    counted = [f"{n} {what}" for n, what in ((p.students, "students"), (p.staff, "staff"),
                                             (p.visitors, "visitors")) if n is not None]
    facts = [("Scheduled", scheduled),
             ("During", escape(notes.during.value) if notes.during else NEVER),
             ("Participants", escape(", ".join(counted)) or NEVER),
             ("Notified by", escape(notes.notification_method or NEVER))]
    return '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def _observers(notes: AfterActionRevision) -> str:
    if not notes.observers:
        return '<p class="muted">No observers recorded.</p>'
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(v or '')}</td>"
                         for v in (o.name, o.agency, o.role, o.certification)) + "</tr>"
        for o in notes.observers)
    return ("<table><thead><tr><th>Observer</th><th>Agency</th><th>Role</th>"
            f"<th>Certification</th></tr></thead><tbody>{rows}</tbody></table>")


def _problems(notes: AfterActionRevision) -> str:
    if not notes.problems:
        return "<p><b>Problems found:</b> none.</p>"
    items = "".join(
        f"<li><b>{escape(p.kind.value.replace('_', ' '))}</b>"
        + (f": {escape(p.detail)}" if p.detail else "") + "</li>" for p in notes.problems)
    return f"<p><b>Problems found:</b></p><ul>{items}</ul>"


def _long_text(heading: str, text: str | None) -> str:
    if not text:
        return ""
    return f'<p><b>{heading}:</b> <span class="text">{escape(text)}</span></p>'


# --- the chart ---------------------------------------------------------------------------


def _tick_step(span: float) -> int:
    """A round step giving at most 8 ticks across `span` seconds."""
    return next((s for s in _STEPS if span / s <= 8), _STEPS[-1])


def _tick_label(value: int) -> str:
    return f"{value} s" if value < 60 else seconds(value)


def chart(t: TimingRecord) -> str:
    """Cumulative shares over time (rooms reported of all rooms, alerts handed off of all
    alerts, acknowledgements of all recipients), with the action changes and the end."""
    firsts = sorted(r.time_to_report_s for r in t.rooms if r.time_to_report_s is not None)
    series = list(zip(_SERIES, (
        (firsts, t.rooms_total, "rooms"),
        (t.chart.handoffs_s, t.alerts, "alerts"),
        (t.chart.acknowledgements_s, t.recipients, "people")), strict=True))
    latest = max([t.as_of_s, 1.0, *firsts, *t.chart.handoffs_s, *t.chart.acknowledgements_s])
    step = _tick_step(latest)
    span = step * -(-latest // step)

    def x(s: float) -> float:
        return round(_LEFT + (_RIGHT - _LEFT) * s / span, 1)

    def y(share: float) -> float:
        return round(_BOTTOM - (_BOTTOM - _TOP) * share, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
             'aria-labelledby="chart-title" font-family="Helvetica, Arial, sans-serif" '
             'font-size="10">',
             '<title id="chart-title">Rooms reported, alerts handed off and acknowledgements '
             "over the seconds since the start</title>"]
    for pct in (0, 25, 50, 75, 100):  # y grid and labels
        parts.append(f'<line x1="{_LEFT}" y1="{y(pct / 100)}" x2="{_RIGHT}" y2="{y(pct / 100)}" '
                     f'stroke="{"#111" if pct == 0 else "#ddd"}" stroke-width="1"/>'
                     f'<text x="{_LEFT - 4}" y="{y(pct / 100) + 3.5}" text-anchor="end">'
                     f"{pct} %</text>")
    for n in range(int(span // step) + 1):  # x ticks and labels
        at = x(n * step)
        parts.append(f'<line x1="{at}" y1="{_BOTTOM}" x2="{at}" y2="{_BOTTOM + 4}" '
                     f'stroke="#111"/><text x="{at}" y="{_BOTTOM + 15}" text-anchor="middle">'
                     f"{_tick_label(n * step)}</text>")
    parts.append(f'<text x="{(_LEFT + _RIGHT) / 2}" y="{_BOTTOM + 29}" text-anchor="middle" '
                 'fill="#444">time since the start (seconds; m:ss from a minute)</text>')
    parts += _marker_lines(t, x)
    for (_, colour, dash), (times, total, _) in series:
        if total:
            parts.append(_step_path(times, total, t.as_of_s, x, y, colour, dash))
    parts += _legend(series)
    parts.append("</svg>")
    return "".join(parts)


def _step_path(times: list[float], total: int, until: float, x, y, colour: str,
               dash: str) -> str:
    """A cumulative step curve: flat at each share until the next event, on to `until`."""
    d = [f"M{x(0)} {y(0)}"]
    for n, s in enumerate(sorted(times), 1):
        d.append(f"H{x(s)} V{y(min(n / total, 1))}")
    d.append(f"H{x(max(until, times[-1] if times else 0))}")
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<path d="{" ".join(d)}" fill="none" stroke="{colour}" stroke-width="2.2"'
            f'{dash_attr} stroke-linejoin="round"/>')


# How each kind of marker is drawn: colour, line width, dash pattern.
_MARKER_STYLE = {"action": ("#666", 1, "3 3"), "end": ("#b00", 1.6, ""),
                 "now": ("#9a6700", 1.2, "1 2")}


def _marker_lines(t: TimingRecord, x) -> list[str]:
    """A vertical line for each action (grey), the end (red) or, while the event is active,
    now; labelled at the top, in two alternating rows so that close labels do not overlap."""
    marks = [(m.at_s, m.label.replace("_", " "), "end" if m.kind is MarkerKind.END else "action")
             for m in t.chart.markers]
    if t.duration_s is None:
        marks.append((t.as_of_s, "now", "now"))
    parts = []
    for n, (at_s, label, kind) in enumerate(marks):
        at, (colour, width, dash) = x(at_s), _MARKER_STYLE[kind]
        anchor = "end" if at > _RIGHT - 80 else "start"
        shift = -3 if anchor == "end" else 3
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{at}" y1="{_TOP - 14 + 10 * (n % 2)}" x2="{at}" y2="{_BOTTOM}" '
            f'stroke="{colour}" stroke-width="{width}"{dash_attr}/>'
            f'<text x="{at + shift}" y="{_TOP - 16 + 10 * (n % 2)}" text-anchor="{anchor}" '
            f'fill="{colour}" font-weight="700">{escape(label)}</text>')
    return parts


def _legend(series) -> list[str]:
    parts: list[str] = []
    left: float = _LEFT
    for (words, colour, dash), (times, total, unit) in series:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        text = f"{words} ({len(times)} of {total} {unit})" if total else f"{words} (none)"
        parts.append(f'<line x1="{left}" y1="{_H - 8}" x2="{left + 26}" y2="{_H - 8}" '
                     f'stroke="{colour}" stroke-width="2.2"{dash_attr}/>'
                     f'<text x="{left + 31}" y="{_H - 4.5}">{escape(text)}</text>')
        left += 50 + 5.2 * len(text)
    return parts
