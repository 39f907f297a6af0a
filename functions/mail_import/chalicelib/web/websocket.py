"""The WebSocket API's routes: $connect checks the account token, subscribe answers with a snapshot."""
import json

from common.log import get_logger

from .. import connections
from ..engine import accounts, failures, job_records, progress
from . import message_list

log = get_logger(__name__)


def dispatch(event):
    """Handle one WebSocket API event by its route key; returns the Lambda proxy response."""
    context = event.get("requestContext") or {}
    route, connection_id = context.get("routeKey"), context.get("connectionId")
    if route == "$connect":
        return connect(connection_id, event.get("queryStringParameters") or {})
    if route == "$disconnect":
        disconnect(connection_id)
        return {"statusCode": 200}
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        body = {}
    if route == "subscribe" or (isinstance(body, dict) and body.get("action") == "subscribe"):
        return _reply(subscribe(connection_id))
    return _reply({"type": "error", "message": "Unknown action; send {\"action\": \"subscribe\"}."})


def _reply(event):
    return {"statusCode": 200, "body": json.dumps(event, ensure_ascii=False, default=str)}


def connect(connection_id, query):
    """Accept the connection only with the account's token (?account=ID&token=...)."""
    try:
        account_id = int(query.get("account", ""))
    except ValueError:
        account_id = None
    account = accounts.authorized(account_id, query.get("token"))
    if account is None:
        return {"statusCode": 403, "body": "Forbidden"}
    connections.add(connection_id, account_id)
    return {"statusCode": 200}


def disconnect(connection_id):
    """Forget a closed connection."""
    connections.forget(connection_id)


def subscribe(connection_id):
    """The current state for a page that just (re)connected: job progress and how far the rows go."""
    account_id = connections.account_of(connection_id)
    if account_id is None:
        return {"type": "error", "message": failures.NOT_CONNECTED,
                "error_message": {"msgid": failures.NOT_CONNECTED, "params": {}}}
    job = job_records.latest_job(account_id)
    count, latest_id = message_list.stats(account_id)
    account = accounts.get(account_id)
    return {"type": "snapshot", "job": progress.job_event(job) if job else None, "count": count,
            "latest_id": latest_id, "account": {"status": account["status"], "error": account["error"]}}
