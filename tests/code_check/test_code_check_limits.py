"""Size limits of the web pages through the running web function, each at its edge: just inside is served, just
over is refused with the reason (and would have been served without the limit)."""
import re
import uuid

from code_check_helpers import Browser
from functions.code_check.chalicelib.accounts.users import MAX_PASSWORD
from functions.code_check.chalicelib.web.forms import MAX_BODY

EN = {"Accept-Language": "en"}


def stored_names(tx, email):
    with tx() as cur:
        cur.execute("""SELECT f.name FROM code_check.files f JOIN code_check.users u ON u.id = f.user_id
                       WHERE u.email = %s ORDER BY f.name""", (email,))
        return [row[0] for row in cur.fetchall()]


def source(size):
    """`size` bytes of valid Python."""
    return (b"x = 1\n" * (size // 6 + 1))[:size - 1] + b"\n"


def test_a_web_upload_over_8_mb_in_total_is_refused_with_413(browser, tx):
    assert MAX_BODY == 8 * 1024 * 1024
    me = browser()
    inside = [(f"part{n}.py", source(1_040_000)) for n in range(8)]         # 8,320,000 bytes + the multipart
    answer = me.post("/files", files=[("files", (name, data, "text/x-python")) for name, data in inside],
                     headers=EN)
    assert answer.status_code == 200, answer.text[:300]
    assert stored_names(tx, me.email) == [name for name, _ in inside]
    over = inside + [("extra.py", source(70_000))]                          # 70 KB more: over 8,388,608
    answer = me.post("/files", files=[("files", (f"again-{name}", data, "text/x-python")) for name, data in over],
                     headers=EN)
    assert answer.status_code == 413 and "larger than 8 MB in total" in answer.text
    assert stored_names(tx, me.email) == [name for name, _ in inside]      # nothing of the refused upload


def test_a_password_over_1024_characters_is_refused_naming_the_field(base_url, tx):
    assert MAX_PASSWORD == 1024
    longest = ("Ab1!" * 300)[:MAX_PASSWORD]
    inside = Browser(base_url)
    inside.register(f"l{uuid.uuid4().hex[:8]}@test.example", longest)       # asserts the 303
    me = Browser(base_url)
    email = f"o{uuid.uuid4().hex[:8]}@test.example"
    answer = me.post("/register", {"email": email, "password": longest + "x"}, headers=EN)
    assert answer.status_code == 400
    assert re.search(r'id="password-error">[^<]*The password is too long\.', answer.text)
    with tx() as cur:
        cur.execute("SELECT count(*) FROM code_check.users WHERE email = %s", (email,))
        assert cur.fetchone()[0] == 0
