"""The documentation stays true to the repository: every path and link it gives exists,
nothing in the repository cites a file that is not in it (a reader of a checkout cannot
open it), and every setting Muster reads is documented in docs/operations.md."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import _TEST_ONLY, PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SCANNED_SUFFIXES = {".py", ".md", ".toml", ".sql", ".yaml", ".yml", ".json", ".txt", ""}
TOP_LEVEL = ("api/", "bench/", "db/", "docs/", "domain/", "notifications/", "openapi/",
             "tests/", ".ci/")

# Design notes that live outside the repository, and paths that lead out of it. Split so
# that this file does not match itself.
OUTSIDE_NAMES = ["API", "PRODUCT", "ARCHITECTURE", "STYLE"]
OUTSIDE = re.compile(
    r"\b(?:" + "|".join(OUTSIDE_NAMES) + r")\.md\b|\bSTACK-" + r"NOTES\b"
    r"|(?:\.\./)+shared/|/work/" + r"shared\b")

FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


def repository_files() -> Iterator[Path]:
    """The project's text files: those git tracks or would track (not ignored), or, in a
    copy without git, every file outside hidden and generated directories."""
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                                cwd=ROOT, capture_output=True, check=True).stdout
        paths = [ROOT / name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*") if not any(
            (part.startswith(".") and part != ".ci") or part.endswith(".egg-info")
            or part == "__pycache__" for part in p.relative_to(ROOT).parts)]
    for path in paths:
        if path.is_file() and path.suffix in SCANNED_SUFFIXES:
            yield path


def prose(doc: Path) -> str:
    """A document without its fenced code blocks (shell comments are not headings)."""
    return FENCE.sub("", doc.read_text())


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    return {anchor(h) for h in HEADING.findall(prose(doc))}


def test_nothing_cites_a_file_outside_the_repository() -> None:
    """Code comments, docstrings, tests and docs cite the repository's own docs."""
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in repository_files() if path != Path(__file__).resolve()
             for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
             if OUTSIDE.search(line)]
    assert not found, "cites a file outside the repository (cite docs/... instead):\n" + \
        "\n".join(found)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_lead_to_what_exists(doc: Path) -> None:
    """Every relative link resolves to a file of the repository (and to a heading of it,
    when it names one)."""
    broken = []
    for target in LINK.findall(prose(doc)):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        path_part, _, fragment = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(f"{target}: no such file in the repository")
        elif fragment and path.suffix == ".md" and fragment not in anchors(path):
            broken.append(f"{target}: no heading #{fragment} in {path.relative_to(ROOT)}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_paths_named_in_docs_exist(doc: Path) -> None:
    """A repository path written as code (`api/http/serving.py`, `db/migrations/*.sql`) exists;
    placeholders (`NNNN`, `{id}`, `<dir>`) are not paths."""
    missing = []
    for code in INLINE_CODE.findall(prose(doc)):
        if not code.startswith(TOP_LEVEL) or re.search(r"[{}<>\s]|NNNN", code):
            continue
        if not any(ROOT.glob(code.rstrip("/"))):
            missing.append(code)
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


def test_every_setting_is_documented() -> None:
    """Each `MUSTER_*` variable that api/settings.py reads (one per Settings field, plus
    the test suite's own) is in the settings table of docs/operations.md."""
    text = (ROOT / "docs" / "operations.md").read_text()
    variables = {PREFIX + field.upper() for field in Settings.__struct_fields__} | _TEST_ONLY
    undocumented = sorted(v for v in variables if f"`{v}`" not in text)
    assert not undocumented, f"not in docs/operations.md: {undocumented}"


def test_the_checks_catch_what_they_should() -> None:
    """The patterns above are not vacuous: an outside citation and a heading match."""
    assert OUTSIDE.search("see " + "PRODUCT" + ".md's table")
    assert OUTSIDE.search("(../../shared/design/x.md)")
    assert not OUTSIDE.search("docs/records.md, openapi/openapi.json")
    assert anchor("Security: what the `tests` check") == "security-what-the-tests-check"
