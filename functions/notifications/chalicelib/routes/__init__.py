"""The HTTP routes as Chalice blueprints: `api` (the REST API and its documentation) and `pages` (the admin
page). Adapters only: parse the request, call the logic, shape the answer; app.py decides who may call them
(access.py) and maps their errors."""
