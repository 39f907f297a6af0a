"""template.yaml as an operator puts it into production (issue 27): checkov clean with every skip justified,
the database connection budget under max_connections, an alarm for everything that can go wrong unnoticed,
log retention, secure defaults, and a README that names every parameter."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from localcloud.template import Stack, load
from tools.deploy import connection_budget

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"   # its own venv: checkov's pins conflict with the project's
NO_VALUE = {"Ref": "AWS::NoValue"}


@pytest.fixture(scope="module")
def template():
    return load(ROOT / "template.yaml")


def of_type(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def dead_letter_queues(template):
    return {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            for q in of_type(template, "AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"]}


# ---- checkov ---------------------------------------------------------------------------------------

def test_checkov_finds_nothing_and_every_skip_says_why():
    assert CHECKOV.exists(), f"{CHECKOV} is missing: `make checkov` creates it from requirements-checkov.txt"
    done = subprocess.run([str(CHECKOV), "--file", "template.yaml", "--framework", "cloudformation", "--compact",
                           "--skip-download", "--output", "json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, BC_SKIP_MAPPING="TRUE"))
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [] and report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 100
    unexplained = [(c["check_id"], c["resource"]) for c in report["results"]["skipped_checks"]
                   if len(c["check_result"].get("suppress_comment") or "") < 20]
    assert unexplained == []


# ---- the connection budget -------------------------------------------------------------------------

def test_the_connection_budget_stays_under_max_connections(template):
    rows, totals = connection_budget.budget(ROOT / "template.yaml")
    functions = set(of_type(template, "AWS::Serverless::Function"))
    assert {r.function for r in rows} == functions   # every function opens a connection to a database
    assert {r.function for r in rows if r.database == "mysql"} == {f for f in functions if f.startswith("Broadcast")}
    worker = next(r for r in rows if r.function == "MailImportWorkerFunction")
    assert (worker.concurrency, worker.per_environment, worker.bound_by) == (4, 3, "SQS MaximumConcurrency")
    assert connection_budget.over(totals) == []
    postgres_used, postgres_max = totals["postgresql"]
    assert postgres_max == int(template["Parameters"]["PostgresMaxConnections"]["Default"])
    assert postgres_used == sum(r.connections for r in rows if r.database == "postgresql") > 50


def test_a_budget_over_max_connections_fails(capsys):
    _rows, totals = connection_budget.budget(ROOT / "template.yaml")
    used = totals["postgresql"][0]
    assert connection_budget.main(["--template", str(ROOT / "template.yaml"), f"PostgresMaxConnections={used}"]) == 0
    assert connection_budget.main(["--template", str(ROOT / "template.yaml"),
                                   f"PostgresMaxConnections={used - 1}"]) == 1
    assert f"postgresql: {used} connections at most, max_connections {used - 1}: OVER" in capsys.readouterr().out
    # Raising a function's concurrency raises the sum.
    _rows, bigger = connection_budget.budget(ROOT / "template.yaml", {"MailImportWorkerConcurrency": "10"})
    assert bigger["postgresql"][0] == used + 6 * 3


def test_a_function_without_a_bound_is_an_error(tmp_path):
    for folder in ("functions", "layers"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    text = (ROOT / "template.yaml").read_text()
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace("      ReservedConcurrentExecutions: !Ref MailboxConcurrency", "", 1))
    with pytest.raises(connection_budget.BudgetError, match="MailboxFunction: event .* is unbounded"):
        connection_budget.budget(copy)
    copy.write_text(text.replace("MaximumConcurrency: !Ref BroadcastSenderConcurrency", "BatchSize: 10", 1))
    with pytest.raises(connection_budget.BudgetError, match="BroadcastSenderFunction: event SendQueue"):
        connection_budget.budget(copy)


# ---- alarms, dashboard, log groups ----------------------------------------------------------------

def alarms_on(template, metric):
    """{watched logical id: alarm properties} of the alarms on this metric."""
    out = {}
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props["MetricName"] == metric:
            (dimension,) = props["Dimensions"]
            value = dimension["Value"]
            out[value.get("Ref") or value["Fn::GetAtt"][0]] = props
    return out


def test_every_dead_letter_queue_queue_and_function_has_its_alarms(template):
    queues = set(of_type(template, "AWS::SQS::Queue"))
    functions = set(of_type(template, "AWS::Serverless::Function"))
    dlqs = dead_letter_queues(template)
    assert len(dlqs) == 7 and len(queues) == 14 and len(functions) == 17
    not_empty = alarms_on(template, "ApproximateNumberOfMessagesVisible")
    assert set(not_empty) == dlqs
    assert {(p["Threshold"], p["ComparisonOperator"]) for p in not_empty.values()} == {(0, "GreaterThanThreshold")}
    ages = alarms_on(template, "ApproximateAgeOfOldestMessage")
    assert set(ages) == queues and {json.dumps(p["Threshold"]) for p in ages.values()} == {
        '{"Ref": "QueueAgeAlarmSeconds"}'}
    assert set(alarms_on(template, "Errors")) == functions
    assert set(alarms_on(template, "Throttles")) == functions
    for name, alarm in of_type(template, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_one_dashboard_shows_every_function_and_queue(template):
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
    shown = {m[3] for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]}
    names = {re.fullmatch(r"\$\{(\w+)(\.QueueName)?\}", s).group(1) for s in shown}
    assert names == set(of_type(template, "AWS::Serverless::Function")) | set(of_type(template, "AWS::SQS::Queue"))


def test_every_function_log_group_is_declared_with_the_retention_parameter(template):
    groups = {json.dumps(g["Properties"]["LogGroupName"]): g["Properties"]
              for g in of_type(template, "AWS::Logs::LogGroup").values()}
    for function in of_type(template, "AWS::Serverless::Function"):
        props = groups[json.dumps({"Fn::Sub": f"/aws/lambda/${{{function}}}"})]
        assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}, function
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30


# ---- secure defaults -----------------------------------------------------------------------------

def test_queues_buckets_secret_and_apis_are_secure_by_default(template):
    for name, queue in of_type(template, "AWS::SQS::Queue").items():
        props = queue["Properties"]
        assert props["SqsManagedSseEnabled"] == {"Fn::If": ["HasKmsKey", NO_VALUE, True]}, name
        assert props["KmsMasterKeyId"] == {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, NO_VALUE]}, name
    policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
                for p in of_type(template, "AWS::S3::BucketPolicy").values()}
    for name, bucket in of_type(template, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        assert len(props["PublicAccessBlockConfiguration"]) == 4, name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        (deny,) = policies[name]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name
    secret = template["Resources"]["PlatformSecrets"]["Properties"]
    assert secret["KmsKeyId"] == {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, NO_VALUE]}
    api = template["Globals"]["Api"]
    assert api["TracingEnabled"] == {"Fn::If": ["TracingOn", True, False]}
    assert api["AccessLogSetting"]["Fn::If"][0] == "ApiAccessLogsOn"
    assert template["Parameters"]["Tracing"]["Default"] == template["Parameters"]["ApiAccessLogs"]["Default"] == "true"
    assert template["Globals"]["Function"]["VpcConfig"]["Fn::If"][0] == "UseVpc"


# ---- the local cloud runs the same template -------------------------------------------------------

def test_the_local_cloud_reads_the_production_template():
    stack = Stack(ROOT / "template.yaml", {"MailboxConcurrency": "3"})
    functions = stack.functions()
    assert functions["MailboxFunction"].reserved_concurrency == 3       # a parameter, resolved
    assert functions["NotificationsDispatchFunction"].reserved_concurrency == 3
    assert functions["MailImportWorkerFunction"].reserved_concurrency is None
    assert {q.attributes["SqsManagedSseEnabled"] for q in stack.queues()} == {"true"}
    assert not [q for q in stack.queues() if "KmsMasterKeyId" in q.attributes]
    # Everything localcloud.cloud reads resolves although the template now names alarms, log groups, VPC settings...
    assert stack.ws_apis()["MailImportWsApi"].stage == "prod"
    assert len(stack.rest_apis()) == 5 and len(stack.sqs_mappings()) == 7 and len(stack.schedules()) == 5
    assert len(stack.buckets()) == 2 and len(stack.secrets()) == 1 and len(stack.email_identities()) == 2
    assert {"AlarmTopicArn", "DashboardUrl", "CodeCheckPageUrl"} <= set(stack.outputs())


# ---- the README ------------------------------------------------------------------------------------

def test_the_readme_deploy_section_names_every_parameter(template):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying to AWS", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in template["Parameters"] if f"`{name}`" not in section]
    assert missing == []
    for alarm in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "Errors", "Throttles"):
        assert alarm in section
