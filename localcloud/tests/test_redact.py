"""The console's masking of credential-looking query values (localcloud/console/redact.py)."""
import pytest

from localcloud.console.redact import mask_query, mask_values


@pytest.mark.parametrize("text, shown", [
    ("/prod?token=abc", "/prod?token=***"),
    ("/prod?user=alice&token=abc&x=1", "/prod?user=alice&token=***&x=1"),
    ("wss://h/p?access_token=abc#frag", "wss://h/p?access_token=***#frag"),
    ("GET /a?apiKey=abc&client_secret=d%20e HTTP/1.1", "GET /a?apiKey=***&client_secret=*** HTTP/1.1"),
    ("?X-Amz-Signature=abc;password=p", "?X-Amz-Signature=***;password=***"),
    ("url='https://h/?auth=abc'", "url='https://h/?auth=***'"),
    ("/p?api%5Fkey=abc", "/p?api%5Fkey=***"),
    ("/p?page=2&limit=10", "/p?page=2&limit=10"),
    ("/p?token=", "/p?token="),
    ("mailing_id=42 done", "mailing_id=42 done"),
    ("no query at all", "no query at all"),
])
def test_credential_values_are_masked_and_others_kept(text, shown):
    assert mask_query(text) == shown


def test_nested_values_are_masked_and_kept_in_shape():
    value = {"path": "/x?secret=1", "n": 3, "items": ["?key=2", None], "ok": True}
    assert mask_values(value) == {"path": "/x?secret=***", "n": 3, "items": ["?key=***", None], "ok": True}
