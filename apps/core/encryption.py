"""Where encrypted values live and how they move to the current key (ADR 0016).

Rotation re-encrypts row by row in short batches: each batch is one short transaction of
compare-and-set updates (`... WHERE pk = %s AND col = <old envelope>`), so a concurrent write
is never overwritten and readers never wait. Reads accept every configured key meanwhile. Only
rows whose key id is not the current one are selected, so a stopped run resumes where it was.
"""

# ruff: noqa: S608 (table and column names come from model metadata, quoted; values are params)
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pgtrigger
from django.apps import apps
from django.db import connection, models, transaction

from apps.core import crypto
from apps.core.fields import BlindIndexField, EncryptedTextField

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: EncryptedTextField

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"

    @property
    def table(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    @property
    def column(self) -> str:
        return connection.ops.quote_name(self.field.column)

    @property
    def pk(self) -> str:
        return connection.ops.quote_name(self.model._meta.pk.column)


@dataclass
class RotationReport:
    key_id: str
    rotated: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # changed meanwhile by someone else

    @property
    def total(self) -> int:
        return sum(self.rotated.values())


def _managed_fields(field_type: type[models.Field]) -> list[tuple[type[models.Model], Any]]:
    """(model, field) for every `field_type` field of every concrete, managed model (proxies
    and views excluded)."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        found += [(model, f) for f in meta.concrete_fields if isinstance(f, field_type)]
    return found


def _key_usage(columns, *, key_part: int) -> dict[str, dict[str, int]]:
    """Per column, how many stored values each key id (`key_part` of the ':'-separated value)
    made (a key is removable at 0)."""
    usage: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        for col in columns:
            cursor.execute(
                f"SELECT split_part({col.column}, ':', {key_part}), count(*) FROM {col.table} "
                f"WHERE {col.column} IS NOT NULL AND {col.column} <> '' GROUP BY 1 ORDER BY 1"
            )
            usage[col.label] = dict(cursor.fetchall())
    return usage


def _stale_rows(col, *, key_part: int, select: str, current: str, after, size: int) -> list:
    """The next `size` rows (by primary key, after `after`) whose value was not made with the
    `current` key: `select` columns, the primary key first."""
    where = f"{col.column} <> '' AND split_part({col.column}, ':', {key_part}) <> %s"
    params: list = [current]
    if after is not None:
        where += f" AND {col.pk} > %s"
        params.append(after)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select} FROM {col.table} WHERE {where} ORDER BY {col.pk} LIMIT %s",
            [*params, size],
        )
        return cursor.fetchall()


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted field of every concrete, managed model (proxies and views excluded)."""
    return [EncryptedColumn(model=m, field=f) for m, f in _managed_fields(EncryptedTextField)]


def encryption_key_usage() -> dict[str, dict[str, int]]:
    """Per encrypted column, how many values each key id sealed (a key is removable at 0)."""
    return _key_usage(encrypted_columns(), key_part=2)


def _stale_batch(col: EncryptedColumn, *, current: str, after, size: int) -> list[tuple]:
    return _stale_rows(
        col, key_part=2, select=f"{col.pk}, {col.column}", current=current, after=after, size=size
    )


def _quiet_triggers(model: type[models.Model]) -> list[str]:
    # Re-encryption is not an edit: leave `updated_at` (TimeStampedModel's trigger) alone.
    return [
        f"{model._meta.label}:{trigger.name}"
        for trigger in getattr(model._meta, "triggers", [])
        if trigger.name == "set_updated_at"
    ]


def _rotate_batch(col: EncryptedColumn, rows: list[tuple]) -> tuple[int, int]:
    rotated = skipped = 0
    quiet = _quiet_triggers(col.model)
    # pgtrigger.ignore() with no names would silence every trigger, the audit ones included.
    silenced = pgtrigger.ignore(*quiet) if quiet else contextlib.nullcontext()
    with transaction.atomic(), silenced, connection.cursor() as cursor:
        for pk, sealed in rows:
            fresh = crypto.encrypt(crypto.decrypt(sealed))
            cursor.execute(
                f"UPDATE {col.table} SET {col.column} = %s "
                f"WHERE {col.pk} = %s AND {col.column} = %s",
                [fresh, pk, sealed],
            )
            if cursor.rowcount:
                rotated += 1
            else:
                skipped += 1
    return rotated, skipped


def _batches(col: EncryptedColumn, *, current: str, size: int) -> Iterator[list[tuple]]:
    after = None
    while rows := _stale_batch(col, current=current, after=after, size=size):
        yield rows
        after = rows[-1][0]


def encrypted_values_rotate(
    *,
    batch_size: int = 500,
    on_batch: Callable[[str, int], None] | None = None,
) -> RotationReport:
    """Re-encrypt every value not sealed with the current key, in batches of `batch_size`.

    Raises crypto.DecryptionError when a value names a key that is no longer configured.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    current = crypto.keyring().current_id
    report = RotationReport(key_id=current)
    for col in encrypted_columns():
        rotated = skipped = 0
        for rows in _batches(col, current=current, size=batch_size):
            done, missed = _rotate_batch(col, rows)
            rotated, skipped = rotated + done, skipped + missed
            logger.info("rotated %s values of %s to key %s", done, col.label, current)
            if on_batch is not None:
                on_batch(col.label, done)
        report.rotated[col.label] = rotated
        report.skipped[col.label] = skipped
    return report


# Blind indexes ------------------------------------------------------------------------------
#
# A blind index is recomputed from its source's plaintext under the current blind-index key.
# Rows are selected by the key id the index names ("<key id>:<hex>"), so a stopped run resumes,
# and each batch is compare-and-set on both the index and its source: a row whose value changed
# meanwhile already holds an index under the current key (save() computed it). Lookups match
# every configured key's index (BlindIndexField.indexes_of), so search works throughout.


@dataclass(frozen=True)
class BlindIndexColumn:
    model: type[models.Model]
    field: BlindIndexField

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"

    @property
    def source(self) -> models.Field:
        return self.model._meta.get_field(self.field.source)

    @property
    def table(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    @property
    def column(self) -> str:
        return connection.ops.quote_name(self.field.column)

    @property
    def source_column(self) -> str:
        return connection.ops.quote_name(self.source.column)

    @property
    def pk(self) -> str:
        return connection.ops.quote_name(self.model._meta.pk.column)

    def plaintext(self, stored):
        """The source's Python value from its stored column value (decrypted if sealed)."""
        if isinstance(self.source, EncryptedTextField):
            return self.source.from_db_value(stored, None, connection)
        return self.source.to_python(stored)


def blind_index_columns() -> list[BlindIndexColumn]:
    """Every blind index of every concrete, managed model."""
    return [BlindIndexColumn(model=m, field=f) for m, f in _managed_fields(BlindIndexField)]


def blind_index_key_usage() -> dict[str, dict[str, int]]:
    """Per blind index, how many rows each blind-index key id computed (removable at 0)."""
    return _key_usage(blind_index_columns(), key_part=1)


def _stale_index_batch(col: BlindIndexColumn, *, current: str, after, size: int) -> list[tuple]:
    return _stale_rows(
        col,
        key_part=1,
        select=f"{col.pk}, {col.source_column}, {col.column}",
        current=current,
        after=after,
        size=size,
    )


def _reindex_batch(col: BlindIndexColumn, rows: list[tuple]) -> tuple[int, int]:
    rotated = skipped = 0
    quiet = _quiet_triggers(col.model)
    silenced = pgtrigger.ignore(*quiet) if quiet else contextlib.nullcontext()
    with transaction.atomic(), silenced, connection.cursor() as cursor:
        for pk, source, index in rows:
            fresh = col.field.index_of(col.plaintext(source))
            cursor.execute(
                f"UPDATE {col.table} SET {col.column} = %s WHERE {col.pk} = %s "
                f"AND {col.column} = %s AND {col.source_column} IS NOT DISTINCT FROM %s",
                [fresh, pk, index, source],
            )
            if cursor.rowcount:
                rotated += 1
            else:
                skipped += 1
    return rotated, skipped


def blind_indexes_rotate(
    *,
    batch_size: int = 500,
    on_batch: Callable[[str, int], None] | None = None,
) -> RotationReport:
    """Recompute every blind index not computed with the current blind-index key, in batches.

    Raises crypto.DecryptionError when a source value cannot be decrypted (a missing
    encryption key).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    current = crypto.blind_index_keyring().current_id
    report = RotationReport(key_id=current)
    for col in blind_index_columns():
        rotated = skipped = 0
        after = None
        while rows := _stale_index_batch(col, current=current, after=after, size=batch_size):
            done, missed = _reindex_batch(col, rows)
            rotated, skipped = rotated + done, skipped + missed
            after = rows[-1][0]
            logger.info("recomputed %s indexes of %s with key %s", done, col.label, current)
            if on_batch is not None:
                on_batch(col.label, done)
        report.rotated[col.label] = rotated
        report.skipped[col.label] = skipped
    return report
