"""Issue #12, "a verdict an officer reads in two seconds", in a real browser (headless Chromium through
selenium): the headline names what failed or warns in amber; the facts say who issued what and when, in
words and in ledger time; jargon waits in a collapsed row; "Verifying as" is the key's own party; a
wrong document is named as such. The screenshots in docs/screenshots/ are taken here.

The module runs its own anvil, because the last test moves that chain's clock two hours ahead.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from anchor._internal.anvil import rpc
from anchor.accounts import dev_account
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.doctypes import mask_of
from anchor.registry import Registries
from api import create_app
from api.auth import Role
from tests.api_helpers import REPO, ApiEnv, make_env, permit
from tests.browser_helpers import CHROMEDRIVER, CHROMIUM, chromium, served
from tests.conftest import MNEMONIC, free_port, start_anvil
from tests.test_api_page import wait_for

ARTIFACTS = REPO / "test-artifacts"
# The screenshots in docs/ are refreshed on request only (TRUSTANCHOR_UPDATE_SCREENSHOTS=1), so that a
# test run leaves the work tree clean; otherwise they go to the ignored test-artifacts/.
SCREENSHOTS = REPO / "docs" / "screenshots" if os.environ.get("TRUSTANCHOR_UPDATE_SCREENSHOTS") else ARTIFACTS

pytestmark = [
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="browser test needs Debian chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
    ),
    pytest.mark.devchain("evm_increaseTime on a node of its own"),
]


@pytest.fixture(scope="module")
def chain_url() -> Iterator[str]:
    with start_anvil(free_port()) as node:
        yield node.url


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, chain_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("page-verdicts"), chain_url)


@pytest.fixture(scope="module")
def server(env: ApiEnv) -> Iterator[str]:
    with served(create_app(env.settings())) as url:
        yield url


def issue(server: str, env: ApiEnv, doc_type: str, name: str, content: bytes, **terms: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"name": name, "content": base64.b64encode(content).decode()}
    if terms:
        document["terms"] = terms
    r = httpx.post(
        f"{server}/v1/documents?wait=15",
        json={"documentType": doc_type, "documents": [document]},
        headers=env.headers(Role.ISSUER, "SG"),
        timeout=30,
    )
    view = r.json()["documents"][0]
    assert view["state"] == "anchored", view
    return dict(view["bundle"])


def tick(url: str, seconds: int) -> None:
    rpc(url, "evm_increaseTime", [seconds])
    rpc(url, "evm_mine", [])


@pytest.fixture(scope="module")
def files(
    server: str, env: ApiEnv, chain_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """A CITES permit for TH; two veterinary certificates for TH, issued before and after TH stopped
    recognizing SG for veterinary certificates; an invoice; a renamed copy of the permit."""
    out = tmp_path_factory.mktemp("verdict-files")
    paths: dict[str, Path] = {}

    def keep(key: str, name: str, content: bytes, bundle: dict[str, Any] | None = None) -> None:
        paths[key] = out / name
        paths[key].write_bytes(content)
        if bundle is not None:
            paths[f"{key}-bundle"] = out / f"{name}.bundle.json"
            paths[f"{key}-bundle"].write_text(json.dumps(bundle, indent=2))

    doc = permit(17, exporter_ref="LCO-2026-0017")
    keep(
        "permit",
        "cites-permit-SG-2026-0017.json",
        doc,
        issue(server, env, "cites-permit", "cites-permit-SG-2026-0017.json", doc),
    )
    keep("renamed", "scan-0042.json", doc)
    keep("invoice", "invoice.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
    vet = [
        json.dumps({"certificateNumber": f"SG/VET/2026/{n:05d}", "commodity": "Frozen poultry meat", "netKg": 18000 + n}).encode()
        for n in (118, 119)
    ]  # fmt: skip
    before = issue(server, env, "veterinary-certificate", "vet-SG-2026-00118.json", vet[0], destination="TH")
    keep("vet-before", "vet-SG-2026-00118.json", vet[0], before)
    tick(chain_url, 2)
    chain = connect(ChainConfig(backend="rpc", rpc_url=chain_url, mnemonic=MNEMONIC))
    reg = Registries.open(chain, env.manifest)
    reg.trust.unrecognize(dev_account(MNEMONIC, 2), "SG", mask_of(["veterinary-certificate"]))  # TH's admin
    tick(chain_url, 2)
    after = issue(server, env, "veterinary-certificate", "vet-SG-2026-00119.json", vet[1], destination="TH")
    keep("vet-after", "vet-SG-2026-00119.json", vet[1], after)
    return paths


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium("1100,2400", "--hide-scrollbars") as driver:
        yield driver


@pytest.fixture(scope="module")
def page(browser: Any, server: str, env: ApiEnv) -> Any:
    """The page with TH's verifier key entered, as an officer at the Thai border would have it."""
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    browser.find_element(By.ID, "key-summary").click()
    browser.find_element(By.ID, "api-key").send_keys(env.key(Role.VERIFIER, "TH"))
    browser.find_element(By.ID, "save-key").click()
    wait_for(browser, lambda d: "TH" in [v for v, _ in options(d)])
    return browser


def options(driver: Any) -> list[tuple[str, str]]:
    """(value, text) of each "Verifying as" option, read at once (the page rebuilds the list)."""
    script = "return [...document.getElementById('party').options].map(o => [o.value, o.text])"
    return [(str(v), str(t)) for v, t in driver.execute_script(script)]


def chosen(driver: Any) -> tuple[str, str]:
    """(value, text) of the chosen "Verifying as" option."""
    script = "const s = document.getElementById('party'); return [s.value, s.selectedOptions[0].text]"
    value, label = driver.execute_script(script)
    return str(value), str(label)


def verify(driver: Any, document: Path, bundle: Path) -> str:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "document-file").send_keys(str(document))
    driver.find_element(By.ID, "bundle-file").send_keys(str(bundle))
    button = driver.find_element(By.ID, "verify-button")
    wait_for(driver, lambda d: button.is_enabled())
    driver.execute_script("document.getElementById('verdict-word').textContent = ''")
    button.click()
    return str(wait_for(driver, lambda d: d.find_element(By.ID, "verdict-word").text or None))


def text(driver: Any, selector: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, selector).text)


def fact(driver: Any, key: str) -> str:
    return text(driver, f'#verdict-facts [data-fact="{key}"] dd')


def shoot(driver: Any, name: str) -> Path:
    """The verdict as an officer sees it, into docs/screenshots/ (when refreshing) or test-artifacts/."""
    from selenium.webdriver.common.by import By

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    path = SCREENSHOTS / name
    driver.find_element(By.ID, "result").screenshot(str(path))
    assert 20_000 < path.stat().st_size < 600_000, path.stat().st_size
    return path


def minute(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


JARGON = ("jcs-rfc8785", "0x", "leaf 0", "-document batch", "in block", "ecdsa")


def test_verifying_as_defaults_to_the_keys_party(page: Any, files: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    # Before any verdict the page cannot know the key's party: it lets the service use it.
    assert chosen(page) == ("", "This key's party")
    assert verify(page, files["permit"], files["permit-bundle"]) == "VALID"
    assert fact(page, "party") == "Thailand (TH)"
    # Learned from the verdict: chosen now, and after a reload (remembered per key id in localStorage).
    assert chosen(page) == ("TH", "TH")
    assert text(page, "#key-summary") == "API key · TH"
    page.refresh()
    wait_for(page, lambda d: chosen(d)[0] == "TH")
    assert "This key's party" not in [t for _, t in options(page)]
    assert text(page, "#party-hint") == "This API key's party."
    assert "API key · TH" in text(page, "#key-summary")
    stored = page.execute_script("return localStorage.getItem('ta-key-parties')")
    assert list(json.loads(stored).values()) == ["TH"] and "ta_" not in stored  # the key's id, not the key

    # Another party is refused (403): the page goes back to the key's own and says so.
    Select(page.find_element(By.ID, "party")).select_by_value("SG")
    assert "verifies for TH only" in text(page, "#party-hint")
    page.find_element(By.ID, "document-file").send_keys(str(files["permit"]))
    page.find_element(By.ID, "bundle-file").send_keys(str(files["permit-bundle"]))
    page.find_element(By.ID, "verify-button").click()
    error = wait_for(page, lambda d: d.find_element(By.ID, "form-error").text or None)
    assert "cannot verify as SG" in error
    assert chosen(page) == ("", "This key's party")
    assert verify(page, files["permit"], files["permit-bundle"]) == "VALID"
    assert chosen(page) == ("TH", "TH")


def test_valid_verdict_reads_as_facts(page: Any, files: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    bundle = json.loads(files["permit-bundle"].read_text())
    assert verify(page, files["permit"], files["permit-bundle"]) == "VALID"
    assert page.find_element(By.ID, "verdict").get_attribute("class") == "verdict VALID"
    assert not page.find_element(By.ID, "verdict-tag").is_displayed()
    assert text(page, "#verdict-summary").startswith("Authentic, unchanged and recognized")
    assert text(page, "#facts-caption").upper() == "VERIFIED FACTS"
    # Who issued what, when: the signer certificate's organization and the party, the type in words,
    # the anchoring time as ledger time.
    assert fact(page, "issuer") == "SG document signing · Singapore (SG)"
    assert fact(page, "type") == "CITES permit"
    assert fact(page, "issued") == f"{minute(bundle['anchor']['blockTime'])} (ledger time)"
    assert fact(page, "document") == "cites-permit-SG-2026-0017.json"
    assert fact(page, "destination") == "Thailand (TH)"
    assert "2099-12-31 23:59:59 UTC" in fact(page, "validity")
    assert not page.find_element(By.ID, "clock-note").is_displayed()
    assert not page.find_element(By.ID, "file-note").is_displayed()
    # Jargon only in the collapsed row.
    visible = text(page, "#result")
    assert not [j for j in JARGON if j in visible], visible
    details = page.find_element(By.ID, "verdict-details")
    assert details.get_attribute("open") is None
    shoot(page, "verdict-valid.png")
    details.find_element(By.TAG_NAME, "summary").click()
    ARTIFACTS.mkdir(exist_ok=True)
    details.screenshot(str(ARTIFACTS / "verdict-technical-details.png"))
    technical = text(page, "#details-list")
    assert "leaf 0 of a 1-document batch" in technical and "jcs-rfc8785" in technical
    assert bundle["anchor"]["issuer"] in technical and bundle["anchor"]["transactionHash"] in technical
    assert f"block {bundle['anchor']['blockNumber']}" not in visible
    details.find_element(By.TAG_NAME, "summary").click()


def test_valid_with_a_warning_is_amber_and_says_why(page: Any, files: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    assert verify(page, files["vet-before"], files["vet-before-bundle"]) == "VALID"
    verdict = page.find_element(By.ID, "verdict")
    assert verdict.get_attribute("class") == "verdict WARNING"
    assert text(page, "#verdict-tag").lower() == "with a warning"
    colour = page.execute_script("return getComputedStyle(arguments[0]).backgroundColor", verdict)
    assert colour == "rgb(255, 246, 224)"  # amber, not the green of a plain VALID (rgb(232, 246, 238))
    reasons = page.find_elements(By.CSS_SELECTOR, "#verdict-reasons li")
    assert [r.text for r in reasons] == [
        "Recognition withdrawn since: TH recognized SG's CA for veterinary certificates when it was issued, "
        "but no longer does."
    ]
    assert fact(page, "type") == "veterinary certificate"
    recognition = page.find_element(By.CSS_SELECTOR, '#checks .check[data-check="recognition"]')
    assert recognition.find_element(By.CSS_SELECTOR, ".badge").text == "VALID · NOTE"
    shoot(page, "verdict-valid-warning.png")


def test_invalid_headline_names_the_failed_check(page: Any, files: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    assert verify(page, files["vet-after"], files["vet-after-bundle"]) == "INVALID"
    assert page.find_element(By.ID, "verdict").get_attribute("class") == "verdict INVALID"
    assert text(page, "#verdict-summary") == "Do not accept this document:"
    reasons = [r.text for r in page.find_elements(By.CSS_SELECTOR, "#verdict-reasons li")]
    assert reasons == [
        "Not recognized: TH did not recognize SG's CA for veterinary certificates when it was issued."
    ]
    # What the bundle states is shown, but not as verified.
    assert "NOT VERIFIED" in text(page, "#facts-caption").upper()
    assert fact(page, "issuer") == "SG document signing · Singapore (SG)"
    shoot(page, "verdict-invalid.png")


def test_another_documents_bundle_names_both_files(page: Any, files: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    # The bundle names its document as soon as it is dropped.
    page.find_element(By.ID, "bundle-file").send_keys(str(files["permit-bundle"]))
    wait_for(page, lambda d: d.find_element(By.ID, "bundle-for").text == "for cites-permit-SG-2026-0017.json")

    assert verify(page, files["vet-before"], files["permit-bundle"]) == "INVALID"
    assert fact(page, "document") == "vet-SG-2026-00118.json"  # the dropped file, not the bundle's name
    reasons = [r.text for r in page.find_elements(By.CSS_SELECTOR, "#verdict-reasons li")]
    assert reasons == [
        "Not the issued document: The document differs from the one that was issued (digest mismatch).\n"
        "This bundle is for cites-permit-SG-2026-0017.json (application/json); "
        "you dropped vet-SG-2026-00118.json."
    ], reasons

    assert verify(page, files["invoice"], files["permit-bundle"]) == "INVALID"
    assert fact(page, "document") == "invoice.pdf"
    headline = text(page, "#verdict-reasons")
    assert headline.startswith("Unreadable document: ")
    assert (
        "This bundle is for cites-permit-SG-2026-0017.json (application/json); you dropped invoice.pdf (application/pdf)."
        in headline
    )
    shoot(page, "verdict-wrong-document.png")

    # A renamed copy of the right document is VALID; the page still says the names differ.
    assert verify(page, files["renamed"], files["permit-bundle"]) == "VALID"
    assert text(page, "#file-note") == (
        "This bundle is for cites-permit-SG-2026-0017.json (application/json); you dropped scan-0042.json."
    )


def test_ledger_time_that_differs_from_the_local_clock_is_said(
    page: Any, files: dict[str, Path], chain_url: str
) -> None:
    tick(chain_url, 2 * 3600)  # this module's own chain: its clock is now two hours ahead
    assert verify(page, files["permit"], files["permit-bundle"]) == "VALID"
    note = text(page, "#clock-note")
    assert "2 h ahead of this computer's clock" in note and "Validity is judged by ledger time." in note, note
    assert fact(page, "checked").endswith("(ledger time)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.save_screenshot(str(ARTIFACTS / "verdict-clock-note.png"))
