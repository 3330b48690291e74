"""The ASGI entry point for hypercorn: `hypercorn cloudstore.asgi:app`."""

from cloudstore import create_app

app = create_app()
