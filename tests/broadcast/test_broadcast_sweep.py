"""The stranded-work sweep runs on the template's BroadcastSweepSchedule and takes recipients older than
BroadcastStrandedAfterMinutes: a recipient whose fan-out job was lost is sent without anyone invoking it."""
from datetime import datetime, timedelta

from localcloud.cloud import Cloud

from broadcast_helpers import PASSWORD, SECRET, TEMPLATE, TEST_SECRET_KEY, USER, store_broadcast, wait_for


def test_the_sweep_interval_and_age_are_template_parameters(aws_endpoint, pg_url, mysql_url, emulator, sql):
    _bid, [stranded] = store_broadcast("+79991234567", delays=[0], text="lost job")
    sql("UPDATE broadcast_recipients SET queued_at = %s WHERE id = %s",
        datetime.utcnow() - timedelta(minutes=3), stranded)
    _bid, [recent] = store_broadcast("+79991234568", delays=[0], text="not stranded yet")
    parameters = {"DatabaseUrl": pg_url, "MysqlUrl": mysql_url, "SecretKey": TEST_SECRET_KEY,
                  "BroadcastUser": USER, "BroadcastPassword": PASSWORD, "BroadcastWebhookSecret": SECRET,
                  "ChatAppBaseUrl": emulator.url, "BroadcastDelayRange": "0-0",
                  "BroadcastSweepSchedule": "rate(1 minute)", "BroadcastStrandedAfterMinutes": "2"}
    # One minute scaled to 2 s; this cloud is stopped before the test ends so its sweep touches no other test.
    with Cloud(str(TEMPLATE), parameters, aws_endpoint=aws_endpoint, rate_scale=2 / 60,
               functions=["BroadcastSenderFunction", "BroadcastMaintenanceFunction"]) as cloud:
        [schedule] = [s for s in cloud.stack.schedules() if s.function_id == "BroadcastMaintenanceFunction"]
        assert schedule.expression == "rate(1 minute)"
        env = cloud.stack.functions()["BroadcastMaintenanceFunction"].environment
        assert env["BROADCAST_STRANDED_AFTER_MINUTES"] == "2"
        wait_for(lambda: sql("SELECT status FROM broadcast_recipients WHERE id = %s", stranded)[0]["status"]
                 not in ("queued", "sending"), timeout=60, what="the stranded recipient sent by the sweep")
    assert [s["path"].split("/")[-3] for s in emulator.sends()] == ["79991234567"]
    assert sql("SELECT status, enqueued_at FROM broadcast_recipients WHERE id = %s", recent)[0] == \
        {"status": "queued", "enqueued_at": None}
