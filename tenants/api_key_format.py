"""The API key format: ``srk_`` + 32 random base62 characters + the CRC32 of those
(``srk_`` included) in 6 base62 characters, GitHub's scheme: a secret scanner can tell
a key from a random string offline, and a typo is refused without a database look-up.

    ^srk_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$

Only the key's SHA-256 is stored; its first 8 characters (``srk_`` and 4 more) are
shown to recognise it. Pure functions, no Django."""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib

PREFIX = "srk_"
RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6
SHOWN_LENGTH = 8
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PATTERN = re.compile(rf"^{PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH}}}[0-9A-Za-z]{{{CHECKSUM_LENGTH}}}$")
LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH


def base62(number: int, *, width: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits)).rjust(width, ALPHABET[0])


def checksum(body: str) -> str:
    """CRC32 of ``srk_`` + the random part, in 6 base62 characters (62**6 > 2**32)."""
    return base62(zlib.crc32(body.encode()), width=CHECKSUM_LENGTH)


def generate() -> str:
    body = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + checksum(body)


def is_well_formed(key: str) -> bool:
    """The pattern and the checksum: what can be checked without the database."""
    if PATTERN.fullmatch(key) is None:
        return False
    return checksum(key[:-CHECKSUM_LENGTH]) == key[-CHECKSUM_LENGTH:]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def shown_prefix(key: str) -> str:
    return key[:SHOWN_LENGTH]


# Scopes: ``<group>:read`` and ``<group>:write``; a view names its group (``scope_group``,
# ``tenants/permissions.py``). Write implies nothing about read: a key asks for both.
SCOPE_GROUPS = ("catalog", "stock", "orders", "parties", "imports", "webhooks", "audit")
SCOPES = tuple(f"{group}:{access}" for group in SCOPE_GROUPS for access in ("read", "write"))
