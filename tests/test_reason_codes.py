"""docs/verification.md is the contract for the verifier's stable reason codes: it lists exactly the
codes the checks can give, each under the check (or checks) that give it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from anchor.verify import CHECK_NAMES

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "verification.md").read_text()
SOURCES = [
    ROOT / "anchor" / "verify" / "checks.py",
    ROOT / "anchor" / "verify" / "verifier.py",
    ROOT / "anchor" / "verify" / "offline.py",
]
OFFLINE = "Offline verification: codes from the trust pack and the status proof"


def _codes_in_source() -> set[str]:
    """Every code passed to Check(name, status, CODE, message) in the verifier's sources."""
    codes = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "Check"
                and len(node.args) >= 3
            ):
                code = node.args[2]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    codes.add(code.value)
    return codes


def _offline_codes() -> set[str]:
    """The codes an offline verdict gives for its pack (verify_pack's `no(CODE, …)`) and its status proof
    (OfflineVerifier's `self._without(…, CODE, …)`)."""
    codes = set()
    for path, fn, position in (
        (ROOT / "anchor" / "checkpoint" / "pack.py", "no", 0),
        (ROOT / "anchor" / "verify" / "offline.py", "_without", 3),
    ):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == fn
            ):
                code = node.args[position] if len(node.args) > position else None
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    codes.add(code.value)
    return codes


def test_every_offline_code_is_documented_in_its_section() -> None:
    codes = _offline_codes() | {"STATUS_PROOF_MISMATCH"}
    assert len(codes) >= 9  # the walk found the calls
    assert _documented()[OFFLINE] == codes


def _documented() -> dict[str, set[str]]:
    """Section title -> the codes in its table."""
    sections: dict[str, set[str]] = {}
    title = ""
    for line in DOC.splitlines():
        if line.startswith("## "):
            title = line[3:]
            sections[title] = set()
        elif m := re.match(r"^\| `([A-Z_]+)` \|", line):
            sections[title].add(m.group(1))
    return sections


def test_every_code_the_checks_give_is_documented_and_nothing_else() -> None:
    in_source = _codes_in_source()
    assert len(in_source) > 35  # the walk found the Check(...) calls
    documented = set().union(*(codes for title, codes in _documented().items() if title != OFFLINE))
    in_source -= _documented()[OFFLINE]
    assert documented == in_source, (sorted(in_source - documented), sorted(documented - in_source))


def test_each_check_has_its_section_in_order() -> None:
    titles = [t for t in _documented() if t[0].isdigit()]
    assert [t.split("`")[1] for t in titles] == list(CHECK_NAMES)


def test_each_code_is_documented_under_the_check_that_gives_it() -> None:
    sections = _documented()
    anywhere = sections["Codes any check can give"]
    by_check = {t.split("`")[1]: codes for t, codes in sections.items() if t[0].isdigit()}
    tree = ast.parse(SOURCES[0].read_text())
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in by_check):
        given = {
            c.args[2].value
            for c in ast.walk(fn)
            if isinstance(c, ast.Call)
            and getattr(c.func, "id", None) == "Check"
            and len(c.args) >= 3
            and isinstance(c.args[2], ast.Constant)
        }
        assert given, fn.name
        assert given <= by_check[fn.name] | anywhere, (fn.name, sorted(given - by_check[fn.name] - anywhere))
