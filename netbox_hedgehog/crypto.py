"""
Encryption at rest of a fabric's secrets (its bearer token and its kubeconfig).

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) through a MultiFernet: the first key of the plugin
setting `secret_keys` encrypts, every key decrypts, so keys can be rotated (`netbox hedgehog_rotate_secrets`
re-encrypts every row with the first key). Without `secret_keys`, the key is derived from NetBox's SECRET_KEY.
Each configured string goes through HKDF-SHA256 with a salt that names this purpose, so the same string used
elsewhere never yields the same key, and any long random string serves as a key.

A stored secret is read back as a `Sealed` string holding the ciphertext: templates, exports, serializers and
the change log only ever see ciphertext. `unseal()` turns it into plain text and is called only where a
connection to the fabric's Kubernetes API is built.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from netbox.plugins import get_plugin_config

__all__ = ('Sealed', 'SecretUnreadable', 'is_entered', 'seal', 'unseal')

SALT = b'netbox-hedgehog: fabric credentials at rest, v1'


class Sealed(str):
    """Ciphertext of a secret as stored. A plain `str` in a secret field is plain text entered in this save."""

    __slots__ = ()


class SecretUnreadable(Exception):
    """The stored ciphertext does not open with any configured key."""


def is_entered(value):
    """Whether a secret field holds plain text given in this save (not what was loaded from the database)."""
    return bool(value) and not isinstance(value, Sealed)


def _derive(secret):
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=b'fernet').derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@lru_cache(maxsize=4)
def _cipher(secrets):
    return MultiFernet([_derive(secret) for secret in secrets])


def configured_secrets():
    """The key strings in use, first one encrypting: `secret_keys`, or NetBox's SECRET_KEY without it."""
    secrets = get_plugin_config('netbox_hedgehog', 'secret_keys') or [settings.SECRET_KEY]
    if isinstance(secrets, str) or not all(isinstance(s, str) and len(s) >= 32 for s in secrets):
        raise ImproperlyConfigured(
            'PLUGINS_CONFIG["netbox_hedgehog"]["secret_keys"] must be a list of strings of at least 32 characters.'
        )
    return tuple(secrets)


def seal(plaintext):
    """Encrypt plain text with the first key."""
    return Sealed(_cipher(configured_secrets()).encrypt(plaintext.encode()).decode())


def unseal(value):
    """Plain text of a stored secret; raises SecretUnreadable when no configured key opens it."""
    if not value:
        return ''
    if not isinstance(value, Sealed):
        return value
    try:
        return _cipher(configured_secrets()).decrypt(value.encode()).decode()
    except (InvalidToken, UnicodeDecodeError):
        raise SecretUnreadable()
