"""A page's WebSocket connection is not forgotten while it is still opening: API Gateway answers a push with
GoneException while the connection's $connect runs, and $connect has already written the row, so an import's push can
find the connection first. Forgotten then, the page's subscribe found no account and showed "Import failed: Not
connected to an account" (seen in a whole run: a tab opened just as a push went out)."""
import uuid

from functions.mail_import.chalicelib import connections
from functions.mail_import.chalicelib.engine import progress


def test_a_push_answered_gone_forgets_only_connections_past_their_opening(dovecot, new_account, db, monkeypatch):
    account_id, _token = new_account(dovecot.new_mailbox("opening"))
    opening, stale = f"opening-{uuid.uuid4().hex}", f"stale-{uuid.uuid4().hex}"
    connections.add(opening, account_id)
    connections.add(stale, account_id)
    db("UPDATE mail_import.ws_connections SET connected_at = now() - make_interval(secs => %s) "
       "WHERE connection_id = %s", connections.GONE_GRACE_SECONDS + 1, stale)
    pushed = []
    monkeypatch.setattr(progress.aws, "push", lambda connection_id, data: pushed.append(connection_id) and False)

    notifier = progress.Notifier(account_id, every=3600)      # nothing sent until close()
    notifier.progress({"type": "progress", "phase": "receiving", "remaining": 1, "total": 2})
    notifier.close()

    assert sorted(pushed) == sorted([opening, stale])          # both were pushed to and both answered "gone"
    assert connections.of_account(account_id) == [opening]      # the one still opening stays, for its subscribe
    assert connections.account_of(opening) == account_id
