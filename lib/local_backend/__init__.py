"""The built-in local backend: a loopback server speaking Together AI's wire format.

It is the playground's default when no API key is set and the server every test talks to.
Its models are small and honest about it: n-gram text models trained on the Python standard
library (when a first completion asks for them), procedural images, and a keyword guard as
a moderation model.

    from lib.local_backend import LocalBackend, get_shared_backend
    backend = LocalBackend(port=0).start()   # backend.base_url == "http://127.0.0.1:PORT/v1"
"""
from .server import LocalBackend, get_shared_backend

__all__ = ["LocalBackend", "get_shared_backend"]
