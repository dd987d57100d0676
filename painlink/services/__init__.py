"""What the web app and the command line both do to a diary: single-record writes,
account operations, the whole-diary export and the per-diary analysis cache.

Plain functions over a SQLAlchemy connection (or a :class:`~painlink.store.store.Store`),
importable without FastAPI, so a script, the CLI and a researcher's notebook write and
read exactly as the pages do. This layer may use store, interop, analysis and clinical;
it never imports the web app.
"""
