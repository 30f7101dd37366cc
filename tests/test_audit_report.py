"""The audit report: JSON, CSV, and an HTML page that renders with its charts in headless Chromium."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from anchor.audit import check_consistency, find, replay, write_report
from anchor.audit.report import ReportFiles
from tests.test_audit_support import Scenario, scenario

__all__ = ["scenario"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def report(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    snap = replay(scenario.source, scenario.blocks["end"])
    consistency = check_consistency(scenario.source, snap)
    findings = find(snap, consistency=consistency, window=3600)
    return write_report(tmp_path_factory.mktemp("report"), snap, findings, consistency)


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


def test_same_snapshot_gives_the_same_charts(scenario: Scenario, report: ReportFiles, tmp_path: Path) -> None:
    snap = replay(scenario.source, scenario.blocks["end"])
    again = write_report(tmp_path, snap, find(snap, window=3600), None)
    svgs = re.findall(r"<svg.*?</svg>", report.html.read_text(), re.S)
    assert svgs == re.findall(r"<svg.*?</svg>", again.html.read_text(), re.S)


def test_report_for_an_empty_registry(scenario: Scenario, tmp_path: Path) -> None:
    snap = replay(scenario.source, scenario.blocks["deployed"])
    files = write_report(tmp_path, snap, find(snap), check_consistency(scenario.source, snap))
    page = files.html.read_text()
    assert "No documents have been anchored yet." in page and "Nothing needs attention." in page


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
