"""ChatApp tokens at rest: encrypted with the platform key; plaintext rows from before are used and encrypted;
tokens under another key are replaced, never sent."""
from cryptography.fernet import Fernet

from common import secretbox
from functions.broadcast.chalicelib import tokens

from broadcast_helpers import sqs_record, store_broadcast


def _plaintext_pair(emulator, make_chatapp, sql):
    """A valid pair the emulator issued, written back in plaintext as the previous version stored it."""
    client = make_chatapp()
    access = client.access_token()
    refresh = tokens.read()["refresh_token"]
    sql("UPDATE chatapp_tokens SET access_token = %s, refresh_token = %s WHERE id = 1", access, refresh)
    return client, access, refresh


def test_a_plaintext_row_from_before_is_used_as_it_is(emulator, make_chatapp, sql):
    client, access, _refresh = _plaintext_pair(emulator, make_chatapp, sql)
    obtained = len(emulator.calls("POST", "/v1/tokens"))
    assert client.access_token() == access and len(emulator.calls("POST", "/v1/tokens")) == obtained


def test_the_maintenance_run_encrypts_a_plaintext_row_in_place(emulator, make_chatapp, sql, secret_key):
    _client, access, refresh = _plaintext_pair(emulator, make_chatapp, sql)
    assert tokens.encrypt_plaintext() is True
    row = sql("SELECT access_token, refresh_token FROM chatapp_tokens WHERE id = 1")[0]
    assert access not in row["access_token"] and refresh not in row["refresh_token"]
    assert secretbox.decrypt(row["access_token"], secret_key) == access
    assert secretbox.decrypt(row["refresh_token"], secret_key) == refresh
    assert tokens.encrypt_plaintext() is False          # nothing left to do
    assert tokens.read()["access_token"] == access


def test_tokens_encrypted_with_another_key_are_replaced_not_sent(emulator, make_chatapp, sql, cloud):
    make_chatapp().access_token()
    other = Fernet.generate_key().decode()
    sql("UPDATE chatapp_tokens SET access_token = %s, refresh_token = %s WHERE id = 1",
        secretbox.encrypt("at_from_elsewhere", other), secretbox.encrypt("rt_from_elsewhere", other))
    _bid, [rid] = store_broadcast("+79991234567", text="after a key change")
    assert cloud.invoke("BroadcastSenderFunction", {"Records": [sqs_record({"recipient": rid})]}) == \
        {"batchItemFailures": []}
    [send] = emulator.sends()
    assert "from_elsewhere" not in (send["authorization"] or "")
    assert not any("from_elsewhere" in (r["refresh"] or "") for r in emulator.calls())
    assert sql("SELECT status FROM broadcast_recipients WHERE id = %s", rid)[0]["status"] == "sent"
