"""mail_import: IMAP mailboxes imported into PostgreSQL, with live progress over a WebSocket.

Handlers only adapt events; the logic lives in chalicelib (mime: the decoder, engine: the import,
web: pages, access and the WebSocket routes; routes: the HTTP blueprints). HTTP: app.app; the SQS chunk
worker: app.import_worker; the search indexer: app.index_worker; the sync schedule: app.sync_schedule;
the WebSocket API ($connect, $disconnect, $default, subscribe): app.ws_handler. template.yaml wires each.
"""
from chalice import Chalice
from common import batch, web
from common.log import get_logger

from chalicelib.engine import indexer, jobs, schedule
from chalicelib.routes import api, pages
from chalicelib.web import access, websocket

app = Chalice(app_name="mail_import")
log = get_logger("mail_import")


def is_page(route):
    """Every route outside /api/ answers with pages, failures included."""
    return not route.startswith("/api/")


app.register_middleware(access.guard(pages.error_page, is_page), "http")
app.register_blueprint(pages.bp)
app.register_blueprint(api.bp)


# ---- workers (wired by template.yaml) -----------------------------------------------------------

@app.lambda_function()
def import_worker(event, context):
    """Run the import chunk each message names (a busy job's message comes back later: batch.Retry). The heartbeat
    keeps the message hidden only while this process lives: a killed chunk is back within a minute."""
    def chunk(record):
        remaining = context.get_remaining_time_in_millis() if context else 900_000
        jobs.handle(record["body"], batch.attempt_of(record), remaining)
    return batch.process(event, chunk, context=context, heartbeat=True)


@app.lambda_function()
def index_worker(event, context):
    """Index imported messages for search (a bounded share per request; the rest is queued again)."""
    return batch.process(event, lambda record: indexer.handle(record["body"]), context=context)


@app.lambda_function()
def sync_schedule(event, context):
    """Every minute: queue the syncs that are due, spread over the minute; re-queue stranded jobs."""
    return schedule.run()


@app.lambda_function()
def ws_handler(event, context):
    """Every route of the WebSocket API."""
    try:
        return websocket.dispatch(event)
    except Exception:
        log.exception("WebSocket route failed", route=(event.get("requestContext") or {}).get("routeKey"))
        return {"statusCode": 500, "body": "Internal error"}


web.map_errors(app, render_page=pages.error_page, is_page=is_page)
