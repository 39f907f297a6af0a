"""GET /metrics for Prometheus. Who may call it is declared here once: the middleware lets through only
requests with the metrics token (chalicelib/metrics.py); operators' tokens do not open it."""
from datetime import datetime, timezone

from chalice import Blueprint

from common import web

from . import metrics

routes = Blueprint(__name__)
GUARDED = ("/metrics",)


@routes.middleware("http")
def metrics_token(event, get_response):
    if event.path not in GUARDED:
        return get_response(event)
    refused = metrics.check_token(metrics.load(), event.headers)
    if refused is not None:
        return web.json_error(refused.status, refused.text, headers=dict(web.NO_STORE, **refused.headers))
    return get_response(event)


@routes.route("/metrics", methods=["GET"])
def prometheus_metrics():
    text, content_type = metrics.exposition(datetime.now(timezone.utc))
    return web.Response(body=text, status_code=200, headers=dict(web.NO_STORE, **{"Content-Type": content_type}))
