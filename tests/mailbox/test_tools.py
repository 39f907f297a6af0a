"""The admin and fake-data commands, run as users run them: `python -m ...` from the repo root."""
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from common.web import AppError
from functions.mailbox.chalicelib import access
from tools.mailbox import fake

ROOT = Path(__file__).resolve().parents[2]


def run(pg_url, *args):
    # As the README runs them: from the repo root, the common layer on the path.
    env = dict(os.environ, DATABASE_URL=pg_url, PYTHONPATH="layers/common/python")
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def key_in(output):
    return re.search(r"api key: (\S+)", output).group(1)


def authenticated_as(tx, key):
    with tx() as cur:
        return access.authenticate(cur, {"x-api-key": key}).address


def test_create_mailbox_prints_a_working_key_once(pg_url, tx):
    address = f"Admin.{uuid.uuid4().hex[:8]}@Test.Example"
    created = run(pg_url, "tools.mailbox.admin", "create-mailbox", address)
    assert created.returncode == 0, created.stderr
    key = key_in(created.stdout)
    assert authenticated_as(tx, key) == address.lower()
    with tx() as cur:
        cur.execute("SELECT api_key_digest FROM mailbox.mailboxes WHERE address = %s", (address.lower(),))
        assert key not in cur.fetchone()[0]     # only the digest is stored

    again = run(pg_url, "tools.mailbox.admin", "create-mailbox", address.lower())
    assert again.returncode == 1 and "already exists" in again.stderr

    rotated = run(pg_url, "tools.mailbox.admin", "rotate-key", address)
    assert rotated.returncode == 0, rotated.stderr
    assert authenticated_as(tx, key_in(rotated.stdout)) == address.lower()
    with pytest.raises(AppError) as info:
        authenticated_as(tx, key)       # the old key stopped working
    assert info.value.status == 401


def test_admin_errors_are_plain_messages(pg_url):
    bad = run(pg_url, "tools.mailbox.admin", "create-mailbox", "not-an-address")
    assert bad.returncode == 1 and "not a valid email address" in bad.stderr and "Traceback" not in bad.stderr
    missing = run(pg_url, "tools.mailbox.admin", "rotate-key", f"nobody.{uuid.uuid4().hex[:8]}@test.example")
    assert missing.returncode == 1 and "no mailbox" in missing.stderr


def test_fake_command_creates_users_letters_and_prints_keys(pg_url, tx):
    result = run(pg_url, "tools.mailbox.fake", "--users", "5", "--letters", "40", "--show", "2", "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert "created 5 mailboxes, 40 letters" in result.stdout
    keys = re.findall(r"(\S+@\S+)\s+api key: (\S+)", result.stdout)
    assert len(keys) == 2
    for address, key in keys:
        assert authenticated_as(tx, key) == address


def test_fake_letters_are_realistic_and_consistent(pg_url, tx):
    result = fake.generate(pg_url, users=4, letters=30, max_recipients=2, seed=11)
    addresses = [address for address, _ in result.users]
    assert result.letters == 30 and 60 <= result.copies <= 90
    with tx() as cur:
        cur.execute("""
            SELECT l.id, s.address, l.recipients, l.subject, l.body,
                   array_agg(m.address ORDER BY m.address) FILTER (WHERE c.folder = 'inbox'),
                   count(*) FILTER (WHERE c.folder = 'sent' AND c.mailbox_id = l.sender_id),
                   bool_and(c.created_at = l.created_at)
            FROM mailbox.letters l JOIN mailbox.mailboxes s ON s.id = l.sender_id
            JOIN mailbox.copies c ON c.letter_id = l.id JOIN mailbox.mailboxes m ON m.id = c.mailbox_id
            WHERE s.address = ANY(%s) GROUP BY l.id, s.address""", (addresses,))
        rows = cur.fetchall()
    assert len(rows) == 30
    for _, sender, recipients, subject, body, inboxes, sent_copies, same_time in rows:
        assert sender not in recipients and sorted(recipients) == inboxes and set(recipients) <= set(addresses)
        assert sent_copies == 1 and same_time
        assert subject and len(body) > 20 and "\n" in body
    with tx() as cur:       # the unread counters were kept along with the bulk load
        cur.execute("""
            SELECT m.address, count(c.id) FILTER (WHERE NOT c.is_read), coalesce(max(f.unread), 0)
            FROM mailbox.mailboxes m JOIN mailbox.copies c ON c.mailbox_id = m.id AND c.folder = 'inbox'
            LEFT JOIN mailbox.folder_unread f ON f.mailbox_id = m.id AND f.folder = 'inbox'
            WHERE m.address = ANY(%s) GROUP BY m.address""", (addresses,))
        counts = cur.fetchall()
    assert counts and all(counted == kept for _, counted, kept in counts), counts
