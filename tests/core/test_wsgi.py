"""The WSGI entry point loads the URLconf and freezes what is alive then (config/wsgi.py,
docs/performance.md): the collector no longer walks the loaded application on every full
collection. Run in a child process: freezing is process-wide."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
import config.wsgi
from django.urls import get_resolver
frozen = gc.get_freeze_count()
views_loaded = "apps.progress.views" in sys.modules and "apps.content.views" in sys.modules
gc.unfreeze()
print(frozen, views_loaded, config.wsgi.application is not None)
"""


def test_the_wsgi_module_loads_the_views_and_freezes_the_loaded_objects():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.setdefault("DATABASE_URL", "postgres://unused/unused")  # nothing connects
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    frozen, views_loaded, app = result.stdout.split()
    assert int(frozen) > 50_000  # the application's objects, out of the collector's reach
    assert views_loaded == "True" and app == "True"
