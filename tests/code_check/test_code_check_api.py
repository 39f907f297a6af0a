"""The partner API and the pages through the local cloud: flows, ETags, bad input, the authz matrix."""
import base64
import uuid

import pytest
import requests

from code_check_helpers import Browser, tick
from waiting import wait_until


def b64(data):
    return base64.b64encode(data).decode()


class Api:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, token=..., **kwargs):
        token = self.token if token is ... else token
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.base + path, headers=headers, timeout=60, **kwargs)


@pytest.fixture
def api(base_url, browser, api_token):
    def make():
        me = browser()
        return me, Api(base_url, api_token(me))
    return make


def test_upload_list_replace_versions_delete(api, cc_cloud):
    me, client = api()
    answer = client.call("POST", "/api/files", json={"files": [
        {"name": "a.py", "content": b64(b"import os\nx=1\n")}, {"name": "notes.txt", "content": b64(b"hi")},
        {"name": "../b.PY", "content": b64(b"y = 2\n")}, {"name": "empty.py", "content": ""}]})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["name"], r["status"]) for r in results] == [("a.py", "new"), ("notes.txt", "refused"),
                                                           ("b.PY", "new"), ("empty.py", "refused")]
    assert "only Python files" in results[1]["reason"] and "empty" in results[3]["reason"]
    file_id = results[0]["file_id"]
    listed = client.call("GET", "/api/files")
    assert sorted(f["name"] for f in listed.json()["files"]) == ["a.py", "b.PY"]
    # Links are built from the URL the partner called (the web function's environment has no public URL).
    badges = [f["badge_url"] for f in listed.json()["files"]]
    assert [b.split("/badges/")[0] for b in badges] == [f"{client.base}/prod"] * 2   # as the stage URL on AWS
    assert [requests.get(b, timeout=10).headers["Content-Type"][:13] for b in badges] == ["image/svg+xml"] * 2
    etag = listed.headers["ETag"]
    assert client.call("GET", "/api/files", headers={"If-None-Match": etag}).status_code == 304
    tick(cc_cloud)
    changed = client.call("GET", "/api/files", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    current = next(f for f in changed.json()["files"] if f["id"] == file_id)["current"]
    assert current["check"]["outcome"] == "problems" and current["check"]["problems"] == 2

    same = client.call("PUT", f"/api/files/{file_id}", json={"content": b64(b"import os\nx=1\n")})
    assert same.json() == {"name": "a.py", "status": "unchanged", "file_id": file_id, "version": 1}
    replaced = client.call("PUT", f"/api/files/{file_id}", json={"content": b64(b"import os\nx = 1\n")})
    assert replaced.json()["status"] == "overwritten" and replaced.json()["version"] == 2
    tick(cc_cloud)

    def reported():     # the notifier e-mails the report on its own time and the version shows it: wait for that
        answer = client.call("GET", f"/api/files/{file_id}/versions/2")
        checks = answer.json()["checks"]
        return checks and all(c["email_sent"] for c in checks) and answer
    version = wait_until(reported, timeout=60, what="the report e-mail of version 2")
    body = version.json()
    assert body["compared_with"] == 1 and body["checked"] is True
    assert [(v["code"], v["new"]) for v in body["violations"]] == [("F401", False)]
    assert [v["code"] for v in body["fixed"]] == ["E225"]
    assert client.call("GET", f"/api/files/{file_id}/versions/2",
                       headers={"If-None-Match": version.headers["ETag"]}).status_code == 304
    first = client.call("GET", f"/api/files/{file_id}/versions/1/source")
    assert first.content == b"import os\nx=1\n" and first.headers["Content-Type"] == "text/x-python"
    detail = client.call("GET", f"/api/files/{file_id}").json()
    assert [v["version"] for v in detail["versions"]] == [2, 1] and detail["status"] == "overwritten"

    assert client.call("DELETE", f"/api/files/{file_id}").status_code == 204
    gone = client.call("GET", f"/api/files/{file_id}").json()
    assert gone["status"] == "deleted" and len(gone["versions"]) == 2
    assert client.call("PUT", f"/api/files/{file_id}", json={"content": b64(b"z = 3\n")}).status_code == 409
    assert client.call("DELETE", f"/api/files/{file_id}").status_code == 404
    assert client.call("GET", f"/api/files/{file_id}/versions/1/source").status_code == 200   # history stays


@pytest.mark.parametrize("method, path, body, status, names", [
    ("POST", "/api/files", "not json", 400, "not valid JSON"),
    ("POST", "/api/files", [], 400, "JSON object"),
    ("POST", "/api/files", {}, 400, "files"),
    ("POST", "/api/files", {"files": []}, 400, "files"),
    ("POST", "/api/files", {"files": [{"content": "eA=="}]}, 400, "files[0].name"),
    ("POST", "/api/files", {"files": [{"name": "a.py", "content": "%%%"}]}, 400, "files[0].content"),
    ("POST", "/api/files", {"files": [{"name": "a.py", "content": 5}]}, 400, "files[0].content"),
    ("POST", "/api/files", {"files": [{"name": "a.py", "content": "eA=="}] * 21}, 400, "at most 20"),
    ("PUT", "/api/files/1", {}, 400, "content"),
    ("GET", "/api/files/abc", None, 400, "file_id"),
    ("GET", "/api/files/0", None, 400, "file_id"),
    ("GET", "/api/files/1/versions/x", None, 400, "version"),
    ("DELETE", "/api/files/-5", None, 400, "file_id"),
])
def test_bad_input_is_a_4xx_naming_the_problem(api, method, path, body, status, names):
    _, client = api()
    kwargs = {}
    if isinstance(body, str):
        kwargs = {"data": body, "headers": {"Content-Type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    answer = client.call(method, path, **kwargs)
    assert answer.status_code == status and names in answer.json()["error"]


def test_too_large_and_undecodable_files_are_refused(api):
    _, client = api()
    big = client.call("POST", "/api/files",
                      json={"files": [{"name": "big.py", "content": b64(b"#" * (1024 * 1024 + 10))}]})
    assert big.status_code == 413 and "1 MB" in big.json()["error"]
    bad = client.call("POST", "/api/files", json={"files": [
        {"name": "bin.py", "content": b64(b"\xff\xfe\xfa")}, {"name": "ok.py", "content": b64(b"x = 1\n")}]})
    assert [r["status"] for r in bad.json()["results"]] == ["refused", "new"]
    file_id = bad.json()["results"][1]["file_id"]
    refused = client.call("PUT", f"/api/files/{file_id}", json={"content": b64(b"\xff\xfe\xfa")})
    assert refused.status_code == 422 and "not text" in refused.json()["error"]


def api_endpoints(file_id):
    return [
        ("GET", "/api/files", None), ("POST", "/api/files", {"files": [{"name": "z.py", "content": b64(b"z = 1\n")}]}),
        ("GET", f"/api/files/{file_id}", None), ("PUT", f"/api/files/{file_id}", {"content": b64(b"q = 1\n")}),
        ("DELETE", f"/api/files/{file_id}", None), ("GET", f"/api/files/{file_id}/versions/1", None),
        ("GET", f"/api/files/{file_id}/versions/1/source", None),
    ]


def test_api_authz_matrix(api, tx):
    owner, owner_api = api()
    file_id = owner_api.call("POST", "/api/files", json={"files": [{"name": "secret.py", "content": b64(
        b"password = 'hunter2'\n")}]}).json()["results"][0]["file_id"]
    other, other_api = api()
    revoked_owner_token = _revoked_token(owner_api, tx, owner)
    for method, path, body in api_endpoints(file_id):
        for label, token in (("none", None), ("wrong", "cc_" + uuid.uuid4().hex), ("malformed", ""),
                             ("revoked", revoked_owner_token)):
            answer = owner_api.call(method, path, token=token, json=body)
            assert answer.status_code == 401, (label, method, path)
            assert "token" in answer.json()["error"].lower() and "WWW-Authenticate" in answer.headers
        # Another user's valid token: the file does not exist for them.
        answer = other_api.call(method, path, json=body)
        if path == "/api/files":
            assert answer.status_code == 200
            if method == "GET":
                assert "secret.py" not in answer.text
        else:
            assert answer.status_code == 404, (method, path)
            assert "hunter2" not in answer.text
    # The owner's file is untouched by all of that.
    detail = owner_api.call("GET", f"/api/files/{file_id}").json()
    assert detail["status"] == "new" and len(detail["versions"]) == 1
    assert owner_api.call("GET", f"/api/files/{file_id}/versions/1/source").content == b"password = 'hunter2'\n"


def _revoked_token(owner_api, tx, owner):
    from functions.code_check.chalicelib.accounts import tokens
    with tx() as cur:
        cur.execute("SELECT id FROM code_check.users WHERE email = %s", (owner.email,))
        user_id = cur.fetchone()[0]
        token, row = tokens.create(cur, user_id, "to revoke")
    assert owner_api.call("GET", "/api/files", token=token).status_code == 200
    revoke = owner.post(f"/tokens/{row['id']}/revoke", {"go": "1"})
    assert revoke.status_code == 303
    return token


def test_tokens_are_shown_once_and_stored_as_digests(browser, base_url, tx):
    me = browser()
    created = me.post("/tokens", {"name": "ci"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    token = created.text.split('<code class="token">')[1].split("<")[0]
    assert token.startswith("cc_") and len(token) > 40
    assert token not in me.get("/tokens").text
    with tx() as cur:
        cur.execute("SELECT digest, hint FROM code_check.api_tokens WHERE name = 'ci' ORDER BY id DESC LIMIT 1")
        digest, hint = cur.fetchone()
        cur.execute("SELECT count(*) FROM code_check.api_tokens WHERE digest = %s OR hint = %s", (token, token))
        assert cur.fetchone()[0] == 0
    assert len(digest) == 64 and hint.endswith("...")
    assert _listing_status(base_url, token) == 200
    # Someone else cannot revoke it.
    token_id = int(me.get("/tokens").text.split("/tokens/")[1].split("/revoke")[0])
    assert browser().post(f"/tokens/{token_id}/revoke", {"go": "1"}).status_code == 404
    assert _listing_status(base_url, token) == 200


def _listing_status(base_url, token):
    return requests.get(base_url + "/api/files", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def page_endpoints(file_id):
    return [("GET", f"/files/{file_id}", None), ("GET", f"/files/{file_id}?version=1", None),
            ("GET", f"/files/{file_id}/versions/1/source", None), ("POST", f"/files/{file_id}/delete", {"go": "1"})]


def test_pages_authz_matrix(browser, base_url, tx):
    owner = browser()
    owner.upload(("private.py", b"token = 'hunter2'\n"))
    file_id = owner.file_id("private.py")
    anonymous = Browser(base_url)
    stranger = browser()
    forged = Browser(base_url)
    forged.http.cookies.set("cc_session", "forged-" + uuid.uuid4().hex)
    for method, path, data in page_endpoints(file_id) + [("GET", "/", None), ("GET", "/tokens", None),
                                                         ("POST", "/tokens", {"name": "x"})]:
        for who in (anonymous, forged):
            answer = who.get(path) if method == "GET" else who.post(path, data, csrf=False)
            assert answer.status_code in (303, 403), (path, answer.status_code)
            assert "hunter2" not in answer.text
            if method == "GET":
                assert answer.headers["Location"].endswith("/login")
    for method, path, data in page_endpoints(file_id):
        answer = stranger.get(path) if method == "GET" else stranger.post(path, data)
        assert answer.status_code == 404, path
        assert "hunter2" not in answer.text and "private.py" not in answer.text
    assert "private.py" not in stranger.get("/").text
    with tx() as cur:
        cur.execute("SELECT status FROM code_check.files WHERE id = %s", (file_id,))
        assert cur.fetchone()[0] == "new"


def test_ui_upload_of_several_files_refuses_each_bad_one_by_name(browser, tx):
    me = browser()
    answer = me.upload(("good.py", b"x = 1\n"), ("../../evil.py", b"y = 1\n"), ("image.py", b"\x89PNG\r\n\x1a\n\x00"),
                       ("notes.txt", b"x = 1\n"), ("empty.py", b""), ("LOUD.PY", b"z = 1\n"))
    assert answer.status_code == 200
    text = answer.text
    assert "image.py: файл не является текстом" in text
    assert "notes.txt: принимаются только файлы Python" in text and "empty.py: файл пустой" in text
    with tx() as cur:
        cur.execute("""SELECT f.name FROM code_check.files f JOIN code_check.users u ON u.id = f.user_id
                       WHERE u.email = %s ORDER BY f.name""", (me.email,))
        assert [row[0] for row in cur.fetchall()] == ["LOUD.PY", "evil.py", "good.py"]


def test_badge_is_a_stable_public_svg(browser, cc_cloud, base_url):
    me = browser()
    me.upload(("badge.py", b"import os\n"))
    file_id = me.file_id("badge.py")
    page = me.get(f"/files/{file_id}").text
    url = page.split('id="badge"')[0].split('src="')[-1].split('"')[0]
    public = requests.get(base_url + url.removeprefix("/prod"), timeout=10)
    assert public.headers["Content-Type"].startswith("image/svg+xml") and "not checked yet" in public.text
    tick(cc_cloud)
    assert "1 problem" in requests.get(base_url + url.removeprefix("/prod"), timeout=10).text
    assert "not found" in requests.get(base_url + "/badges/nope.svg", timeout=10).text


def test_openapi_and_offline_swagger_ui(base_url):
    spec = requests.get(base_url + "/api/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.") and "/api/files/{file_id}" in spec["paths"]
    page = requests.get(base_url + "/api/doc", timeout=10)
    assert "swagger-ui-bundle.js" in page.text and "https://" not in page.text
    script = requests.get(base_url + "/api/doc/swagger-ui-bundle.js", timeout=30)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert requests.get(base_url + "/api/doc/..%2F..%2Fapp.py", timeout=10).status_code == 404
    options = requests.get(base_url + "/api/options", timeout=10).json()
    assert options["flake8"]["max_line_length"] == 100


def test_file_page_counts_in_russian_plural_and_missing_versions_are_404(browser, cc_cloud):
    me = browser()
    me.upload(("one.py", b"import os\n"))
    file_id = me.file_id("one.py")
    tick(cc_cloud)
    assert "проверен: 1 проблема" in me.get("/").text
    assert "checked: 1 problem<" in me.get("/", headers={"Accept-Language": "en"}).text
    for version in ("9", "abc", "0"):
        missing = me.get(f"/files/{file_id}?version={version}")
        assert missing.status_code == 404 and "Такой версии нет" in missing.text
    assert me.get(f"/files/{file_id}/versions/2/source").status_code == 404
