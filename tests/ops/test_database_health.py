"""The admin's database health page: staff with a second factor only."""

import pytest
from django.urls import reverse

from apps.core import selectors
from tests.accounts.factories import UserFactory
from tests.conftest import database_connect

pytestmark = pytest.mark.django_db
URL = "/admin/database-health/"


def test_the_page_renders_for_verified_staff(verified_staff_client):
    response = verified_staff_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    for section in ("top-statements", "statements-unavailable"):
        if f'data-testid="{section}"' in body:
            break
    else:
        pytest.fail("neither the top statements nor why they are unavailable")
    assert 'data-testid="table-bloat"' in body
    assert 'data-testid="index-bloat"' in body
    assert 'data-testid="partitions-ahead"' in body and "audit.events" in body
    assert "shared_preload_libraries" in body


def test_the_admin_index_links_the_page(verified_staff_client):
    response = verified_staff_client.get(reverse("admin:index"))
    assert URL in response.content.decode()


def test_others_are_refused(client):
    assert client.get(URL).status_code == 302  # anonymous: to the login
    client.force_login(UserFactory())
    assert client.get(URL).status_code in (302, 403)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)  # no second factor yet
    response = client.get(URL)
    assert (
        response.status_code == 302 and "database-health" not in response["Location"].split("?")[0]
    )


def test_the_statements_report_explains_what_is_missing():
    report = selectors.top_statements()
    if not report.available:
        assert "pg_stat_statements" in report.reason
    else:
        assert isinstance(report.rows, list)


def test_the_bloat_queries_work_as_the_app_role():
    with database_connect(app_role=True) as conn:
        tables = conn.execute(selectors.TABLE_BLOAT.replace("%s", "100")).fetchall()
        indexes = conn.execute(
            selectors.INDEX_BLOAT.replace("%%", "%").replace("%s", "100")
        ).fetchall()
    assert tables and indexes
