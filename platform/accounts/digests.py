"""Digests stored instead of secrets: API token keys and invitation keys are shown once and kept only
as SHA-256; a token remembers a digest of its user's password hash to die when the password changes."""

import hashlib


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def password_digest(user) -> str:
    return hashlib.sha256((user.password or "").encode()).hexdigest()
