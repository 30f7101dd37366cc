"""The verification page in a real browser (headless Chromium through selenium): a border officer uploads
a valid and a tampered document with their bundle and reads the verdicts; then browses the registry.
Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import create_app
from api.auth import Role
from tests.api_helpers import REPO, ApiEnv, make_env, permit, submission
from tests.browser_helpers import CHROMEDRIVER, CHROMIUM, chromium, served

ARTIFACTS = REPO / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="browser test needs Debian chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-page"), anvil_url)


@pytest.fixture(scope="module")
def server(env: ApiEnv) -> Iterator[str]:
    with served(create_app(env.settings())) as url:
        yield url


@pytest.fixture(scope="module")
def files(server: str, env: ApiEnv, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    doc = permit(7, exporter_ref="LCO-2026-0007")
    r = httpx.post(
        f"{server}/v1/documents?wait=15",
        json=submission([doc], prefix="cites-permit-SG-2026"),
        headers=env.headers(Role.ISSUER, "SG"),
        timeout=30,
    )
    view = r.json()["documents"][0]
    assert view["state"] == "anchored"
    out = tmp_path_factory.mktemp("page-files")
    paths = {
        "document": out / "cites-permit-SG-2026-0.json",
        "bundle": out / "cites-permit-SG-2026-0.json.bundle.json",
        "tampered": out / "cites-permit-SG-2026-0-altered.json",
    }
    paths["document"].write_bytes(doc)
    paths["bundle"].write_text(json.dumps(view["bundle"], indent=2))
    paths["tampered"].write_bytes(doc.replace(b'"quantity": 17', b'"quantity": 170'))
    return paths


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium("1280,1500") as driver:
        yield driver


def wait_for(driver: Any, predicate: Any, timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(predicate)


def verify_in_page(driver: Any, document: Path, bundle: Path) -> str:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "document-file").send_keys(str(document))
    driver.find_element(By.ID, "bundle-file").send_keys(str(bundle))
    previous = driver.find_element(By.ID, "verdict-word").text
    button = driver.find_element(By.ID, "verify-button")
    wait_for(driver, lambda d: button.is_enabled())
    driver.execute_script("document.getElementById('verdict-word').textContent = ''")
    button.click()
    word = wait_for(driver, lambda d: d.find_element(By.ID, "verdict-word").text or None)
    assert previous is not None
    return str(word)


def test_border_officer_verifies_valid_and_tampered(
    browser: Any, server: str, env: ApiEnv, files: dict[str, Path]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(server + "/")
    assert "Trust Anchor" in browser.title
    browser.find_element(By.ID, "key-summary").click()
    browser.find_element(By.ID, "api-key").send_keys(env.key(Role.VERIFIER, "TH"))
    browser.find_element(By.ID, "save-key").click()
    # The page rebuilds the options as it learns the key's party: read them in one script, never stale.
    options = "return [...document.getElementById('party').options].map(o => o.value)"
    wait_for(browser, lambda d: "TH" in d.execute_script(options))
    Select(browser.find_element(By.ID, "party")).select_by_value("TH")

    assert verify_in_page(browser, files["document"], files["bundle"]) == "VALID"
    checks = browser.find_elements(By.CSS_SELECTOR, "#checks .check")
    assert len(checks) == 9
    assert all(c.find_element(By.CSS_SELECTOR, ".badge").text == "VALID" for c in checks)
    assert "verdict VALID" in browser.find_element(By.ID, "verdict").get_attribute("class")
    facts = browser.find_element(By.ID, "verdict-facts").text
    # The permit's terms, read by its profile at issuance, shown as facts.
    assert "TH" in facts and "DESTINED TO" in facts.upper() and "2099-12-31 23:59:59 UTC" in facts, facts
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(ARTIFACTS / "verify-page-valid.png"))

    assert verify_in_page(browser, files["tampered"], files["bundle"]) == "INVALID"
    integrity = browser.find_element(By.CSS_SELECTOR, '#checks .check[data-check="integrity"]')
    assert integrity.find_element(By.CSS_SELECTOR, ".badge").text == "INVALID"
    assert "DIGEST_MISMATCH" in integrity.text and "differs from the one that was issued" in integrity.text
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(ARTIFACTS / "verify-page-invalid.png"))


def test_registry_view(browser: Any, server: str, env: ApiEnv) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    browser.find_element(By.ID, "tab-registry").click()
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#matrix-table tbody tr")) == 3)
    parties = [r.text.split()[0] for r in browser.find_elements(By.CSS_SELECTOR, "#parties-table tbody tr")]
    assert parties == ["SG", "TH", "MY"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#cas-table tbody tr")) == 2
    th_row = browser.find_elements(By.CSS_SELECTOR, "#matrix-table tbody tr")[1]
    assert th_row.text.split()[0] == "TH" and "all" in th_row.text
    browser.save_screenshot(str(ARTIFACTS / "registry-page.png"))


def test_auditor_reads_the_report_served_by_the_api(browser: Any, server: str, env: ApiEnv) -> None:
    # A browser cannot put an API key on a plain navigation; the DevTools protocol adds the header, as
    # an auditor's browser extension or proxy would. The report's own CSP must let its inline
    # stylesheet and SVG charts render while forbidding scripts.
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.setExtraHTTPHeaders", {"headers": {"X-API-Key": env.key(Role.AUDITOR, "MY")}}
    )
    try:
        browser.get(server + "/v1/audit/report")
        header_colour = browser.execute_script(
            "return getComputedStyle(document.querySelector('header')).backgroundColor"
        )
        assert header_colour == "rgb(18, 59, 92)"  # the inline stylesheet applied
        sizes = browser.execute_script(
            "return [...document.querySelectorAll('figure.chart svg')].map(s => s.getBoundingClientRect().width)"
        )
        assert len(sizes) >= 3 and all(w > 100 for w in sizes)
        assert "Audit of the Trust Anchor registries" in browser.title
        browser.save_screenshot(str(ARTIFACTS / "audit-report-served.png"))
    finally:
        browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
