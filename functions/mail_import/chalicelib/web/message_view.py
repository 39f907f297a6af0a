"""One imported message for its page: headers, text, attachments, and its HTML part made safe for a frame."""
import base64

from common import rows
from common.db import pg_transaction

from .. import queries
from ..engine import attachment_store
from . import html_view

MAX_INLINE_BYTES = 3 * 1024 * 1024   # inline images travel inside the frame's document (Lambda answers <= 6 MB)


def get(account_id, message_id):
    """The message (with "attachments") if it belongs to the account, else None."""
    with pg_transaction() as cur:
        cur.execute(queries.MESSAGE, (message_id, account_id))
        message = rows.one(cur)
        if message is None:
            return None
        cur.execute(queries.MESSAGE_ATTACHMENTS, (message_id,))
        return dict(message, attachments=rows.all(cur))


def inline_images(attachments, fetch=attachment_store.get):
    """{content id: data: URL} of the message's images that have a Content-ID, within MAX_INLINE_BYTES.

    Data URLs, not links to the attachment route: the sandboxed frame has an origin of its own and sends
    no cookies, and the frame's CSP then needs no network source for images at all.
    """
    out, budget = {}, MAX_INLINE_BYTES
    for a in attachments:
        if not a["content_id"] or not a["content_type"].startswith("image/") or a["size"] > budget:
            continue
        content = fetch(a["storage_key"])
        budget -= len(content)
        out[a["content_id"].strip("<>").lower()] = (
            f"data:{a['content_type']};base64,{base64.b64encode(content).decode('ascii')}")
    return out


def frame(message, language, allow_remote):
    """(document, Content-Security-Policy, blocked remote images) for the message's HTML part."""
    safe = html_view.sanitize(message["html"], inline_images(message["attachments"]), allow_remote)
    return html_view.document(safe, language), html_view.frame_csp(allow_remote), safe.blocked_images
