"""Application-side encryption of sensitive values (docs/adr/0016-sensitive-fields-and-hardening).

Keys come from settings.LYCEUM_ENCRYPTION_KEYS, a list of "<key id>:<Fernet key>" (the first
is the current key, the others still decrypt). A stored value is the envelope
"enc1:<key id>:<Fernet token>", so every row says which key sealed it: rotation re-encrypts only
the rows whose key id is not the current one, and a key can be removed once no row names it.
Searchable values get a blind index: an HMAC-SHA256 under a separate key, never a decryption.
Blind-index keys (settings.LYCEUM_BLIND_INDEX_KEYS, "<key id>:<secret>", the first current) are
named in the stored index too, "<key id>:<hex>": a lookup asks for the value's index under every
configured key, so search keeps working while `rotate_blind_index_keys` recomputes the indexes.
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

PREFIX = "enc1"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
ENVELOPE = re.compile(r"^enc1:([A-Za-z0-9_-]{1,32}):(.+)$", re.DOTALL)


class DecryptionError(ValueError):
    """A stored value could not be decrypted (unknown key, tampered or not an envelope)."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    fernets: dict[str, Fernet]

    @property
    def ids(self) -> list[str]:
        return list(self.fernets)


def parse_keys(entries) -> Keyring:
    """A keyring from "<id>:<urlsafe base64 32-byte key>" entries, the first one current."""
    fernets: dict[str, Fernet] = {}
    for entry in entries:
        key_id, sep, key = str(entry).strip().partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                "LYCEUM_ENCRYPTION_KEYS entries are '<id>:<key>' with an id of letters, digits, "
                "'-' or '_' (at most 32)."
            )
        if key_id in fernets:
            raise ImproperlyConfigured(f"LYCEUM_ENCRYPTION_KEYS names key {key_id!r} twice.")
        try:
            fernets[key_id] = Fernet(key.strip())
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"LYCEUM_ENCRYPTION_KEYS key {key_id!r} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with `manage.py "
                "rotate_encryption_keys --generate`)."
            ) from exc
    if not fernets:
        raise ImproperlyConfigured(
            "LYCEUM_ENCRYPTION_KEYS is empty: sensitive fields cannot be encrypted."
        )
    return Keyring(current_id=next(iter(fernets)), fernets=fernets)


@cache
def keyring() -> Keyring:
    return parse_keys(getattr(settings, "LYCEUM_ENCRYPTION_KEYS", []))


# The id a lone LYCEUM_BLIND_INDEX_KEY (the setting before key rotation existed) goes by.
LEGACY_BLIND_INDEX_KEY_ID = "b0"
BLIND_INDEX_MIN_SECRET = 16


@dataclass(frozen=True)
class BlindIndexKeyring:
    current_id: str
    keys: dict[str, bytes]

    @property
    def ids(self) -> list[str]:
        return list(self.keys)


def parse_blind_index_keys(entries) -> BlindIndexKeyring:
    """A blind-index keyring from "<id>:<secret>" entries, the first one current."""
    keys: dict[str, bytes] = {}
    for entry in entries:
        key_id, sep, secret = str(entry).strip().partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                "LYCEUM_BLIND_INDEX_KEYS entries are '<id>:<secret>' with an id of letters, "
                "digits, '-' or '_' (at most 32)."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"LYCEUM_BLIND_INDEX_KEYS names key {key_id!r} twice.")
        if len(secret.strip()) < BLIND_INDEX_MIN_SECRET:
            raise ImproperlyConfigured(
                f"LYCEUM_BLIND_INDEX_KEYS key {key_id!r} is too short (at least "
                f"{BLIND_INDEX_MIN_SECRET} characters; make one with `manage.py "
                "rotate_blind_index_keys --generate`)."
            )
        keys[key_id] = secret.strip().encode()
    if not keys:
        raise ImproperlyConfigured(
            "LYCEUM_BLIND_INDEX_KEYS (or LYCEUM_BLIND_INDEX_KEY) is empty: blind indexes "
            "cannot work."
        )
    return BlindIndexKeyring(current_id=next(iter(keys)), keys=keys)


@cache
def blind_index_keyring() -> BlindIndexKeyring:
    entries = list(getattr(settings, "LYCEUM_BLIND_INDEX_KEYS", None) or [])
    legacy = getattr(settings, "LYCEUM_BLIND_INDEX_KEY", "")
    if not entries and legacy:
        entries = [f"{LEGACY_BLIND_INDEX_KEY_ID}:{legacy}"]
    return parse_blind_index_keys(entries)


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    if setting in ("LYCEUM_ENCRYPTION_KEYS", "LYCEUM_BLIND_INDEX_KEYS", "LYCEUM_BLIND_INDEX_KEY"):
        keyring.cache_clear()
        blind_index_keyring.cache_clear()


def generate_key(key_id: str) -> str:
    """A new "<id>:<key>" entry for LYCEUM_ENCRYPTION_KEYS."""
    if not KEY_ID.match(key_id):
        raise ValueError("A key id is letters, digits, '-' or '_' (at most 32).")
    return f"{key_id}:{Fernet.generate_key().decode()}"


def derive_key(secret: str, purpose: str) -> str:
    """A Fernet key derived from a secret; only for development defaults, never production."""
    digest = hashlib.sha256(f"lyceum:{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def is_envelope(value: str) -> bool:
    return bool(ENVELOPE.match(value))


def key_id_of(value: str) -> str | None:
    """The id of the key that sealed a stored value (None when it is not an envelope)."""
    match = ENVELOPE.match(value)
    return match.group(1) if match else None


def encrypt(plaintext: str) -> str:
    """Seal a text with the current key: "enc1:<key id>:<token>"."""
    ring = keyring()
    token = ring.fernets[ring.current_id].encrypt(plaintext.encode())
    return f"{PREFIX}:{ring.current_id}:{token.decode()}"


def decrypt(value: str) -> str:
    """Open a stored envelope with the key it names (any configured key, current or not).

    Raises DecryptionError when the value is not an envelope, names no configured key, or was
    tampered with.
    """
    match = ENVELOPE.match(value)
    if match is None:
        raise DecryptionError("The stored value is not an encrypted envelope.")
    key_id, token = match.groups()
    ring = keyring()
    fernet = ring.fernets.get(key_id)
    try:
        if fernet is not None:
            return fernet.decrypt(token.encode()).decode()
        # A renamed key still opens its old envelopes: try every configured key.
        return MultiFernet(list(ring.fernets.values())).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            f"Cannot decrypt a value sealed with key {key_id!r}: the key is not configured "
            "(LYCEUM_ENCRYPTION_KEYS) or the value was altered."
        ) from exc


def generate_blind_index_key(key_id: str) -> str:
    """A new "<id>:<secret>" entry for LYCEUM_BLIND_INDEX_KEYS (256 random bits)."""
    if not KEY_ID.match(key_id):
        raise ValueError("A key id is letters, digits, '-' or '_' (at most 32).")
    return f"{key_id}:{secrets.token_urlsafe(32)}"


def blind_index(value: str, *, purpose: str, key_id: str | None = None) -> str:
    """Keyed hash of a normalised value, "<key id>:<HMAC-SHA256 hex>", under the current key
    (or the configured key `key_id`); equal inputs give equal indexes.

    `purpose` separates the fields, so equal values in two fields do not match each other.
    """
    ring = blind_index_keyring()
    key_id = key_id or ring.current_id
    message = f"{purpose}\x00{value}".encode()
    return f"{key_id}:{hmac.new(ring.keys[key_id], message, hashlib.sha256).hexdigest()}"


def blind_indexes(value: str, *, purpose: str) -> list[str]:
    """The value's index under every configured key, current first: what a lookup matches, so
    rows not yet moved to the current key are still found during a rotation."""
    return [
        blind_index(value, purpose=purpose, key_id=key_id) for key_id in blind_index_keyring().ids
    ]


def blind_index_key_id_of(index: str) -> str | None:
    """The id of the key that computed a stored index (None for blank or malformed)."""
    key_id, sep, digest = index.partition(":")
    return key_id if sep and KEY_ID.match(key_id) and digest else None
