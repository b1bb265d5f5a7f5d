"""The printable drill report: well-formed HTML, a chart that parses as SVG, every typed
text escaped, and (where Chromium is installed) a page that renders to a picture."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import uuid
import xml.etree.ElementTree as ET
import zlib
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from msgspec.structs import replace

from api.rendering.report_html import render
from api.rendering.report_text import NEVER, duration, figures, to_terminal
from api.usecases.drill_record import EventReport, SchoolRef
from domain.after_action import (
    AfterActionRevision,
    During,
    Observer,
    Participants,
    ProblemFound,
    ProblemKind,
)
from domain.checkins import CheckIn, CheckInStatus
from domain.events import Event
from domain.schools import Room
from domain.srp import Action, EventStatus
from domain.timing import (
    Acknowledgement,
    ActionTaken,
    SentMessage,
    TimingFacts,
    timing_record,
)

T0 = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
PRINCIPAL, TEACHER = uuid.UUID(int=1), uuid.UUID(int=2)
HOSTILE = '<script>alert("x")</script> & <b onmouseover=1>'
SVG = "{http://www.w3.org/2000/svg}"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sample(rooms: int = 60, *, active: bool = False, notes: bool = True,
           name: str = "Science Lab", person: str = "Ana Reyes",
           room_note: str = "Two students hurt, need nurse.", alerts: int = 70,
           handed_off: bool = True) -> EventReport:
    """A lockdown drill at a school of `rooms` rooms: `alerts` alerts handed off in the
    first 3 s, most rooms reporting within 4 min (those needing help with `room_note`),
    an escalation to evacuate at 2:30, all-clear at 8 min."""
    school_rooms = [Room(id=uuid.UUID(int=1000 + n), code=f"B-{100 + n}", name=f"{name} {n}")
                    for n in range(rooms)]
    checkins = [CheckIn(
        id=uuid.uuid4(), event_id=uuid.UUID(int=9), room_id=room.id, client_id=uuid.uuid4(),
        status=CheckInStatus.NEEDS_HELP if n % 11 == 3 else CheckInStatus.OK,
        students_present=20 + n % 9, students_missing=1 if n % 11 == 3 else 0,
        note=room_note if n % 11 == 3 else None, observed_at=at(25 + 4 * n),
        received_at=at(26 + 4 * n), reported_by=TEACHER)
        for n, room in enumerate(school_rooms) if n % 13 != 5]
    people = [uuid.UUID(int=100 + n) for n in range(alerts)]
    messages = [SentMessage(user_id=p, kind="alert", failed=False,
                            handed_off_at=at(0.4 + n * 0.04) if handed_off else None)
                for n, p in enumerate(people)]
    acks = [Acknowledgement(user_id=p, at=at(6 + n * 1.7)) for n, p in enumerate(people[:50])]
    ended = None if active else at(480)
    event = Event(id=uuid.UUID(int=9), school_id=uuid.UUID(int=8), action=Action.EVACUATE,
                  drill=True, status=EventStatus.ACTIVE if active else EventStatus.ALL_CLEAR,
                  message=None, directive="To the football field.", location="Football field",
                  hazard=None, strategy=None, started_at=T0, started_by=PRINCIPAL,
                  ended_at=ended, ended_by=None if active else PRINCIPAL,
                  end_reason=None if active else "Drill complete")
    facts = TimingFacts(rooms=school_rooms, checkins=checkins, messages=messages,
                        acknowledgements=acks,
                        actions=[ActionTaken(at=T0, action=Action.LOCKDOWN),
                                 ActionTaken(at=at(150), action=Action.EVACUATE)])
    after_action = AfterActionRevision(
        scheduled_at=T0 - timedelta(minutes=5), during=During.INSTRUCTION,
        participants=Participants(students=1180, staff=70),
        observers=[Observer(name=person, agency="Riverbend FD", role="Fire marshal",
                            certification="TCFP 4471")],
        notification_method="PA and Muster push",
        problems=[ProblemFound(kind=ProblemKind.DOOR_WOULD_NOT_LOCK, detail="B-114 latch"),
                  ProblemFound(kind=ProblemKind.OTHER, detail=f"{person} line 1\nline 2")],
        lessons_learned="Check the B wing latches.", report=f"Completed. {person}",
        revision=2, edited_by=PRINCIPAL, edited_at=at(3600)) if notes else None
    return EventReport(
        event=event, school=SchoolRef(id=event.school_id, name=f"Riverbend High {name}",
                                      timezone="America/Chicago"),
        partial=active, computed_at=at(200) if active else at(480),
        timing=timing_record(event, facts, now=at(200)), after_action=after_action,
        people={PRINCIPAL: person, TEACHER: "Sam Ortiz"})


class _Tags(HTMLParser):
    """Every element, and whether the start and end tags balance."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input", "path", "line", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: list[tuple[str, dict]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def parse(page: str) -> _Tags:
    tags = _Tags()
    tags.feed(page)
    tags.close()
    return tags


def svg_of(page: str) -> ET.Element:
    start, stop = page.index("<svg"), page.index("</svg>") + len("</svg>")
    return ET.fromstring(page[start:stop])


@pytest.mark.parametrize("report", [sample(), sample(5, active=True, notes=False),
                                    sample(0, notes=False)], ids=["60-rooms", "active", "none"])
def test_the_page_is_balanced_html_without_scripts_or_remote_resources(report) -> None:
    """Every element is closed, nothing runs and nothing is fetched."""
    tags = parse(render(report))
    assert (tags.errors, tags.open) == ([], [])
    assert not [t for t, _ in tags.seen if t in ("script", "iframe", "img", "link", "object")]
    assert not [a for _, attrs in tags.seen for k, a in attrs.items()
                if k.startswith("on") or (k in ("src", "href") and a)]


def test_the_chart_is_svg_with_three_curves_markers_and_labelled_axes() -> None:
    """Rooms, alerts and acknowledgements curves; lockdown, evacuate and all-clear markers;
    ticks in seconds since the start, and a legend with counts."""
    svg = svg_of(render(sample()))
    assert svg.get("viewBox") == "0 0 720 186" and svg.find(f"{SVG}title") is not None
    assert len(svg.findall(f"{SVG}path")) == 3
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"lockdown", "evacuate", "all clear"} <= set(texts)
    assert {"0:00", "0 %", "50 %", "100 %", "1:00", "8:00"} <= set(texts)
    assert "Rooms reported (55 of 60 rooms)" in texts
    assert "Acknowledged (50 of 70 people)" in texts


def test_a_school_without_rooms_or_alerts_still_draws_axes() -> None:
    """No data: no curves, but axes, the end marker and a legend saying none."""
    svg = svg_of(render(sample(0, notes=False)))
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert len(svg.findall(f"{SVG}path")) == 2  # alerts and acknowledgements, no rooms
    assert "Rooms reported (none)" in texts and "all clear" in texts


def test_every_typed_text_is_escaped() -> None:
    """Room names, people's names, notes, rooms' notes and the school name cannot inject
    markup."""
    page = render(sample(4, name=HOSTILE, person=HOSTILE, room_note=HOSTILE))
    assert "<script" not in page and "<b onmouseover" not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 8
    assert parse(page).errors == []


def test_the_partial_banner_and_now_marker_show_only_while_active() -> None:
    """An active event's page says it is partial and marks now on the chart; an ended
    one's does neither."""
    active, ended = render(sample(5, active=True)), render(sample(5))
    assert "IN PROGRESS" in active and "IN PROGRESS" not in ended
    assert "now" in [t.text for t in svg_of(active).iter(f"{SVG}text")]
    assert "now" not in [t.text for t in svg_of(ended).iter(f"{SVG}text")]


def test_many_rooms_go_in_two_tables_to_fit_the_page() -> None:
    """55 rooms reported: two side-by-side tables; 10 rooms: one table."""
    def tables(report: EventReport) -> int:
        return sum(t == "table" for t, _ in parse(render(report)).seen)

    assert tables(sample(60, notes=False)) == 2
    assert tables(sample(10, notes=False)) == 1


class _Text(HTMLParser):
    """The words a reader sees: the body's text, without the style sheet or the chart."""

    def __init__(self) -> None:
        super().__init__()
        self.skipping = 0
        self.words: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in ("style", "svg")

    def handle_endtag(self, tag):
        self.skipping -= tag in ("style", "svg")

    def handle_data(self, data):
        if not self.skipping:
            self.words.append(data)


def text_of(page: str) -> str:
    reader = _Text()
    reader.feed(page)
    return " ".join(" ".join(reader.words).split())


def test_each_rooms_note_shows_under_its_room() -> None:
    """A room's note (from its current report) is on the page right after the room."""
    text = text_of(render(sample(12)))
    assert text.count("Two students hurt, need nurse.") == 1  # B-103's (B-114 is the 15th)
    assert text.index("B-103") < text.index("Two students hurt") < text.index("B-104")


def test_unreported_rooms_are_listed_once() -> None:
    """A room that never reported shows once (in the unreported list), every other room
    once (in the table)."""
    report = sample(60, notes=False)
    page = text_of(render(report))
    assert len(report.timing.unreported_rooms) == 5
    for room in report.timing.rooms:
        assert page.count(f"{room.code} ") == 1, room.code


def test_a_room_named_by_its_code_shows_it_once() -> None:
    """A school that named its rooms "Gym" (code) "Gym" (name) reads "Gym", in the table
    and in the list of unreported rooms."""
    report = sample(14, name="Gym")
    rooms = [replace(r, name=r.code) for r in report.timing.rooms]
    unreported = [replace(r, name=r.code) for r in report.timing.unreported_rooms]
    page = text_of(render(replace(report, timing=replace(
        report.timing, rooms=rooms, unreported_rooms=unreported))))
    assert "B-100 B-100" not in page and "B-105 B-105" not in page
    assert page.count("B-100") == page.count("B-105") == 1


SECONDS_WITH_UNIT = re.compile(r"\d s\b")


@pytest.mark.parametrize("report", [sample(), sample(5, active=True)], ids=["ended", "active"])
def test_every_duration_reads_m_ss(report) -> None:
    """One way to write a duration, on the page, in the chart and in the terminal: m:ss
    (h:mm:ss from an hour), never "25.0 s" beside "2:33"."""
    page = render(report)
    for text in (text_of(page), " ".join(t.text or "" for t in svg_of(page).iter(f"{SVG}text")),
                 to_terminal(report)):
        assert not SECONDS_WITH_UNIT.findall(text), SECONDS_WITH_UNIT.findall(text)
    assert "0:25" in text_of(render(sample()))  # the first room, at 25 s


@pytest.mark.parametrize(("seconds", "words"), [
    (0, "0:00"), (0.5, "0:01"), (2.5, "0:03"), (59.4, "0:59"), (59.5, "1:00"), (61, "1:01"),
    (599.5, "10:00"), (3599.4, "59:59"), (3600, "1:00:00"), (3661, "1:01:01"),
    (36000, "10:00:00")])
def test_durations_are_whole_seconds_as_m_ss_or_h_mm_ss(seconds, words) -> None:
    """m:ss to the nearest second (half up), h:mm:ss from an hour."""
    assert duration(seconds) == words


WHY = {
    "no-rooms": (sample(0, notes=False), {
        "First room reported": "no rooms on record", "All rooms reported": "no rooms on record"}),
    "not-all-reported": (sample(60), {"All rooms reported": "not reached"}),
    "active": (sample(60, active=True), {
        "All rooms reported": "not yet", "Duration": "event still active"}),
    "nobody-alerted": (sample(5, alerts=0), {
        "First alert handed off": "no alerts sent", "Acknowledged by 1:00":
        "nobody was alerted"}),
    "never-handed-off": (sample(5, handed_off=False), {
        "First alert handed off": "none handed off",
        "Last alert handed off": "none handed off"}),
}


@pytest.mark.parametrize("case", WHY)
def test_a_figure_that_is_not_available_says_why(case) -> None:
    """No figure is a bare dash: one that did not happen says why in words, on the page
    and in the terminal."""
    report, expected = WHY[case]
    shown = {f.label: f.value for f in figures(report.timing)}
    assert NEVER not in shown.values()
    assert {label: shown[label] for label in expected} == expected
    page, text = render(report), to_terminal(report)
    for words in expected.values():
        assert words in page and words in text


def test_the_printed_copy_has_a_reviewed_by_block() -> None:
    """The page ends with lines for the reviewer's name, signature and date, printed (and
    kept together on one page)."""
    page = render(sample())
    signoff = page[page.index('<section class="signoff"'):]
    assert "Reviewed by" in signoff
    assert all(line in text_of(signoff) for line in ("Name", "Signature", "Date"))
    assert ".signoff" in page[page.index("@media print"):page.index("</style>")]


def test_after_action_notes_are_on_the_page() -> None:
    """Scheduled vs actual, observers, problems, lessons, the report and the revision."""
    page = render(sample())
    for words in ("started 5:00 after that", "1180 students, 70 staff", "TCFP 4471",
                  "door would not lock", "B-114 latch", "Check the B wing latches.",
                  "revision 2, by Ana Reyes"):
        assert words in page, words


def test_the_terminal_table_lists_figures_and_every_room() -> None:
    """`muster report` prints the figures, one line per room and the rooms' notes."""
    text = to_terminal(sample(12))
    assert "Evacuate drill at Riverbend High Science Lab: all_clear" in text
    assert "Acknowledged by 1:00" in text and "8:00" in text
    assert sum(line.startswith("B-1") for line in text.splitlines()) == 12
    assert "Unreported: B-105 (Science Lab 5)" in text
    assert "  B-103  Two students hurt, need nurse." in text


def test_the_terminal_prints_no_control_characters() -> None:
    """A note typed with a line break or a terminal escape stays on its line and cannot
    drive the operator's terminal."""
    text = to_terminal(sample(12, room_note="hurt\nB-999 fine\x1b[2J"))
    assert "\x1b" not in text and "hurt B-999 fine [2J" in text


def _png_pixels_vary(png: bytes) -> bool:
    """Whether a PNG's decoded rows hold more than one byte value (it is not blank)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(data))) > 16


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Defined only where Debian's chromium is installed (the CI machine has it; see README).
if Path(CHROMIUM).exists():

    def test_chromium_renders_the_page_to_a_picture(tmp_path) -> None:
        """Headless Chromium renders the page (60 rooms, notes) to a non-blank screenshot."""
        page, shot = tmp_path / "report.html", tmp_path / "report.png"
        page.write_text(render(sample()))
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
            check=True, capture_output=True, timeout=120)
        assert _png_pixels_vary(shot.read_bytes())

    # Run in a copy of the page only (the page itself has no script), in a frame of the
    # width under test (headless Chromium's window is never narrower than 500 px): what is
    # wider than its box (cut off or spilling over), and whether the page is wider than
    # the frame.
    _MEASURE = """<script>
    const cut = [...document.querySelectorAll("td, th, li, dd, .figure, h1, h2")]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.slice(0, 40));
    parent.document.body.dataset.layout = JSON.stringify(
        {cut, wide: document.documentElement.scrollWidth > innerWidth, width: innerWidth});
    </script></body>"""

    @pytest.mark.parametrize("width", [360, 740, 1280])
    def test_nothing_is_cut_off_or_spills_over(tmp_path, width) -> None:
        """On a 360 px phone, at the width of a printed Letter page (740 px) and on a
        1280 px screen: long room names and reporters wrap, no cell is cut off, and the
        page is no wider than its window."""
        long = sample(60, name="Biology and Environmental Science Laboratory Annex",
                      person="Maria-Guadalupe Fernández-Villanueva de la Cruz")
        framed = html.escape(render(long).replace("</body>", _MEASURE))
        page = tmp_path / "framed.html"
        page.write_text(f'<!DOCTYPE html><body style="margin: 0"><iframe srcdoc="{framed}" '
                        f'style="border: 0; width: {width}px; height: 3000px"></iframe></body>')
        dom = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
             "--dump-dom", f"--window-size={max(width, 500)},2000", page.as_uri()],
            check=True, capture_output=True, timeout=120, text=True).stdout
        layout = json.loads(html.unescape(re.search(r'data-layout="([^"]*)"', dom)[1]))
        assert layout == {"cut": [], "wide": False, "width": width}
