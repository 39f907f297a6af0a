"""code_check: pages, the partner API, the scheduled checker and the e-mail notifier (thin adapters).

Who may call which route: chalicelib/access.py (one table, checked by the middleware below). Routes:
chalicelib/routes/ (pages, account, api). Workers wired by template.yaml: check_tick (its schedule), send_reports
(the reports queue), delete_accounts (the deletions queue). Errors are mapped once, at the end.
"""
from chalice import Chalice

from chalicelib import access, settings
from chalicelib.accounts import deletion
from chalicelib.checks import tick
from chalicelib.reports import notifier
from chalicelib.routes import account, api, pages as page_routes
from chalicelib.web import pages
from common import batch, web

app = Chalice(app_name="code_check")
# Downloads are the stored bytes in the file's own encoding: sent base64-encoded, never re-encoded.
app.api.binary_types.append("text/x-python")


@app.middleware("http")
def admit(event, get_response):
    """Who may call the route (access.py), then Chalice's own errors in our {"error"} shape."""
    refused = access.admit(event)
    return web.reshape_framework_error(refused if refused is not None else get_response(event))


app.register_blueprint(page_routes.bp)
app.register_blueprint(account.bp)
app.register_blueprint(api.bp)


@app.lambda_function()
def check_tick(event, context):
    config = settings.load()
    return {**tick.tick(config), "deletions_requeued": deletion.sweep(config)}


@app.lambda_function()
def send_reports(event, context):
    config = settings.for_notifier()
    # heartbeat: a notifier that dies mid-batch has its records back within a minute, not the queue's timeout.
    return batch.process(event, lambda record: notifier.handle_record(config, record), context=context, heartbeat=True)


@app.lambda_function()
def delete_accounts(event, context):
    config = settings.load()
    # heartbeat: a deleter killed half-way has its record back within a minute; the redelivery finishes the work.
    return batch.process(event, lambda record: deletion.handle_record(config, record), context=context, heartbeat=True)


web.map_errors(app, render_page=lambda error: pages.error_page(app.current_request)(error),
               is_page=lambda path: not access.is_api(path))
