"""The local cloud's console: a live dashboard of functions, queues, schedules, WebSocket connections,
mail sent through SES and the logs of every function (`localcloud run` serves it on port 4000)."""
from .server import Console

__all__ = ["Console"]
