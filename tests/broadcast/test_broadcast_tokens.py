"""ChatApp tokens: obtained once, reused, refreshed near expiry and on rejection, renewed once under concurrency."""
import threading
import time

import pytest

from common import secretbox
from functions.broadcast.chalicelib import chatapp, tokens

TOKENS, REFRESH = "/v1/tokens", "/v1/tokens/refresh"


def _count(emulator, path):
    return len(emulator.calls("POST", path))


def test_first_use_obtains_tokens_stores_them_and_registers_the_callback(emulator, make_chatapp, sql, secret_key):
    client = make_chatapp()
    token = client.access_token()
    row = sql("SELECT * FROM chatapp_tokens WHERE id = 1")[0]
    # Stored encrypted: the column is not the token, and the platform's key turns it back into the token.
    assert row["access_token"] != token and token not in row["access_token"]
    assert secretbox.decrypt(row["access_token"], secret_key) == token
    assert secretbox.decrypt(row["refresh_token"], secret_key).startswith("rt_")
    assert "rt_" not in row["refresh_token"]
    assert row["access_expires_at"] > time.time() + 23 * 3600
    assert row["refresh_expires_at"] > time.time() + 13 * 24 * 3600
    assert row["callback_digest"] == client.callback_digest()
    assert emulator.callbacks["100001"] == {"url": client.settings.callback_url, "events": ["messageStatus"]}
    assert client.settings.callback_url == \
        f"http://127.0.0.1:9/prod/webhooks/chatapp?secret={client.settings.webhook_secret}"
    assert _count(emulator, TOKENS) == 1


def test_tokens_are_reused_not_obtained_per_request(emulator, make_chatapp):
    client = make_chatapp()
    seen = {client.access_token() for _ in range(25)}
    assert len(seen) == 1
    assert _count(emulator, TOKENS) == 1 and _count(emulator, REFRESH) == 0
    assert len(emulator.calls("PUT")) == 1        # the callback is registered once too


def test_access_token_is_refreshed_when_it_expires(emulator, make_chatapp, sql):
    client = make_chatapp()
    emulator.configure(access_ttl=2)
    first = client.access_token()
    ends = sql("SELECT access_expires_at FROM chatapp_tokens WHERE id = 1")[0]["access_expires_at"]  # as stored
    assert client.access_token(now=ends - 1) == first
    second = client.access_token(now=ends + 0.5)   # an injected clock past the end, no sleeping
    assert second != first and second in emulator.access_tokens
    assert _count(emulator, TOKENS) == 1 and _count(emulator, REFRESH) == 1


def test_refresh_happens_shortly_before_expiry_not_after(emulator, make_chatapp):
    client = make_chatapp()
    first = client.access_token()
    ends = emulator.access_tokens[first]
    assert client.access_token(now=ends - tokens.MAX_MARGIN - 5) == first
    assert client.access_token(now=ends - tokens.MAX_MARGIN + 5) != first
    assert _count(emulator, REFRESH) == 1


def test_rejected_access_token_is_renewed_with_the_refresh_token(emulator, make_chatapp):
    client = make_chatapp()
    old = client.access_token()
    emulator.revoke(access=True, refresh=False)
    new = client.renew(stale=old)
    assert new != old
    assert _count(emulator, TOKENS) == 1 and _count(emulator, REFRESH) == 1


def test_dead_refresh_token_means_new_tokens(emulator, make_chatapp):
    client = make_chatapp()
    old = client.access_token()
    emulator.revoke(access=True, refresh=True)
    new = client.renew(stale=old)
    assert new != old
    assert _count(emulator, REFRESH) == 1 and _count(emulator, TOKENS) == 2
    assert len(emulator.calls("PUT")) == 2      # new tokens: the callback is registered again


def test_refresh_token_at_its_end_is_not_even_tried(emulator, make_chatapp):
    client = make_chatapp()
    emulator.configure(refresh_ttl=chatapp.REFRESH_SAFETY - 5)
    old = client.access_token()
    client.renew(stale=old)
    assert _count(emulator, REFRESH) == 0 and _count(emulator, TOKENS) == 2


def test_renewal_is_skipped_when_someone_else_already_renewed(emulator, make_chatapp):
    client = make_chatapp()
    old = client.access_token()
    emulator.revoke(access=True, refresh=False)
    new = client.renew(stale=old)
    assert client.renew(stale=old) == new      # a second caller with the same stale token
    assert _count(emulator, REFRESH) == 1


@pytest.mark.parametrize("revoke_refresh", [False, True])
def test_concurrent_renewals_obtain_or_refresh_once(emulator, make_chatapp, revoke_refresh):
    client = make_chatapp()
    old = client.access_token()
    emulator.revoke(access=True, refresh=revoke_refresh)
    emulator.requests.clear()
    barrier, results, errors = threading.Barrier(6), [], []

    def renew():
        barrier.wait()
        try:
            results.append(client.renew(stale=old))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=renew) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(set(results)) == 1 and len(results) == 6
    assert _count(emulator, REFRESH) == 1
    assert _count(emulator, TOKENS) == (1 if revoke_refresh else 0)


def test_concurrent_first_use_obtains_once(emulator, make_chatapp):
    client = make_chatapp()
    barrier, results = threading.Barrier(5), []

    def use():
        barrier.wait()
        results.append(client.access_token())

    threads = [threading.Thread(target=use) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 5 and len(set(results)) == 1
    assert _count(emulator, TOKENS) == 1


def test_schedule_renews_well_ahead_of_expiry_and_otherwise_does_nothing(emulator, make_chatapp):
    client = make_chatapp()
    assert client.keep_fresh() is True            # no tokens yet: obtain them
    assert client.keep_fresh() is False           # 24 h left: nothing to do
    emulator.configure(access_ttl=3600)
    old = client.renew(stale=client.access_token())
    assert client.keep_fresh() is True            # 1 h left < 2 h ahead: refreshed now
    assert client.access_token() != old
    assert _count(emulator, TOKENS) == 1
