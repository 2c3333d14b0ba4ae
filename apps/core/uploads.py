"""Files users send or download: size and type checked by content, served so they never run.

Lyceum keeps no user-uploaded files yet (ADR 0016): the one file field holds server-made CSV
exports. These are the rules any upload field and any file download must use.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse
from django.utils.deconstruct import deconstructible


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    magic: tuple[bytes, ...]  # any of these at offset 0 (empty: text, checked as UTF-8)


FILE_TYPES = {
    "png": FileType("image/png", ("png",), (b"\x89PNG\r\n\x1a\n",)),
    "jpeg": FileType("image/jpeg", ("jpg", "jpeg"), (b"\xff\xd8\xff",)),
    "gif": FileType("image/gif", ("gif",), (b"GIF87a", b"GIF89a")),
    "webp": FileType("image/webp", ("webp",), (b"RIFF",)),
    "pdf": FileType("application/pdf", ("pdf",), (b"%PDF-",)),
    "csv": FileType("text/csv", ("csv",), ()),
}
IMAGE_TYPES = ("png", "jpeg", "gif", "webp")
SNIFF_BYTES = 512
# Markup a browser could be talked into running, refused in any text upload.
ACTIVE_MARKERS = (b"<script", b"<html", b"<svg", b"<!doctype", b"<iframe", b"javascript:")


def sniff(head: bytes) -> str | None:
    """The name of the FILE_TYPES entry the first bytes match (binary types only)."""
    for name, kind in FILE_TYPES.items():
        if any(head.startswith(m) for m in kind.magic):
            if name == "webp" and head[8:12] != b"WEBP":
                continue
            return name
    return None


@deconstructible
class UploadValidator:
    """A model/form field validator: at most `max_bytes`, one of `types` by content AND name."""

    def __init__(self, *, types: tuple[str, ...], max_bytes: int):
        self.types = tuple(types)
        self.max_bytes = max_bytes

    def __eq__(self, other):
        return isinstance(other, UploadValidator) and (self.types, self.max_bytes) == (
            other.types,
            other.max_bytes,
        )

    def __call__(self, upload) -> None:
        if upload.size > self.max_bytes:
            raise ValidationError(
                f"The file is too large: at most {self.max_bytes // 1024} KB.", code="file_size"
            )
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        upload.seek(0)
        head = upload.read(SNIFF_BYTES)
        upload.seek(0)
        found = sniff(head)
        if found is None and "csv" in self.types and _is_plain_text(head):
            found = "csv"
        if found not in self.types or extension not in FILE_TYPES[found].extensions:
            allowed = ", ".join(ext for t in self.types for ext in FILE_TYPES[t].extensions)
            raise ValidationError(
                f"This kind of file is not accepted here. Allowed: {allowed}.", code="file_type"
            )


def _is_plain_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    lowered = head.lower()
    return b"\x00" not in head and not any(marker in lowered for marker in ACTIVE_MARKERS)


def attachment_response(file, *, filename: str, content_type: str) -> FileResponse:
    """A download that never renders or runs in the browser: attachment, declared type,
    nosniff, and a sandboxing CSP should a browser open it anyway."""
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class MaxUploadSizeHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: a request whose files exceed settings.MAX_UPLOAD_BYTES is
    refused (400) while it arrives, before it fills memory or the temporary directory. Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE bounds the other fields only; each upload field still checks its
    own, smaller limit (UploadValidator)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.received = 0
        if content_length and content_length > settings.MAX_UPLOAD_BYTES:
            raise RequestDataTooBig(_too_big())

    def receive_data_chunk(self, raw_data, start):
        self.received = getattr(self, "received", 0) + len(raw_data)
        if self.received > settings.MAX_UPLOAD_BYTES:  # chunked bodies declare no length
            raise RequestDataTooBig(_too_big())
        return raw_data

    def file_complete(self, file_size):
        return None


def _too_big() -> str:
    return f"The upload is larger than {settings.MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
