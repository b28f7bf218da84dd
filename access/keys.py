"""How a token looks and how it is stored: 40 random hex characters (160 bits, the shape of
Django REST framework's own tokens, so old and new ones look alike), kept as their SHA-256.
A plain hash, not a slow password hash: the token is random, not something a person chose,
so nobody can guess it from its digest, and every API request must look it up quickly."""

from __future__ import annotations

import hashlib
import secrets

KEY_BYTES = 20
PREFIX_LENGTH = 8


def new_key() -> str:
    return secrets.token_hex(KEY_BYTES)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def prefix(key: str) -> str:
    return key[:PREFIX_LENGTH]
