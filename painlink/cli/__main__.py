"""``python -m painlink.cli``: the ``painlink`` command without its entry point."""

from painlink.cli import app

app()
