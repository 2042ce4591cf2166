"""Encrypted jobs (Laravel: ShouldBeEncrypted and the app's Encrypter).

`class Charge(Job, ShouldBeEncrypted)`: the job's state travels as one Fernet token (AES-128
in CBC mode with an HMAC-SHA256, from `cryptography`) in the task's kwargs,
`{"lq_encrypted": "<token>"}`; the task name and the `lq` header stay readable for Flower,
`lq queue:*` and `lq failed`. The worker decrypts before rebuilding the job.

Keys come from the environment, read when first needed: `LQ_ENCRYPTION_KEY` encrypts and
decrypts; `LQ_PREVIOUS_KEYS` (comma-separated) only decrypt, so keys can be rotated while
jobs encrypted with the old one are still queued (Laravel: APP_PREVIOUS_KEYS). A job that
cannot be decrypted fails at once with the reason and is kept encrypted in `failed_jobs`;
`lq failed:retry` runs it once the key is right.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from laravel_queue.exceptions import ConfigurationError, JobDecodeError

ENCRYPTED_KWARG = "lq_encrypted"
KEY_VARIABLE = "LQ_ENCRYPTION_KEY"
PREVIOUS_KEYS_VARIABLE = "LQ_PREVIOUS_KEYS"
HOW_TO_MAKE_A_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class ShouldBeEncrypted:
    """Mixin: the job's state is encrypted on the broker and in `failed_jobs`."""


def encrypt_state(state: dict[str, Any]) -> dict[str, Any]:
    """The kwargs carrying `state` encrypted with the current key."""
    token = _encrypter().encrypt(json.dumps(state, separators=(",", ":")).encode())
    return {ENCRYPTED_KWARG: token.decode()}


def decrypt_state(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The state in a message's kwargs: decrypted when it was encrypted, else as it is."""
    token = kwargs.get(ENCRYPTED_KWARG)
    if len(kwargs) != 1 or not isinstance(token, str):
        return kwargs
    try:
        encrypter = _encrypter()
    except ConfigurationError as exc:
        raise JobDecodeError(f"cannot decrypt the job: {exc}") from exc
    try:
        state = json.loads(encrypter.decrypt(token.encode()))
    except InvalidToken:
        raise JobDecodeError(
            f"cannot decrypt the job: it was encrypted with a key that is neither "
            f"{KEY_VARIABLE} nor one of {PREVIOUS_KEYS_VARIABLE}"
        ) from None
    if not isinstance(state, dict):
        raise JobDecodeError("the decrypted job state is not an object")
    return state


def _encrypter() -> MultiFernet:
    return _encrypter_for(
        os.environ.get(KEY_VARIABLE, ""), os.environ.get(PREVIOUS_KEYS_VARIABLE, "")
    )


@lru_cache(maxsize=4)
def _encrypter_for(key: str, previous: str) -> MultiFernet:
    if not key.strip():
        raise ConfigurationError(
            f"{KEY_VARIABLE} is not set: encrypted jobs (ShouldBeEncrypted) need a Fernet key "
            f"in every process that dispatches or runs them; make one with: {HOW_TO_MAKE_A_KEY}"
        )
    keys = [(KEY_VARIABLE, key.strip())]
    keys += [(PREVIOUS_KEYS_VARIABLE, old.strip()) for old in previous.split(",") if old.strip()]
    fernets = []
    for variable, value in keys:
        try:
            fernets.append(Fernet(value))
        except ValueError:
            raise ConfigurationError(
                f"{variable} holds a value that is not a Fernet key (32 url-safe base64-encoded "
                f"bytes); make one with: {HOW_TO_MAKE_A_KEY}"
            ) from None
    return MultiFernet(fernets)
