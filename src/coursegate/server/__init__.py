"""The server: the FastAPI application with the JSON API and the pages, uvicorn, periodic jobs.

``create_app`` builds the application; ``coursegate serve`` runs it under uvicorn.
"""

from coursegate.server.app import create_app

__all__ = ["create_app"]
