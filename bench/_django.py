"""What the database benchmarks share: Django set up on the test settings (PostgreSQL from
DATABASE_URL, default the throwaway `portal_bench`), and a run inside a fresh test database
(test_<name>) that is dropped afterwards. Import it first: `import _django` (bench/ is on the
path when a script here runs)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")

import django

django.setup()


def in_test_database(run: Callable[[], None]) -> None:
    """Runs ``run`` in a fresh test database, dropped afterwards whatever happens."""
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        run()
    finally:
        teardown_databases(old, verbosity=0)
