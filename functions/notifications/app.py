"""Notifications: scheduled text mailings through the provider's API.

HTTP routes are blueprints in chalicelib/routes (the API, the admin page); who may call them is declared once
in chalicelib/access.py; the workers the template wires (the dispatcher, the sender, the daily report) are
one-line adapters to chalicelib; errors map to answers once, at the end.
"""
from chalice import Chalice

from chalicelib import access
from chalicelib.clock import now
from chalicelib.dispatch import dispatcher
from chalicelib import metrics_routes, oidc_routes
from chalicelib.routes import api, pages
from chalicelib.sending import sender
from chalicelib.stats import reports
from common import batch, web

app = Chalice(app_name="notifications")


@app.middleware("http")
def guard(event, get_response):
    """Who may call the route (access.py), then Chalice's own errors (405, 415, bad JSON) in the API's shape."""
    try:
        access.admit(app.routes, event, now())
    except Exception as exc:  # noqa: BLE001 - a refusal or a lost database is an answer, never a traceback
        page = access.is_page(event.context.get("resourcePath") or "")
        return web.error_answer(exc, pages.error_page if page else None)
    return web.reshape_framework_error(get_response(event))


app.register_blueprint(api.bp)
app.register_blueprint(pages.bp)
app.register_blueprint(metrics_routes.routes)   # GET /metrics, behind its own token
app.register_blueprint(oidc_routes.routes)      # the admin page's sign-in with the organisation's provider


# ---- workers (wired by the template) ------------------------------------------------------------------

@app.lambda_function()
def dispatch(event, context):
    """A mailing's start: its one-off schedule, the dispatch queue, or the minute sweep."""
    return dispatcher.run(event, now())


@app.lambda_function()
def send(event, context):
    """Queued messages, each on its own: a failure is retried with backoff without holding the others.
    heartbeat: a sender that dies mid-batch has its records back within a minute, not the queue's timeout."""
    return batch.process(event, lambda record: sender.handle_record(record, now), context, heartbeat=True)


@app.lambda_function()
def daily_report(event, context):
    """The daily statistics email to the operators (SES)."""
    return {"sent": reports.send_daily(now())}


web.map_errors(app, render_page=pages.error_page, is_page=access.is_page)
