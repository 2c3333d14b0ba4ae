"""The WSGI entry point (gunicorn in production and in bench/run.py).

Garbage collection: a worker holds ~150k long-lived objects once Django, the apps and the
URLconf are loaded (modules, classes, functions, model and URL metadata). Python's full
collections walked all of them again and again: 13 ms of a 50 ms gradebook request at full
scale (docs/performance.md). Once loading is done they are moved to the permanent
generation (`gc.freeze()`, Python 3.7+): collections then only look at what requests create.
Measured in-process on the gradebook page: 13 ms -> about 1 ms of collection per request.
A collection runs first, so only objects that are alive (and stay alive) are frozen."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()


def settle() -> None:
    """Import every view module (the URLconf loads lazily, on the first request otherwise),
    then freeze the objects alive now out of the collector's reach."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf and its views)
    gc.collect()
    gc.freeze()


settle()
