"""The HTTP server: FastAPI routes over the services (thin: parse, authorise, call, render).

``create_app`` builds the application; ``coursegate serve`` runs it under uvicorn.
"""

from coursegate.api.app import create_app

__all__ = ["create_app"]
