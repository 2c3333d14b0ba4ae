"""Files: uploads checked by size and content, downloads that never render or run (ADR 0016)."""

import datetime as dt

import pytest
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.analytics.models import ExportJob
from apps.core.uploads import IMAGE_TYPES, MaxUploadSizeHandler, UploadValidator, sniff
from apps.integrations.models import BulkEnrollmentJob
from tests.accounts.factories import UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
images = UploadValidator(types=IMAGE_TYPES, max_bytes=1024)
sheets = UploadValidator(types=("csv",), max_bytes=1024)


@pytest.mark.parametrize(
    ("name", "content"),
    [("thumb.png", PNG), ("photo.JPG", JPEG), ("anim.gif", b"GIF89a" + b"\x00" * 10)],
)
def test_real_images_within_the_size_pass(name, content):
    images(SimpleUploadedFile(name, content))


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("big.png", PNG + b"\x00" * 2048, "file_size"),
        ("page.png", b"<html><script>alert(1)</script></html>", "file_type"),  # HTML as PNG
        ("thumb.html", PNG, "file_type"),  # a PNG named to be rendered
        ("thumb.jpg", PNG, "file_type"),  # name and content disagree
        ("vector.svg", b"<svg onload='alert(1)'></svg>", "file_type"),  # SVG can run script
    ],
)
def test_disguised_or_oversized_images_are_refused(name, content, code):
    with pytest.raises(ValidationError) as error:
        images(SimpleUploadedFile(name, content))
    assert error.value.code == code


def test_text_uploads_refuse_markup_and_binary():
    sheets(SimpleUploadedFile("list.csv", b"email,name\na@example.org,A\n"))
    for content in (b"a,b\n<script>alert(1)</script>", b"a,b\x00\x01", PNG):
        with pytest.raises(ValidationError):
            sheets(SimpleUploadedFile("list.csv", content))


def test_sniff_reads_content_not_names():
    assert sniff(PNG) == "png"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff(b"RIFF\x00\x00\x00\x00AVI ") is None


@pytest.mark.django_db
def test_downloads_are_attachments_with_nosniff_and_a_sandbox(client, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    owner = UserFactory()
    job = ExportJob(owner=owner, kind="roster", status="done")
    job.expires_at = timezone.now() + dt.timedelta(hours=1)
    job.file.save("roster.csv", ContentFile(b"email\n<script>alert(1)</script>\n"), save=True)
    client.force_login(owner)
    response = client.get(reverse("analytics:export_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "text/csv"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(response.streaming_content).startswith(b"email")  # also closes the file
    client.force_login(UserFactory())  # someone else's export is not found
    assert client.get(reverse("analytics:export_download", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_an_upload_over_the_site_limit_is_cut_off_while_it_arrives(client, settings):
    """MaxUploadSizeHandler: a request carrying more file data than MAX_UPLOAD_BYTES is refused
    with 400 before the view runs; a smaller one reaches the view (its own limits apply)."""
    settings.MAX_UPLOAD_BYTES = 4096
    client.force_login(UserFactory(is_staff=True))
    big = SimpleUploadedFile("learners.csv", b"email,course\n" + b"a@example.org,x\n" * 400)
    response = client.post("/api/v1/enrollments/bulk/", {"file": big})
    assert response.status_code == 400
    assert not BulkEnrollmentJob.objects.exists()
    small = SimpleUploadedFile("learners.csv", b"email,course\na@example.org,x\n")
    assert client.post("/api/v1/enrollments/bulk/", {"file": small}).status_code == 202


def test_a_chunked_upload_without_a_length_is_counted(settings):
    settings.MAX_UPLOAD_BYTES = 100
    handler = MaxUploadSizeHandler()
    handler.handle_raw_input(None, {}, None, b"boundary")
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    with pytest.raises(RequestDataTooBig):
        handler.receive_data_chunk(b"x" * 60, 60)
