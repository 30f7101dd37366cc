"""Document type and reason vocabularies, and the CLI's time argument: names, numbers, and the
non-ASCII digits ('²', '٣') that str.isdigit accepts but are no numbers here."""

from __future__ import annotations

import click
import pytest

from anchor.cli._common import parse_time
from anchor.doctypes import MAX_TYPE_ID, type_id, type_name
from anchor.errors import ConfigError
from anchor.inputs import MAX_TIME, parse_fingerprint
from anchor.reasons import reason_code, reason_name


@pytest.mark.parametrize(
    ("given", "expected"), [("cites-permit", 0), (" CITES-Permit ", 0), ("5", 5), (63, 63)]
)
def test_document_types_by_name_or_number(given: str | int, expected: int) -> None:
    assert type_id(given) == expected


@pytest.mark.parametrize("given", ["²", "٣", "64", "type-64", "type-²", -1, 64, "", "permit"])
def test_document_types_refuse_anything_else_with_a_config_error(given: str | int) -> None:
    with pytest.raises(ConfigError):
        type_id(given)


def test_every_type_id_has_a_name_that_reads_back() -> None:
    assert [type_id(type_name(i)) for i in range(MAX_TYPE_ID + 1)] == list(range(MAX_TYPE_ID + 1))


@pytest.mark.parametrize(
    ("given", "expected"), [("key-compromise", 1), ("KEY_COMPROMISE", 1), ("17", 17), (255, 255)]
)
def test_reasons_by_name_or_number(given: str | int, expected: int) -> None:
    assert reason_code(given) == expected
    assert reason_code(reason_name(expected)) == expected


@pytest.mark.parametrize("given", ["²", "٣", "256", "reason-256", "reason-", -1, "because"])
def test_reasons_refuse_anything_else_with_a_config_error(given: str | int) -> None:
    with pytest.raises(ConfigError):
        reason_code(given)


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, 0), ("now", 0), ("1700000000", 1_700_000_000), ("2023-11-14T22:13:20Z", 1_700_000_000)],
)
def test_cli_times(given: str | None, expected: int) -> None:
    assert parse_time(given) == expected


@pytest.mark.parametrize("given", ["²", "yesterday", "2023-13-01", "1099511627776", "+36813-01-01"])
def test_cli_times_refuse_anything_else_as_a_bad_parameter(given: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_time(given)


def test_the_latest_time_the_registries_can_hold_is_accepted() -> None:
    assert parse_time(str(MAX_TIME)) == MAX_TIME


@pytest.mark.parametrize(
    "given", ["ab" * 32, "0x" + "AB" * 32, ":".join(["ab"] * 32), " 0x" + "ab" * 32 + " "]
)
def test_fingerprints_in_the_usual_spellings(given: str) -> None:
    assert parse_fingerprint(given) == b"\xab" * 32


@pytest.mark.parametrize("given", ["", "ab" * 31, "ab" * 33, "zz" * 32, "²" * 64])
def test_anything_else_is_not_a_fingerprint(given: str) -> None:
    with pytest.raises(ConfigError, match="not a SHA-256 fingerprint"):
        parse_fingerprint(given)
