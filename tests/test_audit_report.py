"""The audit report: JSON, CSV, and an HTML page that renders with its charts in headless Chromium."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from anchor.audit import charts, check_consistency, find, replay, write_report
from anchor.audit.findings import EXPLANATIONS
from anchor.audit.report import ReportFiles
from anchor.audit.snapshot import Batch, Party, RecognitionEntry, Snapshot
from anchor.doctypes import DOCUMENT_TYPES, mask_of
from tests.test_audit_support import Scenario, scenario

__all__ = ["scenario"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def report(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    snap = replay(scenario.source, scenario.blocks["end"])
    consistency = check_consistency(scenario.source, snap)
    findings = find(snap, consistency=consistency, window=3600)
    # A fixed generation time (that of the ledger), so that nothing here depends on the wall clock.
    out = tmp_path_factory.mktemp("report")
    return write_report(out, snap, findings, consistency, generated_at=snap.block_time)


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_report_json_holds_state_findings_and_tables(scenario: Scenario, report: ReportFiles) -> None:
    data = json.loads(report.json.read_text())
    assert data["block"] == scenario.blocks["end"] and data["digest"].startswith("sha256:")
    assert data["summary"]["batches"] == 14 and data["summary"]["consistent"] is True
    assert data["summary"]["documentsEndorsed"] == 2 and data["summary"]["consumerAccounts"] == 2
    assert data["consistency"]["ok"] and data["consistency"]["calls"] > 100
    kinds = {f["kind"] for f in data["findings"]}
    assert {"backdated-revocation", "anchored-before-suspension", "governance-execution"} <= kinds
    assert all(f["explanation"] for f in data["findings"])
    assert set(data["tables"]) >= {
        "parties",
        "cas",
        "issuers",
        "batches",
        "documents",
        "recognition_changes",
        "findings",
        "endorsements",
        "consumer_accounts",
        "admin_change_requests",
        "one_time_types",
    }
    assert data["state"]["recognition"]["TH"]["SG"] == ["cites-permit"]
    assert data["state"]["oneTimeTypes"] == ["cites-permit", "cites-certificate"]


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_endorsement_and_consumer_tables(scenario: Scenario, report: ReportFiles) -> None:
    tables = json.loads(report.json.read_text())["tables"]
    endorsements = tables["endorsements"]
    rows = [dict(zip(endorsements["columns"], r, strict=True)) for r in endorsements["rows"]]
    q0 = scenario.batches["Q0"]
    by_leaf = {r["document (leaf)"]: r for r in rows}
    used, partial = by_leaf["0x" + q0.leaf(0).hex()], by_leaf["0x" + q0.leaf(1).hex()]
    assert used["amounts"] == "3 + 2 + 5" and used["endorsed so far"] == used["quantity"] == 10
    assert used["remaining"] == 0 and used["used up"] != "no" and used["consumer"] == "TH"
    assert (partial["endorsed so far"], partial["quantity"], partial["remaining"], partial["used up"]) == (
        3,
        8,
        5,
        "no",
    )
    assert used["issuing account"].lower() == scenario.issuers["A"].address.lower()
    consumers = tables["consumer_accounts"]
    rows = [dict(zip(consumers["columns"], r, strict=True)) for r in consumers["rows"]]
    my = scenario.accounts["MY-consumer"].address
    assert [(r["party"], r["consumer now"]) for r in rows if r["account"] == my] == [
        ("MY", "no"),
        ("MY", "yes"),
    ]
    assert rows[[r["account"] for r in rows].index(my)]["revoked"]  # dropped when MY was removed
    cas = tables["cas"]
    assert {r[cas["columns"].index("proof of possession")] for r in cas["rows"]} == {"valid"}


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_every_table_is_exported_as_csv(report: ReportFiles) -> None:
    data = json.loads(report.json.read_text())
    assert {p.stem for p in report.csv} == set(data["tables"])
    for path in report.csv:
        with path.open() as f:
            rows = list(csv.reader(f))
        table = data["tables"][path.stem]
        assert rows[0] == table["columns"] and len(rows) - 1 == len(table["rows"])
    with (report.directory / "csv" / "batches.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 14


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_html_is_self_contained_and_plain(report: ReportFiles) -> None:
    page = report.html.read_text()
    assert "<script" not in page and "<link" not in page and "<img" not in page
    # Only XML namespace declarations may name a URL; links stay inside the report directory.
    urls = set(re.findall(r"https?://[^\"'\s<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    for href in re.findall(r"href=['\"]([^'\"]*)['\"]", page):
        assert href.startswith(("#", "csv/", "data:image/png;base64,")) or href == "report.json", href[:40]
    assert page.count("<svg") == 4
    for heading in (
        "In short",
        "What needs attention",
        "Who recognizes whom",
        "Documents registered",
        "How this audit was made",
    ):
        assert heading in page
    assert "revoked with an effective time in the past" in page
    for title in ("Endorsements", "Consumer accounts", "Admin change requests", "One-time (consumable)"):
        assert title in page


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_same_snapshot_gives_the_same_charts(scenario: Scenario, report: ReportFiles, tmp_path: Path) -> None:
    snap = replay(scenario.source, scenario.blocks["end"])
    again = write_report(tmp_path, snap, find(snap, window=3600), None, generated_at=snap.block_time)
    svgs = re.findall(r"<svg.*?</svg>", report.html.read_text(), re.S)
    assert svgs == re.findall(r"<svg.*?</svg>", again.html.read_text(), re.S)


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_report_for_an_empty_registry(scenario: Scenario, tmp_path: Path) -> None:
    snap = replay(scenario.source, scenario.blocks["deployed"])
    files = write_report(
        tmp_path, snap, find(snap), check_consistency(scenario.source, snap), generated_at=snap.block_time
    )
    page = files.html.read_text()
    assert "No documents have been anchored yet." in page and "Nothing needs attention." in page


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_html_renders_with_charts_in_headless_chromium(report: ReportFiles) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (Debian chromium + chromium-driver), cannot render")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1280,2000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get(report.html.as_uri())
        assert driver.title == "Audit of the Trust Anchor registries"
        charts = driver.find_elements(By.CSS_SELECTOR, "figure.chart svg")
        assert len(charts) == 4
        for svg in charts:
            assert svg.is_displayed()
            assert svg.size["width"] > 200 and svg.size["height"] > 50
            # Drawn content, not an empty frame.
            assert len(svg.find_elements(By.CSS_SELECTOR, "path")) > 10
        headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
        assert headings[:3] == ["In short", "What needs attention", "Who takes part"]
        findings = driver.find_elements(By.CSS_SELECTOR, ".finding")
        assert len(findings) >= 4 and all(f.is_displayed() for f in findings)
        assert driver.find_element(By.CSS_SELECTOR, ".verdict.ok").is_displayed()
    finally:
        driver.quit()


# ---------------------------------------------------------------- charts and page details (issue #12)

T0 = 1_767_225_600  # 2026-01-01 00:00:00 UTC


def _snapshot(parties: list[str], block_time: int = T0 + 3_600) -> Snapshot:
    s = Snapshot(
        chain_id=31337, trust_registry="0x" + "11" * 20, document_registry="0x" + "22" * 20, deploy_block=1
    )
    s.party_order = list(parties)
    s.parties = {p: Party(p) for p in parties}
    s.block, s.block_time = 10, block_time
    return s


def _recognize(s: Snapshot, recognizer: str, recognized: str, types: list[str], at: int = T0) -> None:
    s.recognition.setdefault((recognizer, recognized), []).append(
        RecognitionEntry(doc_types=mask_of(types), old_doc_types=0, effective_at=at, recorded_at=at, block=2)
    )


def _anchor(s: Snapshot, at: int, party: str = "SG", size: int = 3) -> None:
    root = len(s.batches).to_bytes(32, "big")
    issuer = "0x" + "aa" * 20
    s.batches[(issuer, root)] = Batch(root, issuer, party, 0, size, at, 2 + len(s.batches))


def _drawn(fig: Figure | None) -> Figure:
    assert fig is not None
    FigureCanvasAgg(fig).draw()
    return fig


def _inside(inner: Bbox, outer: Bbox, slack: float = 0.5) -> bool:
    return (
        inner.x0 >= outer.x0 - slack
        and inner.y0 >= outer.y0 - slack
        and inner.x1 <= outer.x1 + slack
        and inner.y1 <= outer.y1 + slack
    )


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_recognition_grid_labels_are_whole_and_fit(scenario: Scenario) -> None:
    long = [
        "certificate-of-origin",
        "phytosanitary-certificate",
        "veterinary-certificate",
        "customs-declaration",
    ]
    s = _snapshot(["SG", "TH", "MY"])
    _recognize(s, "SG", "TH", long)
    _recognize(s, "TH", "SG", ["cites-permit", "cites-certificate"])
    _recognize(s, "MY", "SG", list(DOCUMENT_TYPES))
    replayed = replay(scenario.source, scenario.blocks["end"])
    for snap in (s, replayed):
        fig = _drawn(charts.recognition_grid_figure(snap))
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        [ax] = [a for a in fig.axes if a.get_label() != "<colorbar>"]
        legend = {}
        for text in fig.texts:  # "CODE = name" lines under the grid
            for line in text.get_text().splitlines():
                code, name = line.split(" = ")
                legend[code] = name
        assert set(legend.values()) <= set(DOCUMENT_TYPES)  # whole names, none cut short
        for text in ax.texts:
            x, y = text.get_position()
            (x0, y0), (x1, y1) = ax.transData.transform([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)])
            cell = Bbox.from_extents(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            assert _inside(text.get_window_extent(renderer), cell), text.get_text()
            for token in text.get_text().replace(",", " ").split():
                assert token in legend or token in {"self", "none", "all"} or token.startswith("+"), token
        # Every tick label and the legend lie inside the figure as saved (its tight bounding box).
        saved = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
        labels = [*ax.get_xticklabels(), *ax.get_yticklabels(), *fig.texts]
        assert labels and all(_inside(t.get_window_extent(renderer), saved) for t in labels)
        if snap is s:
            assert legend["COO"] == "certificate-of-origin" and len(legend) == len(DOCUMENT_TYPES)
            assert "certificate-of" not in [t.get_text() for t in ax.texts]


def test_recognition_lines_are_told_apart_when_they_coincide() -> None:
    s = _snapshot(["SG", "TH", "MY"])
    for r, i in (("SG", "TH"), ("TH", "SG"), ("MY", "SG"), ("SG", "MY")):
        _recognize(s, r, i, ["cites-permit"])  # four identical histories
    fig = _drawn(charts.recognition_history_figure(s))
    [ax] = fig.axes
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert len(lines) == 4
    styles = {(line.get_color(), line.get_linestyle(), line.get_marker()) for line in lines}
    assert len(styles) == 4
    # Each of colour, dash style and marker differs between every two of them.
    for attr in ("get_color", "get_linestyle", "get_marker"):
        assert len({getattr(line, attr)() for line in lines}) == 4, attr
    # Equal values are drawn side by side, not on top of one another.
    assert len({tuple(line.get_ydata()) for line in lines}) == 4
    assert len({charts.series_style(n) for n in range(56)}) == 56


def test_documents_chart_buckets_follow_the_span() -> None:
    assert charts.bucket_for(T0, T0 + 10 * 60)[1] == "minute"
    assert charts.bucket_for(T0, T0 + 3 * 3_600)[1] == "5 minutes"
    assert charts.bucket_for(T0, T0 + 30 * 3_600)[1] == "hour"
    assert charts.bucket_for(T0, T0 + 20 * 86_400)[1] == "day"
    assert charts.bucket_for(T0, T0 + 400 * 86_400)[1] == "week"
    s = _snapshot(["SG", "TH"])
    for minute in (0, 2, 3, 9):  # a history of a few minutes, all on one day
        _anchor(s, T0 + 60 * minute + 5, party="SG" if minute % 2 else "TH")
    fig = _drawn(charts.anchored_figure(s))
    [ax] = fig.axes
    heights: dict[float, float] = {}
    for bar in ax.patches:
        heights[bar.get_x()] = heights.get(bar.get_x(), 0) + bar.get_height()  # type: ignore[attr-defined]
    assert len(heights) == 10 and sum(1 for h in heights.values() if h) == 4
    assert "minute" in ax.get_xlabel() and "per minute" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["00:00", "00:01"]
    assert charts.anchored_figure(_snapshot(["SG"])) is None


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_replaced_by_names_the_successor(scenario: Scenario, report: ReportFiles) -> None:
    table = json.loads(report.json.read_text())["tables"]["documents"]
    rows = [dict(zip(table["columns"], r, strict=True)) for r in table["rows"]]
    replaced = [r for r in rows if r["replaced"]]
    assert replaced
    for r in replaced:
        words = r["replaced by"]
        issuer, root, leaf = r["replaced by (issuer/root/leaf)"].split("/")
        assert words.startswith(f"leaf {leaf[:10]}…{leaf[-4:]}")
        assert (
            "same batch" in words
            if root == r["batch root"]
            else f"of batch {root[:10]}…{root[-4:]} (SG" in words
        )
    # People read the words; the full identifiers are for machines (CSV, JSON), not in the page.
    page = report.html.read_text()
    assert "replaced by (issuer/root/leaf)" not in page and replaced[0]["replaced by"] in page


def test_replaced_by_points_at_the_successor_row() -> None:
    from anchor.audit.snapshot import Document
    from anchor.audit.tables import build_tables

    s = _snapshot(["SG"])
    _anchor(s, T0)
    (issuer, root), batch = next(iter(s.batches.items()))
    old, new = b"\x01" * 32, b"\x02" * 32
    s.documents[(issuer, root, new)] = Document(issuer, root, new, revoked_at=T0 + 20)
    s.documents[(issuer, root, old)] = Document(
        issuer,
        root,
        old,
        superseded_at=T0 + 10,
        successor_issuer=issuer,
        successor_root=root,
        successor_leaf=new,
    )
    [table] = [t for t in build_tables(s, [], None) if t.name == "documents"]
    column = table.columns.index("replaced by")
    leaf = table.columns.index("document (leaf)")
    by_leaf = {row[leaf]: (n, row) for n, row in enumerate(table.rows, 1)}
    n_new, _ = by_leaf["0x" + new.hex()]
    _, row_old = by_leaf["0x" + old.hex()]
    assert (
        row_old[column]
        == f"leaf 0x{new.hex()[:8]}…{new.hex()[-4:]} in the same batch; row {n_new} of this table"
    )


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_each_kind_of_finding_is_explained_once(report: ReportFiles) -> None:
    page = report.html.read_text()
    kinds = {f["kind"] for f in json.loads(report.json.read_text())["findings"]}
    assert len(kinds) >= 3
    for kind in kinds:
        assert page.count(html.escape(EXPLANATIONS[kind], quote=True)) == 1, kind
        assert f"id='kind-{kind}'" in page and f"href='#kind-{kind}'" in page


def _header(page: str) -> str:
    return page[page.index("<header>") : page.index("</header>")]


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_times_say_which_clock(scenario: Scenario, tmp_path: Path) -> None:
    snap = replay(scenario.source, scenario.blocks["end"])
    # The demo's ledger runs ahead: its time is an hour after the report was generated.
    ahead = write_report(tmp_path / "ahead", snap, [], None, generated_at=snap.block_time - 3_600)
    header = _header(ahead.html.read_text())
    assert "ledger time" in header and "this computer's clock" in header
    assert "The ledger's clock is 1 hour ahead of the time this report was generated" in header
    assert json.loads(ahead.json.read_text())["generatedAt"] == snap.block_time - 3_600
    behind = _header(
        write_report(
            tmp_path / "behind", snap, [], None, generated_at=snap.block_time + 7_200
        ).html.read_text()
    )
    assert "2 hours behind" in behind
    # Within a minute, the two clocks agree well enough to say nothing.
    close = _header(
        write_report(tmp_path / "close", snap, [], None, generated_at=snap.block_time + 60).html.read_text()
    )
    assert "ledger time" in close and "clock-note" not in close
