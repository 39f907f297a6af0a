"""Deaths of the notifier's process do not spend the attempts kept for failures of the report (issue 28).

The notifier counts its own attempts (checks.email_attempts, one per SES call); the reports queue's
maxReceiveCount (template.yaml) is set well above CODE_CHECK_EMAIL_ATTEMPTS, so receives spent by killed
workers never send a report to the dead-letter queue. Real worker processes of the local cloud, SIGKILLed through
LOCAL_PRELOAD (tests/worker_kills.py) before the check is read, the queue's settings as the template has them.
"""
import json
from pathlib import Path

import boto3

from code_check_helpers import sent_mail
from functions.code_check.chalicelib.checks import tick
from functions.code_check.chalicelib.files import store
from waiting import wait_until

FAULTS = str(Path(__file__).resolve().parent.parent / "worker_kills.py")
KILLS = 6     # more than the reports queue's maxReceiveCount before issue 28 (5)


def test_a_report_whose_notifier_was_killed_again_and_again_is_still_emailed_once(
        start_cloud, tx, cc_settings, make_user, aws_endpoint, tmp_path):
    kills = tmp_path / "kills"
    kills.write_text(str(KILLS))
    cloud = start_cloud(functions=["CodeCheckNotifierFunction"],
                        env={"LOCAL_PRELOAD": FAULTS, "FAULT_KILLS_FILE": str(kills),
                             "FAULT_KILL_TARGET": "chalicelib.reports.notifier:notify"})
    user = make_user()
    with tx() as cur:
        stored = store.upload(cur, cc_settings.bucket, user, "killed.py", b"import os\nx=1\n")
        cur.execute("SELECT email FROM code_check.users WHERE id = %s", (user,))
        email = cur.fetchone()[0]
    tick.tick(cc_settings)
    with tx() as cur:
        cur.execute("""SELECT c.id FROM code_check.checks c JOIN code_check.versions v ON v.id = c.version_id
                       WHERE v.file_id = %s""", (stored.file_id,))
        check_id = cur.fetchone()[0]
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=cloud.physical_id("CodeCheckReportsQueue"),
                     MessageBody=json.dumps({"check_id": check_id}))

    def state():
        with tx() as cur:
            cur.execute("SELECT email_state, email_attempts FROM code_check.checks WHERE id = %s", (check_id,))
            return cur.fetchone()
    wait_until(lambda: state()[0] not in ("pending", "claimed"), 90, "the report's e-mail outcome")
    assert kills.read_text() == "0"                  # every kill happened
    assert state() == ("sent", 1)                    # the deaths counted no attempt
    assert len([m for m in sent_mail(aws_endpoint) if email in m["destinations"]["ToAddresses"]]) == 1
    dead = sqs.get_queue_attributes(QueueUrl=cloud.physical_id("CodeCheckReportsDeadLetterQueue"),
                                    AttributeNames=["ApproximateNumberOfMessages",
                                                    "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert dead == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    cloud.stop()
