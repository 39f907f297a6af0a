"""Helpers of the code_check tests, imported by name (a module called conftest is ambiguous across folders)."""
import os
import re
import uuid

import requests

import ses_mail

FUNCTIONS = ["CodeCheckWebFunction", "CodeCheckCheckerFunction", "CodeCheckNotifierFunction"]
PASSWORD = "correct horse battery 9"


def tick(cloud):
    """One run of the checker, as the schedule runs it."""
    return cloud.invoke("CodeCheckCheckerFunction", {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-30T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {}})


def csrf_of(html):
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class Browser:
    """A signed-in (or not) HTTP client of the pages."""

    def __init__(self, base):
        self.base = base
        self.http = requests.Session()
        self.email = None

    def get(self, path, **kwargs):
        return self.http.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def post(self, path, data=None, files=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf and "csrf" not in data:
            data["csrf"] = self.csrf(path)
        return self.http.post(self.base + path, data=data, files=files, allow_redirects=False, timeout=60, **kwargs)

    def csrf(self, path):
        page = "/login" if path == "/login" else "/register" if path == "/register" else "/"
        if path.startswith("/tokens"):
            page = "/tokens"
        return csrf_of(self.get(page).text)

    def register(self, email=None, password=PASSWORD):
        self.email = email or f"u{uuid.uuid4().hex[:10]}@test.example"
        answer = self.post("/register", {"email": self.email, "password": password})
        assert answer.status_code == 303, answer.text[:500]
        return self

    def upload(self, *files):
        """files: (name, bytes) pairs -> the response."""
        return self.post("/files", files=[("files", (name, data, "text/x-python")) for name, data in files])

    def file_id(self, name):
        cur_html = self.get("/").text
        found = re.search(r'<tr data-file="' + re.escape(name) + r'">\s*<td><a href="[^"]*/files/(\d+)"', cur_html)
        assert found, f"{name} not in the list"
        return int(found.group(1))


def sent_mail(endpoint):
    """Every e-mail moto's SES accepted: [{"destinations", "subject", "body"...}] (tests/ses_mail.py reads them from
    the suite's moto in this process, which endpoint names)."""
    assert endpoint == os.environ.get("AWS_ENDPOINT_URL"), "not the suite's moto server"
    return ses_mail.sent_messages()
