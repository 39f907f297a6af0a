"""The import's own FETCH response reader gives what imapclient's parser gives, on Dovecot and on odd shapes."""
from datetime import datetime, timedelta, timezone

import pytest
from imapclient import response_parser

from functions.mail_import.chalicelib.engine import fetch_response, imap_session
from mail_import_corpus import make_message

DATE = b'"17-Jul-1996 02:44:25 -0700"'

SHAPES = {
    # what Dovecot sends for the import's FETCH
    "uid, date, body": [(b'1 (UID 7 INTERNALDATE ' + DATE + b' BODY[] {5}', b'hello'), b')'],
    "date after the body": [(b'2 (UID 8 BODY[] {3}', b'abc'), b' INTERNALDATE ' + DATE + b')'],
    "size added, lower case": [(b'3 (uid 9 rfc822.size 3 body[] {3}', b'xyz'), b' internaldate ' + DATE + b')'],
    "an empty literal": [(b'4 (UID 10 INTERNALDATE ' + DATE + b' BODY[] {0}', b''), b')'],
    # shapes the fast path leaves to imapclient
    "unsolicited flags": [b'5 (FLAGS (\\Seen))'],
    "flags beside the body": [(b'6 (UID 11 FLAGS (\\Seen $Junk) BODY[] {2}', b'hi'), b')'],
    "quoted body": [b'7 (UID 12 INTERNALDATE ' + DATE + b' BODY[] "short")'],
    "nil body": [b'8 (UID 13 BODY[] NIL)'],
    "two literals": [(b'9 (UID 14 BODY[] {2}', b'ab'), (b' BODY[HEADER] {2}', b'cd'), b')'],
    "bad date": [(b'10 (UID 15 INTERNALDATE "not a date" BODY[] {1}', b'z'), b')'],
}
FAST = {"uid, date, body", "date after the body", "size added, lower case", "an empty literal", "bad date"}


@pytest.mark.parametrize("name", SHAPES)
def test_every_shape_reads_as_imapclient_reads_it(name, monkeypatch):
    data = SHAPES[name]
    expected = {uid: dict(items) for uid, items in response_parser.parse_fetch_response(data, False, True).items()}
    calls = []
    original = fetch_response.parse_fetch_response
    monkeypatch.setattr(fetch_response, "parse_fetch_response", lambda *a: calls.append(a) or original(*a))

    assert fetch_response.parse(data) == expected
    assert bool(calls) == (name not in FAST)   # the fast path took exactly the shapes it claims


def test_a_batch_mixing_shapes_keeps_every_message():
    data = [element for name in ("uid, date, body", "unsolicited flags", "date after the body", "two literals")
            for element in SHAPES[name]]
    parsed = fetch_response.parse(data)
    expected = response_parser.parse_fetch_response(data, False, True)
    assert parsed == {uid: dict(items) for uid, items in expected.items()}
    assert sorted(parsed) == [5, 7, 8, 14]
    assert parsed[7][b"BODY[]"] == b"hello" and parsed[8][b"BODY[]"] == b"abc"
    assert parsed[7][b"INTERNALDATE"] == datetime(1996, 7, 17, 2, 44, 25, tzinfo=timezone(timedelta(hours=-7)))


def test_dovecot_messages_come_back_byte_exact_with_their_dates(dovecot, mail_env):
    mailbox = dovecot.new_mailbox("fetch-response")
    messages = [make_message(n, n % 10 == 0) for n in range(30)]
    mailbox.fill("INBOX", messages)
    session = imap_session.connect(imap_session.Server(mailbox.host, mailbox.port, False, mailbox.login,
                                                       mailbox.password))
    with session, mailbox.client() as reference:
        session.select("INBOX")
        reference.normalise_times = False       # tz-aware, as the session keeps them
        reference.select_folder("INBOX", readonly=True)
        uids = session.all_uids()
        fetched = session.fetch_messages(uids[:-1] + [uids[-1] + 1000])   # one UID the folder does not have
        expected = reference.fetch(uids[:-1], ["BODY.PEEK[]", "INTERNALDATE"])

    assert sorted(fetched) == uids[:-1] and len(uids) == len(messages)
    for uid in uids[:-1]:
        raw, received_at, size = fetched[uid]
        assert raw == expected[uid][b"BODY[]"] and size == len(raw) > 1000
        assert received_at == expected[uid][b"INTERNALDATE"] and received_at.tzinfo is not None
