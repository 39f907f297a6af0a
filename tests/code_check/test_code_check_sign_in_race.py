"""code_check sign-in under parallel guessing (issue 21): the attempt is reserved before argon2 runs, so 20
parallel wrong guesses reach the password check at most as often as the limit allows, and the owner, from
another address, still signs in."""
import uuid
from types import SimpleNamespace
from urllib.parse import urlencode

import guessing
from code_check_helpers import PASSWORD
from functions.code_check.chalicelib import settings
from functions.code_check.chalicelib.accounts import sessions, users
from functions.code_check.chalicelib.routes import pages as page_routes
from products import load_app

GUESSER = "203.0.113.66"
OWNER = "198.51.100.20"


def email_of(tx, user_id):
    with tx() as cur:
        cur.execute("SELECT email FROM code_check.users WHERE id = %s", (user_id,))
        return cur.fetchone()[0]


def test_twenty_parallel_guesses_at_one_account_reach_argon2_at_most_the_limit(make_user, tx, monkeypatch):
    user = make_user()
    email = email_of(tx, user)
    checks = guessing.count_calls(monkeypatch, users.passwords, "verify_password")
    results = guessing.fire(20, lambda i: users.login(email, f"wrong guess {i}!", GUESSER))
    limit = users.PER_ACCOUNT_AND_ADDRESS.free
    assert checks.count == limit
    assert sorted(error.status for _, error in results) == [401] * limit + [429] * (20 - limit)
    assert all(user_id is None for user_id, _ in results)
    # The guesser's address stays refused, even with the right password; the owner elsewhere is not.
    assert users.login(email, PASSWORD, GUESSER)[1].status == 429
    assert users.login(email, PASSWORD, OWNER) == (user, None)
    assert checks.count == limit + 1


def test_forty_parallel_guesses_over_many_accounts_from_one_address_reach_argon2_at_most_its_limit(
        make_user, tx, monkeypatch):
    checks = guessing.count_calls(monkeypatch, users.passwords, "verify_password")
    tag = uuid.uuid4().hex[:8]
    results = guessing.fire(40, lambda i: users.login(f"spray{i}.{tag}@test.example", "wrong guess 1!", GUESSER))
    limit = users.PER_ADDRESS.free
    assert checks.count == limit
    assert sorted(error.status for _, error in results) == [401] * limit + [429] * (40 - limit)
    user = make_user()
    assert users.login(email_of(tx, user), PASSWORD, OWNER) == (user, None)


def test_a_right_password_gives_its_reservation_back(make_user, tx):
    """Signing in to one's own account between guesses does not use up the address's allowance, and a
    success forgets the account's failures from that address."""
    user = make_user()
    email = email_of(tx, user)
    for _ in range(users.PER_ACCOUNT_AND_ADDRESS.free - 1):
        assert users.login(email, "wrong guess 1!", OWNER)[1].status == 401
    assert users.login(email, PASSWORD, OWNER) == (user, None)
    for _ in range(users.PER_ACCOUNT_AND_ADDRESS.free - 1):
        assert users.login(email, "wrong guess 1!", OWNER)[1].status == 401
    assert users.login(email, PASSWORD, OWNER) == (user, None)
    with tx() as cur:
        cur.execute("SELECT attempts FROM code_check.sign_in_attempts WHERE key = %s",
                    (users.throttle_limits(email, OWNER)[1].key,))
        assert cur.fetchone()[0] == 2 * (users.PER_ACCOUNT_AND_ADDRESS.free - 1)


def test_each_sign_in_drops_records_that_no_longer_count(tx):
    """No schedule purges the table: sign-ins do, a bounded batch at a time, keeping what still counts."""
    with tx() as cur:
        cur.execute("""INSERT INTO code_check.sign_in_attempts (key, attempts, last_attempt_at, locked_until) VALUES
                       ('test:stale', 3, now() - interval '2 hours', NULL),
                       ('test:recent', 3, now() - interval '10 minutes', NULL),
                       ('test:still-locked', 9, now() - interval '2 hours', now() + interval '5 minutes')""")
    users.login("nobody@test.example", "wrong guess 1!", GUESSER)
    with tx() as cur:
        cur.execute("SELECT key FROM code_check.sign_in_attempts WHERE key LIKE 'test:%%' ORDER BY key")
        assert [row[0] for row in cur.fetchall()] == ["test:recent", "test:still-locked"]


def test_twenty_parallel_guesses_through_the_login_handler_reach_argon2_at_most_the_limit(
        make_user, tx, monkeypatch):
    """The same through the pages' POST /login (a form with its double-submit CSRF token; the address it passes
    is the one API Gateway saw)."""
    load_app("code_check")
    monkeypatch.setattr(settings, "load", lambda: SimpleNamespace(session_days=1))
    call = guessing.thread_requests(monkeypatch)
    checks = guessing.count_calls(monkeypatch, users.passwords, "verify_password")
    email = email_of(tx, make_user())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{sessions.PRE_COOKIE}=form-token"}

    def post(password, source):
        body = urlencode({"csrf": "form-token", "email": email, "password": password})
        return call(page_routes.login, body, source, headers)
    answers = guessing.fire(20, lambda i: post(f"wrong guess {i}!", GUESSER).status_code)
    limit = users.PER_ACCOUNT_AND_ADDRESS.free
    assert checks.count == limit
    assert sorted(answers) == [401] * limit + [429] * (20 - limit)
    signed_in = post(PASSWORD, OWNER)
    assert signed_in.status_code == 303 and sessions.COOKIE in signed_in.headers["Set-Cookie"]
