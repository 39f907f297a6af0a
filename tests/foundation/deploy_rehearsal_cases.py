"""A deploy rehearsal without AWS: template.yaml transformed by the SAM translator (as CloudFormation's
AWS::Serverless transform does) and created as a stack in moto's CloudFormation.

moto's CloudFormation resolves every Ref, GetAtt, Sub, If and Condition, as a second engine beside the local
cloud's own reader. Types moto cannot create (CloudWatch alarms, API Gateway v2, the secret, ...) get a stand-in
that records the properties it was given, resolved; the secret's stand-in creates it in moto's Secrets
Manager. Then: every resource is created, every function's environment holds real values (queue URLs of
queues that exist, the secret's ARN), every event source mapping reads the queue its SAM event names, every
alarm watches a function or queue that exists and tells the alarm topic."""
import io
import json
import os
import subprocess
import warnings
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation import parsing

from localcloud.template import load

ROOT = Path(__file__).resolve().parents[2]
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"   # aws-sam-translator lives in the SAM venv
BUCKET = "rehearsal-artifacts"
REGION = "us-east-1"
pytestmark = pytest.mark.timeout(600)
# Types moto has but cannot create from this template: its RestApi ignores the Body (the OpenAPI SAM writes),
# so a Deployment finds no methods.
STAND_IN_ANYWAY = {"AWS::ApiGateway::Deployment"}


class StandIn:
    """A resource of a type moto's CloudFormation cannot create: keeps its resolved properties (the interface of
    moto's CloudFormationModel, whose metaclass wants a moto module)."""

    created = {}

    def __init__(self, logical_id, resource_type, properties, physical_id):
        self.logical_id, self.resource_type, self.properties = logical_id, resource_type, properties
        self.physical_id = physical_id

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "Rehearsal::StandIn"

    @classmethod
    def has_cfn_attr(cls, attr):
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        kind = kwargs["ResourceType"]
        physical = f"arn:aws:rehearsal:{region_name}:{account_id}:{kwargs['LogicalId']}"
        if kind == "AWS::SecretsManager::Secret":   # real: the functions' PLATFORM_SECRETS must name it
            physical = boto3.client("secretsmanager", region_name=region_name).create_secret(
                Name=props["Name"], SecretString=props["SecretString"])["ARN"]
        obj = cls(kwargs["LogicalId"], kind, props, physical)
        cls.created[kwargs["LogicalId"]] = obj
        return obj

    @property
    def physical_resource_id(self):
        return self.physical_id

    def get_cfn_attribute(self, attribute_name):
        return f"{self.physical_id}/{attribute_name}"

    def is_created(self):
        return True


def unresolved(value, path=""):
    """Paths inside value still holding an intrinsic function or a ${...} placeholder."""
    if isinstance(value, dict):
        if any(k == "Ref" or k.startswith("Fn::") for k in value):
            return [path]
        return [p for k, v in value.items() for p in unresolved(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in unresolved(v, f"{path}[{i}]")]
    if isinstance(value, str) and "${" in value:
        return [path]
    return []


@pytest.fixture(scope="module")
def transformed():
    assert SAM_PYTHON.exists(), f"{SAM_PYTHON} is missing: `make sam` creates it from requirements-sam.txt"
    env = dict(os.environ, AWS_DEFAULT_REGION=REGION, PYTHONPATH=str(ROOT))
    done = subprocess.run([str(SAM_PYTHON), "-m", "tools.deploy.sam_transform", "template.yaml", BUCKET], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def rehearse(template, parameters, monkeypatch, region):
    """Create the stack in moto's CloudFormation; returns (stack resources {logical: summary}, clients)."""
    # In process, not the suite's moto server: queue URLs are then AWS's own, as the stack resolves them.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    known = {k: v for k, v in parsing.get_model_map().items() if k not in STAND_IN_ANYWAY}
    stand_ins = {t: StandIn for t in {r["Type"] for r in template["Resources"].values()} if t not in known}
    monkeypatch.setattr(parsing, "get_model_map", lambda: {**known, **stand_ins})
    StandIn.created = {}
    clients = {name: boto3.client(name, region_name=region)
               for name in ("s3", "cloudformation", "lambda", "sqs", "sns", "ec2", "secretsmanager", "logs")}
    clients["s3"].create_bucket(Bucket=BUCKET)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("app.py", "")
    template = json.loads(json.dumps(template))
    for logical, res in template["Resources"].items():
        if res["Type"] == "AWS::ApiGateway::RestApi":   # moto wants the Name CloudFormation takes from the Body
            res["Properties"].setdefault("Name", logical)
        code = res["Properties"].get("Code") or res["Properties"].get("Content")
        if code:
            clients["s3"].put_object(Bucket=code["S3Bucket"], Key=code["S3Key"], Body=archive.getvalue())
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # moto warns when it skips a resource it cannot create
        try:
            clients["cloudformation"].create_stack(
                StackName=f"rehearsal-{region}", TemplateBody=json.dumps(template),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        except RecursionError:
            # moto resolves references depth first: a resource that needs itself never ends.
            pytest.fail("circular dependency between resources (CloudFormation would refuse the stack), e.g. an "
                        "API's id in the environment of a function its integration invokes")
    stack = clients["cloudformation"].describe_stacks(StackName=f"rehearsal-{region}")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    paginator = clients["cloudformation"].get_paginator("list_stack_resources")
    # moto lists a resource left out by its Condition as an entry without a logical id.
    resources = {r["LogicalResourceId"]: r for page in paginator.paginate(StackName=f"rehearsal-{region}")
                 for r in page["StackResourceSummaries"] if r["LogicalResourceId"]}
    return resources, clients, stack


def sam_events(kind):
    """(function, event name, properties) of every SAM event of this type in template.yaml."""
    for logical, res in load(ROOT / "template.yaml")["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            for name, event in res["Properties"].get("Events", {}).items():
                if event["Type"] == kind:
                    yield logical, name, event["Properties"]


def test_the_stack_with_every_option_is_created_and_wired(transformed, monkeypatch):
    region = REGION
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
        group = ec2.create_security_group(GroupName="functions", Description="f", VpcId=vpc)["GroupId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        parameters = {"SecretKey": "k" * 44, "AlarmEmail": "ops@example.com", "SubnetIds": ",".join(subnets),
                      "SecurityGroupIds": group, "VpcId": vpc, "RouteTableIds": table,
                      "MailboxConcurrency": "7", "BroadcastSenderConcurrency": "3",
                      "DatabaseUrl": "postgresql://app@db.internal:5432/platform",
                      "MysqlUrl": "mysql://app@mysql.internal:3306/broadcast"}
        resources, clients, stack = rehearse(transformed, parameters, monkeypatch, region)

        # Every resource of the transformed template exists (every Condition is true with these parameters).
        assert sorted(resources) == sorted(transformed["Resources"])
        assert not [r for r in resources.values() if r["ResourceStatus"] != "CREATE_COMPLETE"]
        left = {k: unresolved(s.properties) for k, s in StandIn.created.items() if unresolved(s.properties)}
        assert not left, left
        assert not unresolved(stack.get("Outputs", []))

        lam, sqs = clients["lambda"], clients["sqs"]
        functions = {f["FunctionName"]: f for page in lam.get_paginator("list_functions").paginate()
                     for f in page["Functions"]}
        physical = {k: r["PhysicalResourceId"] for k, r in resources.items()}
        queue_urls = set(sqs.list_queues()["QueueUrls"])
        secret_arns = {s["ARN"] for s in clients["secretsmanager"].list_secrets()["SecretList"]}
        sam_functions = [k for k, v in load(ROOT / "template.yaml")["Resources"].items()
                         if v["Type"] == "AWS::Serverless::Function"]
        for logical in sam_functions:
            fn = functions[physical[logical]]
            env = fn["Environment"]["Variables"]
            assert not unresolved(env), (logical, env)
            assert env["PLATFORM_SECRETS"] in secret_arns, logical
            # The database URLs are in the secret, never in a function's environment.
            assert "DATABASE_URL" not in env and "MYSQL_URL" not in env, logical
            secret = json.loads(clients["secretsmanager"].get_secret_value(
                SecretId=env["PLATFORM_SECRETS"])["SecretString"])
            assert secret["DATABASE_URL"] == parameters["DatabaseUrl"], logical
            assert secret["MYSQL_URL"] == parameters["MysqlUrl"], logical
            for name, value in env.items():
                if name.endswith("_QUEUE_URL"):
                    assert value in queue_urls, (logical, name, value)
            assert fn["VpcConfig"]["SubnetIds"] == subnets and fn["VpcConfig"]["SecurityGroupIds"] == [group], logical
        concurrency = lam.get_function_concurrency(FunctionName=physical["MailboxFunction"])
        assert concurrency["ReservedConcurrentExecutions"] == 7

        # Every SQS event of the SAM template is a mapping from its queue to its function.
        mappings = {(m["EventSourceArn"], m["FunctionArn"].split(":")[-1]): m
                    for m in lam.list_event_source_mappings()["EventSourceMappings"]}
        expected = set()
        for fn, _name, props in sam_events("SQS"):
            queue = props["Queue"]["Fn::GetAtt"][0]
            arn = sqs.get_queue_attributes(QueueUrl=physical[queue], AttributeNames=["QueueArn"])
            expected.add((arn["Attributes"]["QueueArn"], physical[fn]))
        assert set(mappings) == expected
        sender = next(m for (arn, fn), m in mappings.items() if fn == physical["BroadcastSenderFunction"])
        assert sender["ScalingConfig"] == {"MaximumConcurrency": 3}

        # Every alarm watches a function or queue of the stack and tells the alarm topic, which mails AlarmEmail.
        topic = physical["AlarmTopic"]
        assert topic in [t["TopicArn"] for t in clients["sns"].list_topics()["Topics"]]
        queue_names = {url.rsplit("/", 1)[1] for url in queue_urls}
        alarms = [s for s in StandIn.created.values() if s.resource_type == "AWS::CloudWatch::Alarm"]
        assert alarms
        for alarm in alarms:
            props = alarm.properties
            (dimension,) = props["Dimensions"]
            watched = functions if dimension["Name"] == "FunctionName" else queue_names
            assert dimension["Value"] in watched, (alarm.logical_id, dimension)
            assert props["AlarmActions"] == [topic], alarm.logical_id
        subscription = StandIn.created["AlarmEmailSubscription"].properties
        assert subscription == {"TopicArn": topic, "Protocol": "email", "Endpoint": "ops@example.com"}
        groups = {g["logGroupName"]: g for g in clients["logs"].describe_log_groups()["logGroups"]}
        for logical in sam_functions:
            assert groups[f"/aws/lambda/{physical[logical]}"]["retentionInDays"] == 30, logical
        endpoints = ec2.describe_vpc_endpoints()["VpcEndpoints"]
        assert {e["ServiceName"].rsplit(".", 1)[1] for e in endpoints} >= {"secretsmanager", "sqs", "s3"}


def test_the_default_stack_leaves_out_only_the_optional_resources(transformed, monkeypatch):
    with mock_aws():
        resources, clients, _stack = rehearse(transformed, {"SecretKey": "k" * 44}, monkeypatch, REGION)
        conditional = {k for k, v in transformed["Resources"].items()
                       if v.get("Condition") in ("HasAlarmEmail", "CreateVpcEndpoints", "CreateS3Endpoint")}
        assert conditional and sorted(resources) == sorted(set(transformed["Resources"]) - conditional)
        functions = clients["lambda"].list_functions()["Functions"]
        assert functions and not [f for f in functions if f.get("VpcConfig", {}).get("SubnetIds")]
