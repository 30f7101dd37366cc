"""The API docs page (/v1/docs) loads nothing from a third party and runs under the service's CSP.

The page shares its origin with the verification page, which keeps the caller's API key: a script from
a CDN could read it. Swagger UI's files are served by the service itself, and the page's
Content-Security-Policy admits scripts, styles and connections from this origin only. The last test
loads the page in headless Chromium (skipped without it) and checks that Swagger UI renders with no
CSP violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from tests.api_helpers import REPO, ApiEnv, Served, TestClient, make_env, start_serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-docs-page"), anvil_url)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings())) as c:
        yield c


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.others: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self._in_script = True
            if values.get("src"):
                self.scripts.append(str(values["src"]))
        elif tag == "link" and values.get("rel") == "stylesheet":
            self.styles.append(str(values["href"]))
        else:
            self.others += [str(v) for k, v in attrs if k in ("src", "href", "action") and v]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def references(html: str) -> _References:
    parser = _References()
    parser.feed(html)
    return parser


def csp_directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def test_docs_page_references_only_this_origin(client: TestClient) -> None:
    r = client.get("/v1/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    refs = references(r.text)
    assert refs.scripts and refs.styles, r.text
    for url in refs.scripts + refs.styles + refs.others:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not on this origin"
    assert "http:" not in r.text and "https:" not in r.text and "//" not in r.text
    assert refs.inline_scripts == 0, "inline script would need 'unsafe-inline' in the CSP"


def test_docs_page_is_under_the_service_csp(client: TestClient) -> None:
    docs, page = client.get("/v1/docs"), client.get("/")
    header = docs.headers.get("content-security-policy")
    assert header, "the docs page has no Content-Security-Policy"
    assert header == page.headers["content-security-policy"]  # the same policy as the rest
    directives = csp_directives(header)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    for name in ("style-src", "connect-src"):
        assert directives[name] == ["'self'"], name
    for name, sources in directives.items():
        for source in sources:  # no host, no scheme source that would admit one (https:, *)
            assert source in ("'self'", "'none'", "data:"), f"{name} admits {source}"
    assert docs.headers["x-content-type-options"] == "nosniff"


def test_docs_assets_are_served_by_the_service(client: TestClient) -> None:
    refs = references(client.get("/v1/docs").text)
    bodies = {}
    for url in refs.scripts:
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith("text/javascript"), url
        assert r.headers["x-content-type-options"] == "nosniff"
        bodies[url] = r.text
    for url in refs.styles:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/css"), url
    assert any("SwaggerUIBundle=" in text for text in bodies.values()), "Swagger UI is not served"
    setup = next(text for text in bodies.values() if "SwaggerUIBundle(" in text and len(text) < 10_000)
    assert '"/v1/openapi.json"' in setup and "validatorUrl: null" in setup
    assert client.get("/v1/openapi.json").status_code == 200


@pytest.fixture(scope="module")
def served(env: ApiEnv) -> Iterator[Served]:
    s = start_serve(env)
    try:
        yield s
    finally:
        s.stop()


@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="browser test needs Debian chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
)
def test_swagger_ui_renders_in_a_browser_without_csp_violations(served: Served) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--window-size=1280,1500", "--disable-dev-shm-usage"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver: Any = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.get(served.url + "/v1/docs")
        wait = WebDriverWait(driver, 30, poll_frequency=0.1)
        title = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
        assert "Trust Anchor agency service" in title[0].text
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
        paths = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")]
        assert any("/v1/verify" in p for p in paths), paths
        # Try it out: the page's own requests go to this origin and are let through by the CSP.
        live = next(
            e
            for e in driver.find_elements(By.CSS_SELECTOR, ".opblock")
            if e.find_element(By.CSS_SELECTOR, ".opblock-summary-path").text == "/v1/health/live"
        )
        live.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait.until(lambda d: live.find_elements(By.CSS_SELECTOR, ".try-out__btn"))[0].click()
        wait.until(lambda d: live.find_elements(By.CSS_SELECTOR, ".execute"))[0].click()
        status = wait.until(
            lambda d: live.find_elements(
                By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status"
            )
        )
        assert status[0].text.strip() == "200"
        artifacts = REPO / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        driver.save_screenshot(str(artifacts / "api-docs-page.png"))
        logs = driver.get_log("browser")
        violations = [e["message"] for e in logs if "Content Security Policy" in e["message"]]
        assert not violations, violations
        loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert loaded and all(url.startswith(served.url + "/") for url in loaded), loaded
    finally:
        driver.quit()
