"""The web app (FastAPI, server-rendered pages, JSON API)."""
