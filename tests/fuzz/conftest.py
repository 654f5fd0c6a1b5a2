"""The fuzz suite's budget: a Hypothesis profile for CI (seconds) and one for `make fuzz` (long).

Hypothesis, because it shrinks a failing input to a minimal one, prints the seed and the exact
`@reproduce_failure` blob needed to replay it, keeps a database of past failures, and runs as
plain pytest tests. `ci` is the default profile; `make fuzz` selects `long` and passes
`--hypothesis-seed`, which also seeds the end-to-end run (not a Hypothesis test: one run is a
real proxy process and thousands of frames, replayed from its seed instead of shrunk).
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,  # a loaded CI machine is slow at times; a deadline would only flake
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("LSP_BACKOFF_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def fuzz_seed(request: pytest.FixtureRequest) -> int:
    """The seed of the end-to-end run: --hypothesis-seed when given, else a new one."""
    given = request.config.getoption("hypothesis_seed", None)
    seed = int(given) if given not in (None, "") else random.SystemRandom().getrandbits(32)
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print(f"\nfuzz seed {seed} (replay: make fuzz FUZZ_SEED={seed})")
    return seed
