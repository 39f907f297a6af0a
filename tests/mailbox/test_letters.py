"""The mail logic against the real PostgreSQL: fan-out, atomicity, paging, read flags, deletion, ownership."""
import random
import threading
import uuid

import psycopg2
import pytest

from common.web import AppError
from functions.mailbox.chalicelib import letters, pagination, queries
from functions.mailbox.chalicelib.validation import NewLetter, PageRequest


def new_letter(*recipients, subject=None, body="Hello there"):
    return NewLetter(tuple(r.address for r in recipients), subject or f"subject {uuid.uuid4().hex}", body)


def page(cur, owner, folder="inbox", limit=50, after=None, unread_only=False):
    return letters.list_folder(cur, owner.id, folder, PageRequest(limit, after, unread_only))


def assert_counters_true(cur, *owners):
    """The kept unread counters equal a real count of unread copies."""
    for owner in owners:
        for folder in ("inbox", "sent"):
            cur.execute("SELECT count(*) FROM mailbox.copies WHERE mailbox_id = %s AND folder = %s AND NOT is_read",
                        (owner.id, folder))
            counted = cur.fetchone()[0]
            assert letters.unread_count(cur, owner.id, folder) == counted, (owner.address, folder)


def run_together(target, arg_tuples):
    """Run target once per argument tuple, all at the same time, and wait for every one."""
    threads = [threading.Thread(target=target, args=args) for args in arg_tuples]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def stored(cur, subject):
    """(letters, copies) rows stored for a subject."""
    cur.execute("SELECT count(*) FROM mailbox.letters WHERE subject = %s", (subject,))
    count_letters = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM mailbox.copies c JOIN mailbox.letters l ON l.id = c.letter_id "
                "WHERE l.subject = %s", (subject,))
    return count_letters, cur.fetchone()[0]


def test_send_stores_content_once_and_a_copy_per_mailbox(tx, make_mailbox):
    alice, bob, carol = make_mailbox("alice"), make_mailbox("bob"), make_mailbox("carol")
    letter = new_letter(bob, carol)
    with tx() as cur:
        sent = letters.send(cur, alice, letter)
    assert sent["folder"] == "sent" and sent["read"] is True and sent["from"] == alice.address
    assert sent["to"] == [bob.address, carol.address]
    with tx() as cur:
        assert stored(cur, letter.subject) == (1, 3)
        assert letters.get(cur, alice.id, sent["id"])["body"] == "Hello there"
        for owner in (bob, carol):
            inbox = page(cur, owner)
            assert [(m["subject"], m["from"], m["read"]) for m in inbox["letters"]] == \
                [(letter.subject, alice.address, False)]
            assert inbox["unread"] == 1
        assert page(cur, alice, "sent")["letters"][0]["id"] == sent["id"]
        assert page(cur, alice)["letters"] == []


def test_sending_to_oneself_gives_a_sent_and_an_inbox_copy(tx, make_mailbox):
    alice = make_mailbox("alice")
    with tx() as cur:
        sent = letters.send(cur, alice, new_letter(alice))
        inbox = page(cur, alice)["letters"]
    assert len(inbox) == 1 and inbox[0]["id"] != sent["id"] and inbox[0]["read"] is False


def test_unknown_recipients_store_nothing_and_are_named(tx, make_mailbox):
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    ghost = f"ghost.{uuid.uuid4().hex[:8]}@test.example"
    letter = NewLetter((bob.address, ghost), "to a ghost", "boo")
    with pytest.raises(AppError) as info:
        with tx() as cur:
            letters.send(cur, alice, letter)
    assert info.value.status == 422 and info.value.fields == {"unknown": [ghost]}
    with tx() as cur:
        assert page(cur, bob)["letters"] == [] and page(cur, alice, "sent")["letters"] == []


class FailingCursor:
    """A real cursor that raises once the statement `fail_before` is about to run: a crash mid-send."""

    def __init__(self, cur, fail_before):
        self.cur, self.fail_before = cur, fail_before

    def execute(self, statement, params=None):
        if statement == self.fail_before:
            raise psycopg2.OperationalError("injected failure: connection lost mid-send")
        return self.cur.execute(statement, params)

    def __getattr__(self, name):
        return getattr(self.cur, name)


@pytest.mark.parametrize("fail_before", [queries.INSERT_SENT_COPY, queries.INSERT_INBOX_COPIES,
                                         queries.ADD_INBOX_UNREAD])
def test_failure_mid_send_leaves_nothing(tx, make_mailbox, fail_before):
    alice, bob, carol = make_mailbox("alice"), make_mailbox("bob"), make_mailbox("carol")
    letter = new_letter(bob, carol)
    with pytest.raises(psycopg2.OperationalError):
        with tx() as cur:
            letters.send(FailingCursor(cur, fail_before), alice, letter)
    with tx() as cur:
        assert stored(cur, letter.subject) == (0, 0)
        assert page(cur, alice, "sent")["letters"] == [] and page(cur, bob)["letters"] == []
        assert page(cur, bob)["unread"] == 0


def test_failure_inside_the_fan_out_statement_leaves_nothing(tx, make_mailbox, conn):
    """A recipient whose mailbox vanishes mid-send makes the inbox insert itself fail (FK)."""
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    ghost = make_mailbox("ghost")
    letter = new_letter(bob, ghost)

    class VanishingRecipient(FailingCursor):
        def execute(self, statement, params=None):
            if statement == queries.INSERT_INBOX_COPIES:
                self.cur.execute("DELETE FROM mailbox.mailboxes WHERE id = %s", (ghost.id,))
            return self.cur.execute(statement, params)

    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        with tx() as cur:
            letters.send(VanishingRecipient(cur, None), alice, letter)
    with tx() as cur:
        assert stored(cur, letter.subject) == (0, 0)
        cur.execute("SELECT count(*) FROM mailbox.mailboxes WHERE id = %s", (ghost.id,))
        assert cur.fetchone()[0] == 1     # the deletion was rolled back with the rest


def test_folder_pages_newest_first_with_unread_filter(tx, make_mailbox):
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    ids = []
    for number in range(7):
        with tx() as cur:
            ids.append(letters.send(cur, alice, new_letter(bob, subject=f"n{number}"))["id"])
    with tx() as cur:
        inbox = page(cur, bob, limit=3)
        assert [m["subject"] for m in inbox["letters"]] == ["n6", "n5", "n4"]
        assert inbox["unread"] == 7 and inbox["next_cursor"]
        letters.set_read(cur, bob.id, inbox["letters"][1]["id"], True)
    with tx() as cur:
        unread = page(cur, bob, limit=50, unread_only=True)
        assert [m["subject"] for m in unread["letters"]] == ["n6", "n4", "n3", "n2", "n1", "n0"]
        assert unread["unread"] == 6 and unread["next_cursor"] is None
        last = page(cur, bob, limit=7)
        assert len(last["letters"]) == 7 and last["next_cursor"] is None   # exactly full: no empty extra page
        assert page(cur, alice, "sent", limit=50)["unread"] == 0


def walk(cur, owner, limit, on_page=None, unread_only=False):
    """Every letter id of the inbox, following next_cursor."""
    seen, after = [], None
    while True:
        result = page(cur, owner, limit=limit, after=after, unread_only=unread_only)
        seen.extend((m["created_at"], m["id"]) for m in result["letters"])
        if on_page:
            on_page()
        if result["next_cursor"] is None:
            return seen
        after = pagination.decode(result["next_cursor"])


def test_pagination_is_stable_under_concurrent_sends(tx, make_mailbox, pg_url):
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    with tx() as cur:      # one transaction: 30 letters sharing one created_at, ordered by id alone
        for number in range(30):
            letters.send(cur, alice, new_letter(bob, subject=f"batch {number}"))
    # A transaction begun now (now() is fixed at its first statement) whose letter is committed
    # mid-paging: it lands in the middle of the order, among letters already paged past or not.
    early = psycopg2.connect(pg_url)
    early_cur = early.cursor()
    early_cur.execute("SELECT now()")
    for number in range(30):
        with tx() as cur:
            letters.send(cur, alice, new_letter(bob, subject=f"single {number}"))
    letters.send(early_cur, alice, new_letter(bob, subject="begun early"))
    with tx() as cur:
        existing = {m["id"] for m in page(cur, bob, limit=200)["letters"]}
    assert len(existing) == 60

    stop = threading.Event()

    def writer():      # keeps sending to bob while he pages
        other = psycopg2.connect(pg_url)
        while not stop.is_set():
            with other, other.cursor() as cur:
                letters.send(cur, alice, new_letter(bob, subject="concurrent"))
        other.close()

    thread = threading.Thread(target=writer)
    thread.start()
    pages = []

    def on_page():
        pages.append(1)
        if len(pages) == 2:
            early.commit()

    try:
        with tx() as cur:
            seen = walk(cur, bob, limit=7, on_page=on_page)
    finally:
        stop.set()
        thread.join()
        early.close()
    ids = [letter_id for _, letter_id in seen]
    assert len(ids) == len(set(ids)), "a letter was listed twice"
    assert existing <= set(ids), "a letter that existed when paging started was skipped"
    assert seen == sorted(seen, reverse=True), "pages are not in (created_at, id) descending order"
    with tx() as cur:
        cur.execute("SELECT c.id FROM mailbox.copies c JOIN mailbox.letters l ON l.id = c.letter_id "
                    "WHERE c.mailbox_id = %s AND l.subject = 'begun early'", (bob.id,))
        assert cur.fetchone()[0] in ids     # the mid-order insert really happened while paging


def test_read_flags_belong_to_each_copy(tx, make_mailbox):
    alice, bob, carol = make_mailbox("alice"), make_mailbox("bob"), make_mailbox("carol")
    with tx() as cur:
        letters.send(cur, alice, new_letter(bob, carol))
    with tx() as cur:
        bobs = page(cur, bob)["letters"][0]["id"]
        assert letters.set_read(cur, bob.id, bobs, True)["read"] is True
    with tx() as cur:
        assert letters.get(cur, bob.id, bobs)["read"] is True
        assert page(cur, bob)["unread"] == 0
        assert page(cur, carol)["letters"][0]["read"] is False and page(cur, carol)["unread"] == 1
        assert page(cur, alice, "sent")["letters"][0]["read"] is True
        assert letters.set_read(cur, bob.id, bobs, False)["read"] is False
        letters.set_read(cur, bob.id, bobs, False)      # no change: the counter must not move
        sent_id = page(cur, alice, "sent")["letters"][0]["id"]
        letters.set_read(cur, alice.id, sent_id, False)  # a sent copy can be marked unread too
    with tx() as cur:
        assert page(cur, bob, unread_only=True)["letters"][0]["id"] == bobs
        assert (page(cur, bob)["unread"], page(cur, alice, "sent")["unread"]) == (1, 1)
        assert_counters_true(cur, alice, bob, carol)


def test_delete_removes_only_the_callers_copy(tx, make_mailbox):
    alice, bob, carol = make_mailbox("alice"), make_mailbox("bob"), make_mailbox("carol")
    letter = new_letter(bob, carol)
    with tx() as cur:
        sent = letters.send(cur, alice, letter)
    with tx() as cur:
        bobs, carols = page(cur, bob)["letters"][0]["id"], page(cur, carol)["letters"][0]["id"]
        letters.delete(cur, bob.id, bobs)
    with tx() as cur:
        assert page(cur, bob)["letters"] == [] and page(cur, bob)["unread"] == 0
        with pytest.raises(AppError) as info:
            letters.get(cur, bob.id, bobs)
        assert info.value.status == 404
        assert letters.get(cur, carol.id, carols)["body"] == letter.body
        assert letters.get(cur, alice.id, sent["id"])["subject"] == letter.subject
        assert stored(cur, letter.subject) == (1, 2)
    with tx() as cur, pytest.raises(AppError):
        letters.delete(cur, bob.id, bobs)        # already gone
    with tx() as cur:
        letters.delete(cur, carol.id, carols)
        letters.delete(cur, alice.id, sent["id"])
    with tx() as cur:
        assert stored(cur, letter.subject) == (0, 0)    # the last copy took the content with it
        assert_counters_true(cur, alice, bob, carol)


def test_concurrent_deletes_of_the_last_copies_remove_the_content(tx, make_mailbox, pg_url):
    alice, bob = make_mailbox("alice"), make_mailbox("bob")
    letter = new_letter(bob)
    with tx() as cur:
        sent = letters.send(cur, alice, letter)
        bobs = page(cur, bob)["letters"][0]["id"]
    barrier = threading.Barrier(2)
    errors = []

    def delete(owner, copy_id):
        other = psycopg2.connect(pg_url)
        try:
            with other, other.cursor() as cur:
                barrier.wait()
                letters.delete(cur, owner.id, copy_id)
        except Exception as exc:    # reported by the assertion below
            errors.append(exc)
        finally:
            other.close()

    run_together(delete, [(alice, sent["id"]), (bob, bobs)])
    assert errors == []
    with tx() as cur:
        assert stored(cur, letter.subject) == (0, 0)


def test_other_mailboxes_letters_are_not_found(tx, make_mailbox):
    alice, bob, eve = make_mailbox("alice"), make_mailbox("bob"), make_mailbox("eve")
    with tx() as cur:
        sent = letters.send(cur, alice, new_letter(bob))
        bobs = page(cur, bob)["letters"][0]["id"]
    for action in (lambda cur, i: letters.get(cur, eve.id, i),
                   lambda cur, i: letters.set_read(cur, eve.id, i, True),
                   lambda cur, i: letters.delete(cur, eve.id, i)):
        for copy_id in (sent["id"], bobs):
            with pytest.raises(AppError) as info, tx() as cur:
                action(cur, copy_id)
            assert info.value.status == 404 and info.value.message == "letter not found"
    with tx() as cur:
        assert letters.get(cur, bob.id, bobs)["read"] is False
        assert letters.get(cur, alice.id, sent["id"])["id"] == sent["id"]
        # bob can't reach alice's sent copy either, though he holds a copy of the same letter
        with pytest.raises(AppError):
            letters.get(cur, bob.id, sent["id"])


@pytest.mark.parametrize("statement, index", [
    (queries.LIST_FOLDER, "copies_folder_order"), (queries.LIST_FOLDER_UNREAD, "copies_folder_unread")])
def test_folder_pages_are_one_index_range_scan(tx, make_mailbox, statement, index):
    """The cursor position is an index condition and the order comes from the index: no sort, no filter."""
    owner = make_mailbox("owner")
    with tx() as cur:
        # Tiny test tables would rightly be scanned sequentially; what matters is that the index can serve it.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("EXPLAIN " + statement, {"mailbox": owner.id, "folder": "inbox", "after_id": 5, "limit": 51,
                                             "after_created_at": "2024-01-01T00:00:00Z", "snippet": 160})
        plan = "\n".join(row[0] for row in cur.fetchall())
    scan = plan[plan.index(f"Index Scan using {index} on copies c"):]
    condition = scan.splitlines()[1]
    assert "Index Cond:" in condition and "ROW(created_at, id) < ROW(" in condition, plan
    assert "Sort" not in plan and "Filter" not in plan, plan


def test_concurrent_sends_flags_and_deletes_keep_counters_true(tx, make_mailbox, pg_url):
    """Senders hitting overlapping recipients in every order, readers and deleters, all at once: no
    deadlock, and every unread counter ends equal to the real count."""
    people = [make_mailbox(f"p{number}") for number in range(5)]
    errors = []

    def one_action(cur, rng):
        me = rng.choice(people)
        action = rng.random()
        if action < 0.5:
            letters.send(cur, me, new_letter(*rng.sample(people, rng.randint(1, 5))))
            return
        mine = page(cur, me, limit=20)["letters"]
        if mine:
            target = rng.choice(mine)["id"]
            if action < 0.85:
                letters.set_read(cur, me.id, target, rng.random() < 0.5)
            else:
                letters.delete(cur, me.id, target)

    def worker(seed):
        rng = random.Random(seed)
        conn = psycopg2.connect(pg_url)
        try:
            for _ in range(25):
                try:
                    with conn, conn.cursor() as cur:
                        one_action(cur, rng)
                except AppError as exc:     # the same copy deleted by two "devices" at once: one gets 404
                    assert exc.status == 404
        except Exception as exc:    # deadlocks, check violations, a failed 404 assertion: reported below
            errors.append(exc)
        finally:
            conn.close()

    run_together(worker, [(seed,) for seed in range(6)])
    assert errors == []
    with tx() as cur:
        assert_counters_true(cur, *people)
