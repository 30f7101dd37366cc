"""What the demo reports: steps with an expected and an actual outcome, and what a verification should say."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..verify import CheckStatus, Decision, Verdict


@dataclass(frozen=True)
class Expect:
    """The outcome a verification must have: its verdict, the check that fails (if any) and any other
    failing checks (`also`), warnings.

    A verdict matches only if exactly the expected checks are INVALID (nothing else fails, nothing is
    indeterminate) and the warnings are exactly the expected ones.
    """

    verdict: Decision
    failing: tuple[str, str] | None = None  # (check name, code)
    warning: tuple[str, str] | None = None  # (check name, code)
    message_contains: str | None = None  # in the failing (or warning) check's message
    also: tuple[tuple[str, str], ...] = ()  # further failing checks, in check order

    def describe(self) -> str:
        text = self.verdict.value
        if self.failing:
            text += " (" + "; ".join(f"{n}: {c}" for n, c in (self.failing, *self.also)) + ")"
        if self.warning:
            text += f" with warning ({self.warning[0]}: {self.warning[1]})"
        return text

    def matches(self, v: Verdict) -> bool:
        if v.verdict is not self.verdict:
            return False
        bad = {(c.name, c.code) for c in v.checks if c.status in (CheckStatus.INVALID, CheckStatus.ERROR)}
        if bad != ({self.failing, *self.also} if self.failing else set()):
            return False
        if {(c.name, c.code) for c in v.warnings} != ({self.warning} if self.warning else set()):
            return False
        if self.message_contains is not None:
            key = self.failing or self.warning
            check = v.check(key[0]) if key else None
            if check is None or self.message_contains not in check.message:
                return False
        return True


def describe_verdict(v: Verdict) -> str:
    """The actual outcome in the same words as Expect.describe."""
    text = v.verdict.value
    bad = [c for c in v.checks if c.status in (CheckStatus.INVALID, CheckStatus.ERROR)]
    if bad:
        text += " (" + "; ".join(f"{c.name}: {c.code}" for c in bad) + ")"
    if v.warnings:
        text += " with warning (" + "; ".join(f"{c.name}: {c.code}" for c in v.warnings) + ")"
    return text


@dataclass
class Step:
    number: str
    title: str
    expected: str
    actual: str
    ok: bool
    details: list[str] = field(default_factory=list)
    verdict: Verdict | None = None


@dataclass(frozen=True)
class HandCommand:
    """A `trustanchor verify` command a person can run after the demo, and what it should answer."""

    description: str
    document: str
    bundle: str
    as_party: str
    expected: str
    options: tuple[str, ...] = ()  # further `verify` options, e.g. --offline


@dataclass
class DemoResult:
    steps: list[Step] = field(default_factory=list)
    commands: list[HandCommand] = field(default_factory=list)
    aborted: str | None = None

    @property
    def failed(self) -> list[Step]:
        return [s for s in self.steps if not s.ok]

    @property
    def ok(self) -> bool:
        return self.aborted is None and not self.failed


class Reporter(Protocol):
    """Receives the demo's progress as it happens (the CLI prints it; tests may just collect it)."""

    def section(self, title: str, intro: str = "") -> None: ...

    def step(self, step: Step) -> None: ...

    def note(self, text: str) -> None: ...


class SilentReporter:
    def section(self, title: str, intro: str = "") -> None:
        pass

    def step(self, step: Step) -> None:
        pass

    def note(self, text: str) -> None:
        pass
