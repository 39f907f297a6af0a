"""End-to-end through the local cloud: register, upload, tick, report, e-mail."""
import time

from conftest import sent_mail, tick


def test_upload_tick_report_email(cc_cloud, browser, aws_endpoint):
    me = browser()
    answer = me.upload(("hello.py", b"import os\nx=1\n"))
    assert answer.status_code == 200, answer.text[:2000]
    assert "hello.py" in answer.text
    print(tick(cc_cloud))
    file_id = me.file_id("hello.py")
    deadline = time.time() + 30
    while time.time() < deadline:
        page = me.get(f"/files/{file_id}").text
        if "email sent" in page or "письмо отправлено" in page:
            break
        time.sleep(0.5)
    print(page[-3000:])
    print([m for m in sent_mail(aws_endpoint) if me.email in str(m)])
