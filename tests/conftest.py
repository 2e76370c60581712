"""Shared fixtures: the example pact, its text, and the Hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PACT = ROOT / "src" / "leadpact" / "data" / "pact.yaml"


@pytest.fixture
def example_text() -> str:
    """The text of the shipped example pact."""
    return EXAMPLE_PACT.read_text(encoding="utf-8")


@pytest.fixture
def pact():
    """The shipped example pact, loaded."""
    from leadpact.pact_file import load_pact

    return load_pact(EXAMPLE_PACT)
