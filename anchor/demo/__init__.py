"""`trustanchor demo`: a cross-border scenario (SG, TH, MY) played end to end on the local chain."""

from .model import DemoResult, Expect, HandCommand, Reporter, SilentReporter, Step
from .scenario import run_demo

__all__ = ["DemoResult", "Expect", "HandCommand", "Reporter", "SilentReporter", "Step", "run_demo"]
