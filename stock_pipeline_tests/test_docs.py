"""The documentation stays true to the tree: a README that fits on a screen, and no link or
path in README.md, BENCHMARKS.md or docs/*.md that leads nowhere after code moves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 220

# [text](target) and ![alt](target); targets with a scheme or mail address are not files.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# A path into the project, as written in prose or code: stock_pipeline/x/y.py, deploy/…/*.service.
PACKAGE_PATH = re.compile(r"(?<![\w./-])((?:stock_pipeline(?:_tests)?|deploy|bench)/[\w./*@-]*)")
# Dagster tags are spelled like paths ("stock_pipeline/interval"); the code defines them.
TAG_LITERAL = re.compile(r"[\"'](stock_pipeline/[\w-]+)[\"']")


def _documents() -> list[Path]:
    return [README, ROOT / "BENCHMARKS.md", *DOCS]


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"#{1,6}\s+(.*)", line)):
            anchors.add(_slug(match.group(1)))
    return anchors


def _dagster_tags() -> set[str]:
    return {
        tag
        for source in (ROOT / "stock_pipeline").rglob("*.py")
        for tag in TAG_LITERAL.findall(source.read_text())
    }


def _broken_links(doc: Path) -> list[str]:
    broken = []
    for target in LINK.findall(doc.read_text()):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


def test_readme_fits_on_a_screen() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines (at most {MAX_README_LINES}): move reference "
        f"material into docs/<topic>.md and link it"
    )


@pytest.mark.parametrize("doc", _documents(), ids=_ids(_documents()))
def test_every_relative_link_resolves(doc: Path) -> None:
    assert _broken_links(doc) == []


@pytest.mark.parametrize("doc", _documents(), ids=_ids(_documents()))
def test_every_package_path_exists(doc: Path) -> None:
    tags = _dagster_tags()
    missing = [
        path
        for path in sorted(set(PACKAGE_PATH.findall(doc.read_text())))
        if path.rstrip(".") not in tags and not any(ROOT.glob(path.rstrip(".")))
    ]
    assert missing == [], f"{doc.name} names paths that do not exist: {missing}"


def test_every_docs_file_is_linked_from_the_readme() -> None:
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in LINK.findall(README.read_text())
        if not EXTERNAL.match(target)
    }
    unlinked = [str(doc.relative_to(ROOT)) for doc in DOCS if doc.resolve() not in linked]
    assert unlinked == [], f"docs files the README does not link to: {unlinked}"


def test_the_picture_names_every_package() -> None:
    """The README's layer diagram lists exactly the packages the tree has, and only its modules."""
    text = README.read_text()
    start = text.index("## The picture")
    diagram = text[
        text.index("```text", start) : text.index("```\n", text.index("```text", start) + 7)
    ]
    drawn = set(re.findall(r"(?<![\w/])([a-z_]+(?:/[a-z_]+)?)/", diagram))
    package = ROOT / "stock_pipeline"
    packages = {
        str(init.parent.relative_to(package))
        for init in package.rglob("__init__.py")
        if "__pycache__" not in init.parts and init.parent != package
    }
    assert drawn == packages
    modules = {f.stem for f in package.rglob("*.py")}
    listed: dict[str, set[str]] = {}
    current, column = "", -1
    for line in diagram.splitlines():
        head = re.match(
            r"(\s*(?:[A-Za-z/ -]+?\s{2,})?)([a-z_]+(?:/[a-z_]+)?)/(\s+)([a-z_ ]+)$", line
        )
        if head and head.group(2) in packages:
            current = head.group(2)
            column = len(head.group(1)) + len(head.group(2)) + 1 + len(head.group(3))
            listed.setdefault(current, set()).update(head.group(4).split())
        elif (
            current
            and "/" not in line[:column]
            and line[column - 1 : column] == " "
            and re.fullmatch(r"[a-z_][a-z_ ]*", line[column:])
        ):
            listed[current].update(line[column:].split())
        else:
            current = ""
    assert {"defs", "domain", "yahoo", "warehouse"} <= listed.keys()
    for name, names in listed.items():
        assert names <= modules, f"{name}/ lists {sorted(names - modules)}: not modules"


def test_docs_exist() -> None:
    """The checks above pass vacuously on an empty docs/ folder; this one cannot."""
    assert {doc.name for doc in DOCS} >= {
        "cli.md",
        "python-api.md",
        "operations.md",
        "deployment.md",
        "testing.md",
        "troubleshooting.md",
        "from-celery.md",
    }


def test_the_checkers_catch_what_they_are_for(tmp_path: Path) -> None:
    """A bad link, a missing heading and a moved module are each reported."""
    doc = tmp_path / "bad.md"
    (tmp_path / "other.md").write_text("# Real heading\n")
    doc.write_text(
        "[gone](nowhere.md) [anchor](other.md#no-such-heading) [ok](other.md#real-heading)\n"
    )
    assert [b.split(":")[0] for b in _broken_links(doc)] == [
        "nowhere.md",
        "other.md#no-such-heading",
    ]
    found = PACKAGE_PATH.findall("see `stock_pipeline/warehouse.py`, then stock_pipeline/defs/.")
    assert found == ["stock_pipeline/warehouse.py", "stock_pipeline/defs/."]
    assert not (ROOT / found[0]).exists()
    assert (ROOT / found[1].rstrip(".")).exists()
    assert _slug("`chart` — charts from the warehouse") == "chart--charts-from-the-warehouse"


LAYERED = ["defs", "defs/assets", "reporting", "services", "yahoo", "warehouse", "domain"]


@pytest.mark.parametrize("package", LAYERED)
def test_the_readme_layer_diagram_names_every_module(package: str) -> None:
    """The diagram under "The picture" is the map a newcomer reads: a module added to
    a layer and missing from it is a room left off the plan."""
    text = README.read_text()
    diagram = text[text.index("```text", text.index("## The picture")) :]
    diagram = diagram[: diagram.index("```", len("```text"))]
    words = set(re.findall(r"[\w]+", diagram))
    modules = {
        p.stem for p in (ROOT / "stock_pipeline" / package).glob("*.py") if p.stem != "__init__"
    }
    assert modules - words == set(), f"stock_pipeline/{package}/ modules missing from README"
