"""Model fields that keep sensitive values encrypted at rest (apps/core/crypto.py).

The column holds "enc1:<key id>:<token>"; Python code sees the plaintext. Encrypted values cannot
be searched or compared in SQL (each encryption differs): only `isnull` works as a lookup; search
through a BlindIndexField computed from the plaintext on save.
"""

import datetime

from django import forms
from django.core import exceptions
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.dateparse import parse_date

from apps.core import crypto

SEALED_PATTERN = r"^enc1:[A-Za-z0-9_-]{1,32}:."

ALLOWED_LOOKUPS = frozenset({"isnull", "sealed"})


class Sealed(models.Lookup):
    """`field__sealed=True`: the column is NULL, blank or an envelope (for CHECK constraints)."""

    lookup_name = "sealed"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if self.rhs is not True:
            raise ValueError("Use field__sealed=True.")
        lhs, params = self.process_lhs(compiler, connection)
        return f"COALESCE({lhs} = '' OR {lhs} ~ %s, true)", [*params, *params, SEALED_PATTERN]


class EncryptedTextField(models.TextField):
    """A text encrypted with the current key on every save; blank stays blank (no secret)."""

    description = "Encrypted text"

    def get_lookup(self, lookup_name):
        if lookup_name not in ALLOWED_LOOKUPS:
            raise exceptions.FieldError(
                f"{self.model.__name__}.{self.name} is encrypted: only the isnull and sealed "
                "lookups work; search through its blind index."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        return None

    # Python value <-> plaintext string
    def serialize_plain(self, value) -> str:
        return str(value)

    def deserialize_plain(self, text: str):
        return text

    def to_python(self, value):
        # An envelope (loaddata of a dumpdata file, a form given a stored value) opens here, so
        # it is never sealed twice.
        if isinstance(value, str) and crypto.is_envelope(value):
            return self.deserialize_plain(crypto.decrypt(value))
        return self.parse_plain(value)

    def parse_plain(self, value):
        return super().to_python(value)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return self.deserialize_plain(crypto.decrypt(value))

    def get_prep_value(self, value):
        value = self.to_python(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(self.serialize_plain(value))

    def value_to_string(self, obj):
        # Serialisation (dumpdata) writes the envelope, never the plaintext.
        value = self.value_from_object(obj)
        return None if value is None else self.get_prep_value(value)


class EncryptedCharField(EncryptedTextField):
    """Encrypted text with a maximum plaintext length (the column itself is text)."""

    def __init__(self, *args, plain_max_length: int | None = None, **kwargs):
        self.plain_max_length = plain_max_length
        super().__init__(*args, **kwargs)
        if plain_max_length is not None:
            self.validators.append(MaxLengthValidator(plain_max_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length is not None:
            kwargs["plain_max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        return super().formfield(
            **{"max_length": self.plain_max_length, "widget": forms.TextInput, **kwargs}
        )


class EncryptedDateField(EncryptedTextField):
    """A date stored as its encrypted ISO form."""

    description = "Encrypted date"

    def parse_plain(self, value):
        if value is None or value == "" or isinstance(value, datetime.date):
            return value or None
        try:
            parsed = parse_date(str(value))
        except ValueError:
            parsed = None
        if parsed is None:
            raise exceptions.ValidationError("Enter a valid date.", code="invalid")
        return parsed

    def serialize_plain(self, value) -> str:
        return value.isoformat()

    def deserialize_plain(self, text: str):
        return datetime.date.fromisoformat(text)

    def formfield(self, **kwargs):
        return models.Field.formfield(self, **{"form_class": forms.DateField, **kwargs})


# "<key id (at most 32)>:<64 hex>"
BLIND_INDEX_MAX_LENGTH = 97


class BlindIndexField(models.CharField):
    """HMAC of another field's normalised plaintext, set on save, for exact-match search.

    Stored as "<key id>:<hex>" under the current blind-index key; search with `indexes_of`,
    which covers every configured key (rotation in progress). Updates through QuerySet.update()
    bypass it: write encrypted fields through save().
    """

    description = "Blind index"

    def __init__(self, *args, source: str = "", purpose: str = "", **kwargs):
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", BLIND_INDEX_MAX_LENGTH)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["purpose"] = self.purpose
        for key, default in (("blank", True), ("default", ""), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        if kwargs.get("db_index") is True:
            kwargs.pop("db_index")
        else:
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def index_of(self, value) -> str:
        """The blind index of a plaintext value under the current key ("" for blank)."""
        if value is None or value == "":
            return ""
        return crypto.blind_index(str(value), purpose=self.purpose or self.source)

    def indexes_of(self, value) -> list[str]:
        """The indexes a stored row with this plaintext may hold, one per configured key (none
        for blank): filter with `<field>__in`."""
        if value is None or value == "":
            return []
        return crypto.blind_indexes(str(value), purpose=self.purpose or self.source)

    def pre_save(self, model_instance, add):
        value = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


EncryptedTextField.register_lookup(Sealed)
