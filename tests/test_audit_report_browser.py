"""The audit report's page in headless Chromium: every label of every chart is drawn inside its chart,
each finding links to its kind's one explanation, and the header tells ledger time from generation time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from anchor.audit import check_consistency, find, replay, write_report
from anchor.audit.report import ReportFiles
from tests.browser_helpers import CHROMEDRIVER, CHROMIUM, chromium
from tests.test_audit_support import Scenario, scenario

__all__ = ["scenario"]


pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="browser test needs Debian chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
)

# Every text drawn in a chart (matplotlib draws glyphs as paths, grouped as <g id="text_N">) with its box
# in the SVG's own coordinates (getBBox, transformed by the group's own transform) and on the page.
TEXT_BOXES = """
const out = [];
for (const [n, svg] of Array.from(document.querySelectorAll('figure.chart svg')).entries()) {
  const vb = svg.viewBox.baseVal;
  const page = svg.getBoundingClientRect();
  for (const g of svg.querySelectorAll('g[id^="text_"]')) {
    const b = g.getBBox();
    if (b.width === 0 && b.height === 0) continue;
    const m = g.getCTM() && svg.getCTM() ? svg.getCTM().inverse().multiply(g.getCTM()) : null;
    const corners = [[b.x, b.y], [b.x + b.width, b.y + b.height]].map(([x, y]) => {
      const p = new DOMPoint(x, y);
      return m ? p.matrixTransform(m) : p;
    });
    const r = g.getBoundingClientRect();
    out.push({
      chart: n, id: g.id,
      x0: Math.min(corners[0].x, corners[1].x), y0: Math.min(corners[0].y, corners[1].y),
      x1: Math.max(corners[0].x, corners[1].x), y1: Math.max(corners[0].y, corners[1].y),
      vb: [vb.x, vb.y, vb.x + vb.width, vb.y + vb.height],
      page: [r.left, r.top, r.right, r.bottom], svg: [page.left, page.top, page.right, page.bottom],
    });
  }
}
return out;
"""


@pytest.fixture(scope="module")
def report(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    snap = replay(scenario.source, scenario.blocks["end"])
    consistency = check_consistency(scenario.source, snap)
    findings = find(snap, consistency=consistency, window=3600)
    # As after the demo's clock jumps: the ledger's time is two hours past the report's generation.
    out = tmp_path_factory.mktemp("report-browser")
    return write_report(out, snap, findings, consistency, generated_at=snap.block_time - 7_200)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium("1280,2000") as driver:
        yield driver


@pytest.fixture(scope="module")
def page(browser: Any, report: ReportFiles) -> Any:
    browser.get(report.html.as_uri())
    assert browser.title == "Audit of the Trust Anchor registries"
    return browser


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_no_chart_text_overflows_its_svg(page: Any) -> None:
    boxes = page.execute_script(TEXT_BOXES)
    assert {b["chart"] for b in boxes} == {0, 1, 2, 3}
    assert len(boxes) > 40
    slack = 0.5
    for b in boxes:
        vx0, vy0, vx1, vy1 = b["vb"]
        inside_viewbox = (
            b["x0"] >= vx0 - slack
            and b["y0"] >= vy0 - slack
            and b["x1"] <= vx1 + slack
            and b["y1"] <= vy1 + slack
        )
        assert inside_viewbox, b
        # And as laid out on the page (the SVG is scaled to the column's width, never clipped).
        px0, py0, px1, py1 = b["page"]
        sx0, sy0, sx1, sy1 = b["svg"]
        assert px0 >= sx0 - 1 and py0 >= sy0 - 1 and px1 <= sx1 + 1 and py1 <= sy1 + 1, b


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_findings_link_to_their_one_explanation(page: Any) -> None:
    from selenium.webdriver.common.by import By

    links = page.find_elements(By.CSS_SELECTOR, ".finding a.kind")
    assert len(links) == len(page.find_elements(By.CSS_SELECTOR, ".finding")) >= 4
    for link in links:
        target = link.get_attribute("href").rsplit("#", 1)[1]
        dt = page.find_element(By.ID, target)
        assert dt.tag_name == "dt" and dt.text == target.removeprefix("kind-")
        explanation = dt.find_element(By.XPATH, "following-sibling::dd[1]").text
        assert explanation and page.find_element(By.TAG_NAME, "body").text.count(explanation) == 1


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_header_tells_ledger_time_from_generation_time(page: Any) -> None:
    from selenium.webdriver.common.by import By

    header = page.find_element(By.TAG_NAME, "header")
    assert "ledger time" in header.text and "this computer's clock" in header.text
    note = header.find_element(By.CSS_SELECTOR, ".clock-note")
    assert note.is_displayed() and "2 hours ahead" in note.text
