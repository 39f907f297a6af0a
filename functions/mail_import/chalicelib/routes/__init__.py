"""The HTTP routes as Chalice blueprints (pages, api), registered by app.py; they adapt requests to chalicelib.web
and chalicelib.engine and read the account the access layer (web/access.py) put on the request."""
