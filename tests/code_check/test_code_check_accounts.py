"""Accounts through the running web function: registration rules, login throttling, cookies, CSRF, languages."""
import re
import uuid

import pytest

from code_check_helpers import PASSWORD, Browser, csrf_of
from functions.code_check.chalicelib.accounts import users


def count_users(tx, email):
    with tx() as cur:
        cur.execute("SELECT count(*) FROM code_check.users WHERE lower(email) = lower(%s)", (email,))
        return cur.fetchone()[0]


@pytest.mark.parametrize("email, password, field, message", [
    ("", PASSWORD, "email", "Enter your e-mail address."),
    ("not-an-email", PASSWORD, "email", "This is not an e-mail address"),
    ("a@b", PASSWORD, "email", "This is not an e-mail address"),
    ("a b@example.com", PASSWORD, "email", "This is not an e-mail address"),
    ("NEW@example.com", "", "password", "Enter a password."),
    ("NEW@example.com", "short1!", "password", "too short"),
    ("NEW@example.com", "1234567890123", "password", "too easy to guess"),
    ("NEW@example.com", "aaaaaaaaaaaa", "password", "too easy to guess"),
])
def test_register_form_errors_store_nothing(base_url, tx, email, password, field, message):
    me = Browser(base_url)
    email = email.replace("NEW", f"n{uuid.uuid4().hex[:8]}")
    answer = me.post("/register", {"email": email, "password": password}, headers={"Accept-Language": "en"})
    assert answer.status_code == 400
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', answer.text)
    if email:
        assert count_users(tx, email) == 0
    assert "cc_session" not in answer.headers.get("Set-Cookie", "")


def test_duplicate_email_any_case_is_refused(base_url, browser, tx):
    first = browser()
    again = Browser(base_url)
    answer = again.post("/register", {"email": first.email.upper(), "password": "another pass 42"},
                        headers={"Accept-Language": "en"})
    assert answer.status_code == 400 and "already registered" in answer.text
    assert count_users(tx, first.email) == 1


def test_login_failures_say_nothing_about_which_part_was_wrong(base_url, browser):
    known = browser()
    wrong_password = Browser(base_url).post("/login", {"email": known.email, "password": "wrong password 1"})
    unknown_email = Browser(base_url).post("/login", {"email": f"x{uuid.uuid4().hex}@test.example",
                                                      "password": PASSWORD})
    empty = Browser(base_url).post("/login", {"email": known.email, "password": ""})
    texts = set()
    for answer in (wrong_password, unknown_email, empty):
        assert answer.status_code == 401
        texts.add(re.search(r'role="alert">([^<]+)<', answer.text).group(1))
    assert texts == {"Неверный e-mail или пароль."}
    ok = Browser(base_url).post("/login", {"email": known.email, "password": PASSWORD})
    assert ok.status_code == 303 and "cc_session=" in ok.headers["Set-Cookie"]


def test_repeated_failures_lock_the_account_from_that_address_even_for_the_right_password(base_url, browser):
    known = browser()
    for _ in range(users.PER_ACCOUNT_AND_ADDRESS.free):
        failed = Browser(base_url).post("/login", {"email": known.email, "password": "wrong password 1"})
        assert failed.status_code == 401
    locked = Browser(base_url).post("/login", {"email": known.email, "password": PASSWORD},
                                    headers={"Accept-Language": "en"})
    assert locked.status_code == 429 and re.search(r"Too many attempts\. Try again in \d+ s, after ", locked.text)
    assert 55 <= int(locked.headers["Retry-After"]) <= users.PER_ACCOUNT_AND_ADDRESS.base
    assert "cc_session" not in locked.headers.get("Set-Cookie", "")
    assert "Wrong e-mail" not in locked.text and "password" not in locked.text.split("role=\"alert\">")[1][:80]
    russian = Browser(base_url).post("/login", {"email": known.email, "password": PASSWORD})
    assert russian.status_code == 429 and "Слишком много попыток. Попробуйте снова через" in russian.text


def test_repeated_failures_from_one_address_are_slowed_down(make_user, tx):
    address = f"203.0.113.{uuid.uuid4().int % 250}"
    for index in range(users.PER_ADDRESS.free):
        user_id, error = users.login(f"guess{index}.{uuid.uuid4().hex[:6]}@test.example", "x" * 12, address)
        assert user_id is None and error.status == 401
    user = make_user()
    with tx() as cur:
        cur.execute("SELECT email FROM code_check.users WHERE id = %s", (user,))
        email = cur.fetchone()[0]
    user_id, error = users.login(email, PASSWORD, address)
    assert user_id is None and error.status == 429 and 0 < int(error.headers["Retry-After"]) <= 60
    user_id, error = users.login(email, PASSWORD, "198.51.100.7")
    assert error is None and user_id == user


def test_session_cookie_flags(base_url, browser):
    me = browser()
    plain = Browser(base_url).post("/login", {"email": me.email, "password": PASSWORD})
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = Browser(base_url)
    https.http.headers["X-Forwarded-Proto"] = "https"
    # requests keeps Secure cookies for https only, so the session is read from the answer itself.
    login_page = https.get("/login")
    assert "Secure" in login_page.headers["Set-Cookie"]
    https.http.cookies.set("cc_form", re.search(r"cc_form=([^;]+)", login_page.headers["Set-Cookie"]).group(1))
    answer = https.post("/login", {"email": me.email, "password": PASSWORD, "csrf": csrf_of(login_page.text)})
    assert answer.status_code == 303
    # The attributes as common.cookies writes them (their order means nothing to a browser).
    first, *attributes = answer.headers["Set-Cookie"].split("; ")
    assert re.fullmatch(r"cc_session=[^;]+", first)
    assert {a for a in attributes if not a.startswith("Max-Age=")} == {"Path=/", "HttpOnly", "SameSite=Lax", "Secure"}
    assert any(re.fullmatch(r"Max-Age=\d+", a) for a in attributes)


def test_logout_ends_the_session(base_url, browser):
    me = browser()
    cookie = me.http.cookies.get("cc_session")
    assert me.post("/logout").status_code == 303
    again = Browser(base_url)
    again.http.cookies.set("cc_session", cookie)
    assert again.get("/").status_code == 303


def form_posts(me, other_file_id):
    """Every form of the site: (path, fields) of a valid post apart from the CSRF token."""
    return [
        ("/files", {}), (f"/files/{other_file_id}/delete", {"go": "1"}), ("/tokens", {"name": "t"}),
        ("/tokens/1/revoke", {"go": "1"}), ("/logout", {"go": "1"}),
    ]


@pytest.mark.parametrize("token", [None, "", "forged-token-value"])
def test_every_form_checks_its_csrf_token(base_url, browser, tx, token):
    me = browser()
    me.upload(("keep.py", b"x = 1\n"))
    file_id = me.file_id("keep.py")
    for path, fields in form_posts(me, file_id):
        data = dict(fields)
        if token is not None:
            data["csrf"] = token
        answer = me.post(path, data, csrf=False, files=[("files", ("c.py", b"y = 1\n", "text/x-python"))]
                         if path == "/files" else None)
        assert answer.status_code == 403, path
    # Nothing happened: the upload was not stored, the file is not deleted, no token, still signed in.
    with tx() as cur:
        cur.execute("""SELECT f.name, f.status FROM code_check.files f JOIN code_check.users u ON u.id = f.user_id
                       WHERE u.email = %s""", (me.email,))
        assert cur.fetchall() == [("keep.py", "new")]
        cur.execute("""SELECT count(*) FROM code_check.api_tokens t JOIN code_check.users u ON u.id = t.user_id
                       WHERE u.email = %s""", (me.email,))
        assert cur.fetchone()[0] == 0
    assert me.get("/").status_code == 200
    for path in ("/login", "/register"):
        anonymous = Browser(base_url)
        anonymous.get(path)
        data = {"email": me.email, "password": PASSWORD}
        if token is not None:
            data["csrf"] = token
        assert anonymous.post(path, data, csrf=False).status_code == 403, path


def test_the_csrf_token_of_another_session_is_refused(base_url, browser):
    me, other = browser(), browser()
    answer = me.post("/tokens", {"name": "x", "csrf": other.csrf("/tokens")}, csrf=False)
    assert answer.status_code == 403


def test_pages_are_russian_by_default_and_english_on_request(browser):
    me = browser()
    assert "Ваши файлы" in me.get("/").text
    english = me.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert "Your files" in english and "Ваши файлы" not in english
    page = me.get("/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
