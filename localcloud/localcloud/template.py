"""Read template.yaml (AWS SAM) and resolve it into the local cloud's model.

cfn-lint's decoder parses the YAML with its short-form tags (!Ref, !GetAtt, !Sub ...) into the
long form; this module applies SAM Globals and resolves the intrinsics the way CloudFormation
would, with local physical ids (queue URLs from the AWS endpoint, local gateway URLs for
execute-api hosts).
"""
import copy
import hashlib
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

from cfnlint.decode import decode

from . import api_keys, api_resources, model, user_pools
from .filters import FilterError, compile_filters
from .paths import cache_dir

ACCOUNT = "123456789012"
EXECUTE_API = re.compile(r"(https|wss)://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com")
SUB_VAR = re.compile(r"\$\{([^}]+)\}")
MERGED_GLOBAL_LISTS = ("Layers",)
INLINE_DIR = cache_dir() / "inline"
UNZIPPED_DIR = cache_dir() / "unzipped"      # CodeUri .zip files, extracted once per content


# What the local cloud runs, and what needs nothing locally (permissions, log groups, deployments): any other
# resource or event kind is named at start-up (not_emulated()), never silently skipped.
EMULATED_RESOURCES = {
    "AWS::Serverless::Function", "AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::Serverless::LayerVersion",
    "AWS::Lambda::LayerVersion", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::SecretsManager::Secret",
    "AWS::SES::EmailIdentity", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Stage",
    "AWS::Events::Rule", "AWS::Events::EventBus", "AWS::Lambda::EventSourceMapping",
    "AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable", "AWS::Kinesis::Stream",
    "AWS::Scheduler::Schedule",  # those whose target is a template function: a schedule like Schedule events
    "AWS::CloudWatch::Alarm",   # evaluated by the console from the same conditions (console/alarms.py)
    *api_keys.KINDS,            # created in the endpoint's API Gateway, checked on ApiKeyRequired methods
    *user_pools.KINDS,          # created in the endpoint's cognito-idp; their tokens checked by Cognito authorizers
    *api_resources.REST_KINDS,  # APIs written as resources: routed like SAM's (what is not, named by not_routed)
}
NOTHING_TO_EMULATE = {
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Lambda::Permission",
    "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy", "AWS::Logs::LogGroup",
    "AWS::ApiGatewayV2::Deployment", "AWS::ApiGatewayV2::RouteResponse", "AWS::CloudFormation::WaitConditionHandle",
    "AWS::Serverless::Connector",   # permissions between resources: everything may reach everything locally
    *api_resources.NOTHING_TO_EMULATE,
}
# Properties the local cloud does not apply, named at start-up like the kinds above.
PROPERTIES_NOT_EMULATED = {
    "AWS::Serverless::Function": ("EventInvokeConfig", "DeadLetterQueue", "FunctionUrlConfig", "ImageUri",
                                  "DurableConfig"),
    # An OpenAPI definition is not read: only the routes of the functions' Api / HttpApi events are served.
    "AWS::Serverless::Api": ("Domain", "GatewayResponses", "DefinitionBody", "DefinitionUri"),
    "AWS::Serverless::HttpApi": ("Domain", "DefinitionBody", "DefinitionUri"),
}
STREAM_PROPERTIES_NOT_EMULATED = ("DestinationConfig", "ParallelizationFactor", "TumblingWindowInSeconds",
                                  "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds")
EVENT_PROPERTIES_NOT_EMULATED = {"DynamoDB": STREAM_PROPERTIES_NOT_EMULATED,
                                 "Kinesis": STREAM_PROPERTIES_NOT_EMULATED,
                                 "Api": ("RequestParameters", "RequestModel"), "SNS": ("RedrivePolicy",)}
# The parts of an API's Auth (and an event's Auth) the local gateway applies; any other is named at start-up.
AUTH_APPLIED = {"AWS::Serverless::Api": {"DefaultAuthorizer", "Authorizers", "AddDefaultAuthorizerToCorsPreflight",
                                         "ApiKeyRequired"},
                "AWS::Serverless::HttpApi": {"DefaultAuthorizer", "Authorizers"}}
EVENT_AUTH_APPLIED = {"Authorizer", "AuthorizationScopes", "ApiKeyRequired"}
REST_AUTHORIZER_TTL = 300     # API Gateway's default authorizerResultTtlInSeconds (an HTTP API's is 0)
EMULATED_EVENTS = {"Api", "HttpApi", "SQS", "DynamoDB", "Kinesis", "SNS", "Schedule", "ScheduleV2", "S3",
                   "EventBridgeRule", "CloudWatchEvent"}


class TemplateError(Exception):
    """The template cannot be run: says what and where."""


TEMPLATE_NAMES = ("template.yaml", "template.yml")


def locate(path):
    """The template file a path names: the file itself, or a folder's template.yaml / template.yml (as `sam`
    looks for them); a missing template.yaml falls back to the template.yml beside it."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent if path.name in TEMPLATE_NAMES and not path.exists() else None
    if folder is None:
        return path
    for name in TEMPLATE_NAMES:
        if (folder / name).is_file():
            return folder / name
    raise TemplateError(f"{path}: no template.yaml or template.yml there")


# The text's SHA-256 -> the parsed template as JSON. cfn-lint's decoder keeps every node's position and takes
# about a second for this project's template; a cloud's start read it three times, and a test run starts hundreds of
# clouds. Keyed by content, not by name and time: a template edited within the file system's time granularity (the
# hot reload, the tests' rewritten templates) is parsed again.
_parsed = {}


def load(path):
    """Parse a SAM template into plain dicts and lists, intrinsics in long form (a new copy on every call)."""
    path = locate(path)
    try:
        key = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise TemplateError(f"{path}: {exc.strerror}") from None
    text = _parsed.get(key)
    if text is None:
        template, matches = decode(str(path))
        if template is None:
            raise TemplateError(f"{path}: " + "; ".join(str(m) for m in matches))
        # YAML reads an unquoted AWSTemplateFormatVersion (2010-09-09), or any bare date, as a date: keep its text.
        text = _parsed[key] = json.dumps(template, default=str)
    return json.loads(text)


GLOBAL_SECTIONS = {"Function": "AWS::Serverless::Function", "Api": "AWS::Serverless::Api",
                   "HttpApi": "AWS::Serverless::HttpApi", "SimpleTable": "AWS::Serverless::SimpleTable",
                   "LayerVersion": "AWS::Serverless::LayerVersion", "StateMachine": "AWS::Serverless::StateMachine"}


def with_globals(template):
    """Merge every Globals section (Function, Api, HttpApi, ...) into the resources of its type, as SAM does."""
    result = copy.deepcopy(template)
    for section, kind in GLOBAL_SECTIONS.items():
        defaults = result.get("Globals", {}).get(section)
        if not defaults:
            continue
        for res in result.get("Resources", {}).values():
            if res.get("Type") == kind:
                res["Properties"] = _merge(defaults, res.get("Properties", {}))
    return result


def _merge(glob, local):
    out = copy.deepcopy(glob)
    for key, value in local.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge(out[key], value)
        elif key in MERGED_GLOBAL_LISTS and isinstance(out.get(key), list) and isinstance(value, list):
            out[key] = out[key] + value
        else:
            out[key] = copy.deepcopy(value)
    return out


class Resolver:
    """Evaluates CloudFormation intrinsics against parameters and local physical ids."""

    def __init__(self, template, parameters, stack_name, region, api_urls, account=ACCOUNT):
        self.template = template
        self.account = account
        self.resources = template.get("Resources", {})
        self.region = region
        self.stack_name = stack_name
        self.api_urls = api_urls            # api id -> "http://127.0.0.1:PORT"
        self.refs = {}                      # logical id -> Ref value
        self.attrs = {}                     # logical id -> {attribute: value}
        self.params = self._parameters(parameters)
        self.conditions = {}

    def _parameters(self, overrides):
        params = {
            "AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/local",
        }
        for name, spec in self.template.get("Parameters", {}).items():
            if name in overrides:
                params[name] = str(overrides[name])
            elif "Default" in spec:
                params[name] = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default and no value was given")
        unknown = set(overrides) - set(self.template.get("Parameters", {}))
        if unknown:
            raise TemplateError(f"unknown parameters: {sorted(unknown)}")
        return params

    def resolve(self, value):
        """Resolve every intrinsic inside value; strings naming execute-api hosts become local URLs."""
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not NO_VALUE]
        if isinstance(value, dict):
            if len(value) == 1:
                (key, arg), = value.items()
                fn = INTRINSICS.get(key)
                if fn:
                    return fn(self, arg)
            out = {}
            for k, v in value.items():
                r = self.resolve(v)
                if r is not NO_VALUE:
                    out[k] = r
            return out
        if isinstance(value, str):
            return self.localise(value)
        return value

    def localise(self, text):
        """Rewrite https://<api>.execute-api.<region>.amazonaws.com to the local gateway serving <api>."""
        def swap(match):
            base = self.api_urls.get(match.group(2))
            if base is None:
                return match.group(0)
            return base.replace("http://", "ws://", 1) if match.group(1) == "wss" else base
        return EXECUTE_API.sub(swap, text)

    def ref(self, name):
        """The Ref value of a parameter, pseudo parameter or resource."""
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.params:
            return self.params[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.resources:
            return name
        raise TemplateError(f"!Ref to unknown name {name}")

    def get_att(self, arg):
        """The value of Fn::GetAtt [Resource, Attribute]."""
        res, attr = arg.split(".", 1) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
        try:
            return self.attrs[res][attr]
        except KeyError:
            kind = self.resources.get(res, {}).get("Type")
            if kind and kind not in EMULATED_RESOURCES:  # named at start-up as not emulated: a stand-in value
                return f"local-not-emulated:{res}.{attr}"
            raise TemplateError(f"!GetAtt {res}.{attr}: not known to the local cloud") from None

    def sub(self, arg):
        """Fn::Sub with ${Name}, ${Res.Attr}, ${!Literal} and an optional variable map."""
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def one(match):
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return str(self.get_att(name))
            return str(self.ref(name))
        return self.localise(SUB_VAR.sub(one, text))

    def condition(self, name):
        """Evaluate a named condition from the Conditions section."""
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.template.get("Conditions", {})[name]))
        return self.conditions[name]


NO_VALUE = object()


def _if(r, arg):
    return r.resolve(arg[1] if r.condition(arg[0]) else arg[2])


def _select(r, arg):
    index, items = r.resolve(arg[0]), r.resolve(arg[1])
    return items[int(index)]


def _find_in_map(r, arg):
    name, key1, key2 = (r.resolve(a) for a in arg)
    return r.template["Mappings"][name][key1][key2]


INTRINSICS = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": lambda r, a: r.get_att(a),
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::Join": lambda r, a: r.localise(r.resolve(a[0]).join(str(x) for x in r.resolve(a[1]))),   # URL built whole
    "Fn::Split": lambda r, a: r.resolve(a[1]).split(r.resolve(a[0])),
    "Fn::Select": _select,
    "Fn::If": _if,
    "Fn::FindInMap": _find_in_map,
    "Fn::Equals": lambda r, a: r.resolve(a[0]) == r.resolve(a[1]),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Condition": lambda r, a: r.condition(a),
    "Fn::GetAZs": lambda r, a: [f"{r.region}a", f"{r.region}b", f"{r.region}c"],
    "Fn::Base64": lambda r, a: __import__("base64").b64encode(str(r.resolve(a)).encode()).decode(),
}


def api_id(logical_id):
    """A local API id shaped like API Gateway's (10 characters, a-z0-9), stable for a logical id (the WebSocket
    gateway derives the same one)."""
    digits = int(hashlib.sha1(logical_id.encode()).hexdigest(), 16)
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(alphabet[(digits >> (6 * i)) % 36] for i in range(10))


def api_ids(template):
    """{logical id: (local api id, LocalPort, kind)} for every REST/HTTP/WebSocket API, implicit ones included."""
    out = {}
    for logical, res in template.get("Resources", {}).items():
        kind = {"AWS::Serverless::Api": "rest", "AWS::Serverless::HttpApi": "http", "AWS::ApiGateway::RestApi": "rest",
                "AWS::ApiGatewayV2::Api": "ws"}.get(res.get("Type"))
        if kind == "ws" and res.get("Properties", {}).get("ProtocolType") != "WEBSOCKET":
            kind = "http"
        if kind:
            out[logical] = (api_id(logical), int(res.get("Metadata", {}).get("LocalPort", 0)), kind)
    for res in template.get("Resources", {}).values():
        for event in (res.get("Properties") or {}).get("Events", {}).values():
            props = event.get("Properties", {})
            if event.get("Type") == "Api" and "RestApiId" not in props:
                out.setdefault("ServerlessRestApi", (api_id("ServerlessRestApi"), 0, "rest"))
            if event.get("Type") == "HttpApi" and "ApiId" not in props:
                out.setdefault("ServerlessHttpApi", (api_id("ServerlessHttpApi"), 0, "http"))
    # Implicit APIs listen where `sam local start-api` does, 3000, or the next port no other API names.
    taken = {port for _id, port, _kind in out.values() if port}
    for logical in ("ServerlessRestApi", "ServerlessHttpApi"):
        if logical in out:
            port = next(p for p in range(3000, 3100) if p not in taken)
            taken.add(port)
            out[logical] = (out[logical][0], port, out[logical][2])
    return out


class Stack:
    """The template resolved for the local cloud: functions, queues, buckets, APIs, mappings, schedules."""

    def __init__(self, path, parameters=None, stack_name="local", region="us-east-1", api_urls=None,
                 queue_url=None, account=ACCOUNT, stream_arns=None):
        self.path = locate(path).resolve()
        self.stream_arns = stream_arns if stream_arns is not None else {}    # table name -> its stream's ARN
        self.root = self.path.parent
        self.raw = load(self.path)
        self.template = with_globals(self.raw)
        self.apis = api_ids(self.template)
        self.account = account
        self.resolver = Resolver(self.template, parameters or {}, stack_name, region, api_urls or {}, account)
        self.region = region
        self.stack_name = stack_name
        self.queue_url = queue_url or (lambda name: f"https://sqs.{region}.amazonaws.com/{account}/{name}")
        # A resource whose Condition is false does not exist, as CloudFormation creates no such resource.
        self.resources = {k: v for k, v in self.template.get("Resources", {}).items()
                          if "Condition" not in v or self.resolver.condition(v["Condition"])}
        self._assign_physical_ids()

    # -- physical ids -------------------------------------------------------------------------
    def _of_type(self, *types):
        return [(k, v) for k, v in self.resources.items() if v.get("Type") in types]

    def _name(self, logical, res, prop):
        given = res.get("Properties", {}).get(prop)
        return self.resolver.resolve(given) if given else f"{self.stack_name}-{logical}"

    def _assign_physical_ids(self):
        r = self.resolver
        arn = f"arn:aws:{{}}:{self.region}:{self.account}:{{}}"
        for logical, (api_id, _port, kind) in self.apis.items():
            r.refs[logical] = api_id
            r.attrs[logical] = {"RootResourceId": "root", "ApiEndpoint": r.api_urls.get(api_id, "")}
            if kind == "rest":     # the stage SAM generates, <Api><StageName>Stage: its Ref is the stage's name
                props = self.resources.get(logical, {}).get("Properties") or self.template.get("Globals", {}).get(
                    "Api", {})
                stage = str(r.resolve(props.get("StageName", "Prod")))
                r.refs[f"{logical}{stage}Stage"] = stage
        for logical, res in self._of_type("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            r.refs[logical] = arn.format("lambda", f"layer:{self.stack_name}-{logical}:1")
        for logical, res in self._of_type("AWS::Serverless::Function", "AWS::Lambda::Function"):
            name = self._name(logical, res, "FunctionName")
            r.refs[logical] = name
            r.attrs[logical] = {"Arn": arn.format("lambda", f"function:{name}")}
            if res.get("Type") == "AWS::Serverless::Function" and "Role" not in res.get("Properties", {}):
                role = f"{self.stack_name}-{logical}Role"     # the execution role SAM generates, <Function>Role
                r.refs[f"{logical}Role"] = role
                r.attrs[f"{logical}Role"] = {"Arn": f"arn:aws:iam::{self.account}:role/{role}", "RoleId": role}
        for logical, res in self._of_type("AWS::SQS::Queue"):
            name = self._name(logical, res, "QueueName")
            r.refs[logical] = self.queue_url(name)
            r.attrs[logical] = {"Arn": arn.format("sqs", name), "QueueName": name, "QueueUrl": self.queue_url(name)}
        for logical, res in self._of_type("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
            name = self._name(logical, res, "TableName")
            r.refs[logical] = name
            table_arn = arn.format("dynamodb", f"table/{name}")
            # moto names the stream by its creation time: the Cloud puts the real ARN here once the table exists
            stream = self.stream_arns.get(name, f"{table_arn}/stream/local")
            r.attrs[logical] = {"Arn": table_arn, "StreamArn": stream}
        for logical, res in self._of_type("AWS::Kinesis::Stream"):
            name = self._name(logical, res, "Name")
            r.refs[logical] = name
            r.attrs[logical] = {"Arn": arn.format("kinesis", f"stream/{name}")}
        for logical, res in self._of_type("AWS::S3::Bucket"):
            name = self._name(logical, res, "BucketName").lower()
            r.refs[logical] = name
            r.attrs[logical] = {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}
        for logical, res in self._of_type("AWS::SecretsManager::Secret"):
            name = self._name(logical, res, "Name")
            r.refs[logical] = arn.format("secretsmanager", f"secret:{name}")
        for logical, res in self._of_type("AWS::IAM::Role"):
            name = self._name(logical, res, "RoleName")
            r.refs[logical] = name
            r.attrs[logical] = {"Arn": f"arn:aws:iam::{self.account}:role/{name}", "RoleId": name}
        for logical, res in self._of_type("AWS::SNS::Topic"):
            name = self._name(logical, res, "TopicName")
            r.refs[logical] = arn.format("sns", name)
            r.attrs[logical] = {"TopicArn": r.refs[logical], "TopicName": name}
        for logical, res in self._of_type("AWS::Events::EventBus"):
            name = self._name(logical, res, "Name")
            r.refs[logical] = name
            r.attrs[logical] = {"Arn": arn.format("events", f"event-bus/{name}"), "Name": name}
        for logical, res in self._of_type("AWS::Events::Rule"):
            name = self._name(logical, res, "Name")
            r.refs[logical] = name
            r.attrs[logical] = {"Arn": arn.format("events", f"rule/{name}")}
        for logical, res in self._of_type("AWS::Scheduler::Schedule"):
            name = self._name(logical, res, "Name")
            r.refs[logical] = name
            group = r.resolve(res.get("Properties", {}).get("GroupName")) or "default"
            r.attrs[logical] = {"Arn": arn.format("scheduler", f"schedule/{group}/{name}")}
        user_pools.placeholders(self)
        api_resources.physical_ids(self)

    # -- resources ------------------------------------------------------------------------------
    def queues(self):
        """Every SQS queue, dead-letter queues first so redrive targets exist before their sources."""
        out = []
        for logical, res in self._of_type("AWS::SQS::Queue"):
            props = self.resolver.resolve(res.get("Properties", {}))
            attrs = {k: (json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v))
                     for k, v in props.items() if k not in ("QueueName", "Tags")}
            redrive = props.get("RedrivePolicy") or {}
            target = redrive.get("deadLetterTargetArn")
            dlq = next((k for k, v in self.resolver.attrs.items() if target and v.get("Arn") == target), None)
            out.append(model.Queue(logical, self.resolver.attrs[logical]["QueueName"],
                                   url=self.resolver.refs[logical], arn=self.resolver.attrs[logical]["Arn"],
                                   attributes=attrs, dlq_logical_id=dlq,
                                   max_receive_count=redrive.get("maxReceiveCount")))
        return sorted(out, key=lambda q: q.dlq_logical_id is not None)

    def tables(self):
        """Every DynamoDB table (AWS::DynamoDB::Table, SAM's SimpleTable) with its CreateTable arguments."""
        out = []
        for logical, res in self._of_type("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
            props = self.resolver.resolve(res.get("Properties", {}))
            if res["Type"] == "AWS::Serverless::SimpleTable":
                key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
                kind = {"String": "S", "Number": "N", "Binary": "B"}[key.get("Type", "String")]
                definition = {"AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": kind}],
                              "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}]}
                throughput = props.get("ProvisionedThroughput")
            else:
                definition = {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
                                                    "LocalSecondaryIndexes", "StreamSpecification") if k in props}
                throughput = props.get("ProvisionedThroughput")
            if throughput:
                definition["ProvisionedThroughput"] = {k: int(v) for k, v in throughput.items()}
                definition["BillingMode"] = "PROVISIONED"
            else:
                definition["BillingMode"] = "PAY_PER_REQUEST"
            for index in definition.get("GlobalSecondaryIndexes", []):
                if definition["BillingMode"] == "PAY_PER_REQUEST":
                    index.pop("ProvisionedThroughput", None)
            if "StreamSpecification" in definition:
                definition["StreamSpecification"] = {"StreamEnabled": True, **definition["StreamSpecification"]}
            out.append(model.Table(logical, self.resolver.refs[logical], definition))
        return out

    def kinesis_streams(self):
        """(logical id, name, shard count) of every Kinesis stream."""
        out = []
        for logical, res in self._of_type("AWS::Kinesis::Stream"):
            props = self.resolver.resolve(res.get("Properties", {}))
            on_demand = (props.get("StreamModeDetails") or {}).get("StreamMode") == "ON_DEMAND"
            out.append((logical, self.resolver.refs[logical], int(props.get("ShardCount", 4 if on_demand else 1))))
        return out

    def buckets(self):
        """Every S3 bucket."""
        return [model.Bucket(k, self.resolver.refs[k], _versioned(res)) for k, res in self._of_type("AWS::S3::Bucket")]

    def secrets(self):
        """(name, secret string, GenerateSecretString) for every Secrets Manager secret: its SecretString, or
        None and how CloudFormation would generate it (None when the template gives neither: an empty one)."""
        out = []
        for logical, res in self._of_type("AWS::SecretsManager::Secret"):
            props = self.resolver.resolve(res.get("Properties", {}))
            generate = props.get("GenerateSecretString") if "SecretString" not in props else None
            value = None if generate is not None else props.get("SecretString", "")
            out.append((props.get("Name") or f"{self.stack_name}-{logical}", value, generate))
        return out

    def email_identities(self):
        """SES identities declared in the template."""
        out = []
        for _logical, res in self._of_type("AWS::SES::EmailIdentity"):
            out.append(self.resolver.resolve(res["Properties"]["EmailIdentity"]))
        return out

    def not_emulated(self):
        """One line per resource kind, and per function event, that the local cloud does not emulate."""
        lines = []
        kinds = {}
        for logical, res in self.resources.items():
            kind = res.get("Type", "")
            if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
                lines.append(f"custom resource {logical} ({kind}) is not run locally")
            elif kind not in EMULATED_RESOURCES and kind not in NOTHING_TO_EMULATE:
                kinds.setdefault(kind, []).append(logical)
        for kind, logicals in sorted(kinds.items()):
            lines.append(f"resource kind {kind} is not emulated locally: {', '.join(logicals)}")
        wired = {logical for logical, _props in self._mappings_by_hand()}
        for logical, res in self._of_type("AWS::Lambda::EventSourceMapping"):
            if logical not in wired:
                lines.append(f"event source mapping {logical} is not emulated locally (only SQS queues, "
                             "DynamoDB streams and Kinesis streams of this template into its functions are)")
        for logical, res in self._of_type("AWS::Events::Rule"):
            if "EventPattern" not in res.get("Properties", {}):
                lines.append(f"rule {logical} has no EventPattern: only pattern rules are emulated locally")
        for logical, _props, target, kind, arn, _label in self._rule_targets():
            if kind is None:
                lines.append(f"target {target.get('Id')} of rule {logical} ({arn}) is not emulated locally (only "
                             "functions, queues and topics of this template are): nothing reaches it")
        lines += self._scheduler_schedules_not_emulated()
        for logical, res in self.resources.items():
            for prop in PROPERTIES_NOT_EMULATED.get(res.get("Type"), ()):
                if prop in (res.get("Properties") or {}):
                    lines.append(f"property {prop} of {logical} ({res['Type']}) is not applied locally")
            if res.get("Type") in AUTH_APPLIED:
                lines += _auth_not_applied(f"{logical} ({res['Type']})", res["Type"], res.get("Properties") or {})
            if (res.get("Properties") or {}).get("ApiKeySourceType") == "AUTHORIZER":
                lines.append(f"property ApiKeySourceType AUTHORIZER of {logical} is not applied locally: the key is "
                             "read from the x-api-key header")
        implicit = {"Api": "ServerlessRestApi", "HttpApi": "ServerlessHttpApi"}
        for section, logical in implicit.items():
            if logical in self.apis and logical not in self.resources:
                kind = f"AWS::Serverless::{section}"
                glob = self.template.get("Globals", {}).get(section, {})
                for prop in PROPERTIES_NOT_EMULATED[kind]:
                    if prop in glob:
                        lines.append(f"property {prop} of {logical} (Globals.{section}) is not applied locally")
                lines += _auth_not_applied(f"{logical} (Globals.{section})", kind, glob)
        lines += api_keys.not_enforced(self) + user_pools.not_applied(self) + api_resources.not_routed(self)
        for logical, res in self._of_type("AWS::Serverless::Function"):
            for layer in (res.get("Properties") or {}).get("Layers", []):
                if self._layer_dir(layer) is None:
                    lines.append(f"layer {self.resolver.resolve(layer)} of function {logical} is not available "
                                 "locally (only the template's own layers with a local ContentUri are): its code is "
                                 "missing")
        for fn, name, kind, props in self._events():
            if kind not in EMULATED_EVENTS:
                lines.append(f"event {name} (Type: {kind}) of function {fn} is not emulated locally: it never fires")
            for prop in EVENT_PROPERTIES_NOT_EMULATED.get(kind, ()):
                if prop in props:
                    lines.append(f"property {prop} of event {name} (Type: {kind}) of function {fn} is not applied "
                                 "locally")
            auth = (props.get("Auth") or {}) if kind in ("Api", "HttpApi") else {}
            for prop in sorted(set(auth) - EVENT_AUTH_APPLIED):
                lines.append(f"property Auth.{prop} of event {name} (Type: {kind}) of function {fn} is not applied "
                             "locally")
            if auth.get("Authorizer") == "AWS_IAM":
                lines.append(f"authorizer AWS_IAM of event {name} (Type: {kind}) of function {fn} is not emulated "
                             "locally: the route is open")
        return lines

    def alarms(self):
        """Every CloudWatch alarm of the template (only the fields that say what it watches are resolved)."""
        out = []
        for logical, res in self._of_type("AWS::CloudWatch::Alarm"):
            props = res.get("Properties", {})

            def get(name, default=None, props=props):
                return self.resolver.resolve(props[name]) if name in props else default
            dimensions = {str(self.resolver.resolve(d.get("Name"))): str(self.resolver.resolve(d.get("Value")))
                          for d in props.get("Dimensions") or []}
            out.append(model.Alarm(logical, str(get("AlarmDescription", "")), str(get("Namespace", "")),
                                   str(get("MetricName", "")), dimensions, str(get("Statistic", "")),
                                   int(get("Period", 60)), int(get("EvaluationPeriods", 1)),
                                   float(get("Threshold", 0)), str(get("ComparisonOperator", ""))))
        return out

    def outputs(self):
        """The template's Outputs, resolved (execute-api URLs become local ones)."""
        out = {}
        for name, spec in self.template.get("Outputs", {}).items():
            try:
                out[name] = self.resolver.resolve(spec.get("Value"))
            except TemplateError:
                continue
        return out

    def layer_dirs(self, props):
        """The python/ folders of the template's own layers referenced by a function."""
        return [d for d in map(self._layer_dir, props.get("Layers", [])) if d is not None]

    def _layer_dir(self, ref):
        """The folder of a layer a function names, if it is one of the template's with a local ContentUri."""
        name = ref.get("Ref") if isinstance(ref, dict) else None
        res = self.resources.get(name or "", {})
        uri = res.get("Properties", {}).get("ContentUri") or res.get("Properties", {}).get("Content")
        if not isinstance(uri, str):
            return None
        base = (self.root / uri).resolve()
        return base / "python" if (base / "python").is_dir() else base

    def functions(self):
        """Every function with its resolved environment, timeout, memory and concurrency."""
        out = {}
        for logical, res in self._of_type("AWS::Serverless::Function"):
            props = res.get("Properties", {})
            if "InlineCode" in props:
                code_dir = self._inline_code(logical, props)
            else:
                code_uri = props.get("CodeUri", ".")
                if not isinstance(code_uri, str):
                    raise TemplateError(f"{logical}: CodeUri must be a local path to run locally")
                code_dir = (self.root / code_uri).resolve()
                if code_dir.is_file() and zipfile.is_zipfile(code_dir):
                    code_dir = _unzipped(code_dir)
            env = self.resolver.resolve(props.get("Environment", {}).get("Variables", {}))
            out[logical] = model.Function(
                logical_id=logical, handler=str(self.resolver.resolve(props["Handler"])), code_dir=code_dir,
                layer_dirs=self.layer_dirs(props), environment={k: str(v) for k, v in env.items()},
                timeout=int(self.resolver.resolve(props.get("Timeout", 3))),
                memory=int(self.resolver.resolve(props.get("MemorySize", 128))),
                reserved_concurrency=_int_or_none(self.resolver.resolve(props.get("ReservedConcurrentExecutions"))),
                runtime=str(self.resolver.resolve(props.get("Runtime", ""))))
        return out

    def _inline_code(self, logical, props):
        """The folder holding a function's InlineCode, written as Lambda does (index.py, or the module the
        Handler names), under the cache's inline/ (paths.py) per stack and template; rewritten only when it
        changes."""
        module = str(self.resolver.resolve(props.get("Handler", "index.handler"))).rpartition(".")[0] or "index"
        key = hashlib.sha1(str(self.path).encode()).hexdigest()[:8]
        folder = INLINE_DIR / f"{self.stack_name}-{key}" / logical
        path = folder / (module.replace(".", "/") + ".py")
        code = str(self.resolver.resolve(props["InlineCode"]))
        if not path.is_file() or path.read_text() != code:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code)
        return folder.resolve()

    def _events(self):
        for logical, res in self._of_type("AWS::Serverless::Function"):
            for name, event in res.get("Properties", {}).get("Events", {}).items():
                yield logical, name, event.get("Type"), event.get("Properties", {})

    def sqs_mappings(self):
        """Every SQS event source of a function: Type: SQS events and AWS::Lambda::EventSourceMapping resources
        from a template queue."""
        out = []
        for fn, name, kind, props in self._events():
            if kind != "SQS":
                continue
            props = self.resolver.resolve(props)
            arn = props["Queue"]
            queue = next((k for k, v in self.resolver.attrs.items() if v.get("Arn") == arn), None)
            if queue is None:
                raise TemplateError(f"{fn}: SQS event names a queue the template does not declare: {arn}")
            out.append(self._sqs_mapping(fn, queue, arn, props, f"event {name} of {fn}"))
        for logical, props in self._mappings_by_hand():
            if props["_source"] == "sqs":
                out.append(self._sqs_mapping(props["_function"], props["_queue"], props["EventSourceArn"], props,
                                             logical))
        return out

    def _sqs_mapping(self, fn, queue, arn, props, where):
        criteria = props.get("FilterCriteria")
        return model.SqsMapping(
            function_id=fn, queue_logical_id=queue, queue_url=self.resolver.refs[queue], queue_arn=arn,
            batch_size=int(props.get("BatchSize", 10)),
            batching_window=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            max_concurrency=int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", 1)),
            enabled=_true(props.get("Enabled", True)), filters=_filters(criteria, where), filter_criteria=criteria)

    def stream_mappings(self):
        """Every DynamoDB stream event source: Type: DynamoDB events and AWS::Lambda::EventSourceMapping
        resources from the stream of a template table."""
        return self._stream_sources("DynamoDB", "dynamodb", self._table_of_stream, "a stream of no table")

    def kinesis_mappings(self):
        """Every Kinesis event source: Type: Kinesis events and AWS::Lambda::EventSourceMapping resources from a
        template Kinesis stream (table_* of each name the stream)."""
        return self._stream_sources("Kinesis", "kinesis", self._kinesis_stream, "no Kinesis stream")

    def _stream_sources(self, kind, source, locate, missing):
        """The StreamMappings of one source kind: its events (locate: a Stream ARN -> the template resource) and
        the mappings written by hand from it."""
        out = []
        for fn, name, event_kind, props in self._events():
            if event_kind != kind:
                continue
            props = self.resolver.resolve(props)
            found = locate(props.get("Stream"))
            if found is None:
                raise TemplateError(f"{fn}: {kind} event {name} names {missing} of this template: "
                                    f"{props.get('Stream')}")
            out.append(self._stream_mapping(fn, name, found, props, f"event {name} of {fn}", source))
        for logical, props in self._mappings_by_hand():
            if props["_source"] == source:
                out.append(self._stream_mapping(props["_function"], logical, props["_table"], props, logical, source))
        return out

    def _kinesis_stream(self, arn):
        """The logical id of the template Kinesis stream an ARN names (a consumer's ARN names its stream)."""
        match = re.search(r":stream/([^/]+)", str(arn or ""))
        return next((k for k, _res in self._of_type("AWS::Kinesis::Stream")
                     if match and self.resolver.refs[k] == match.group(1)), None)

    def _stream_mapping(self, fn, name, table, props, where, source="dynamodb"):
        position = props.get("StartingPosition")
        positions = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP") if source == "kinesis" else ("TRIM_HORIZON", "LATEST")
        if position not in positions:
            raise TemplateError(f"{where}: StartingPosition must be {' or '.join(positions)} for a "
                                f"{'Kinesis' if source == 'kinesis' else 'DynamoDB'} stream, not {position!r}")
        criteria = props.get("FilterCriteria")
        return model.StreamMapping(
            function_id=fn, name=name, table_logical_id=table, table_name=self.resolver.refs[table],
            starting_position=position, batch_size=int(props.get("BatchSize", 100)),
            batching_window=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
            enabled=_true(props.get("Enabled", True)), filters=_filters(criteria, where), filter_criteria=criteria,
            source=source, starting_timestamp=_float_or_none(props.get("StartingPositionTimestamp")))

    def _table_of_stream(self, arn):
        """The logical id of the template table whose stream an ARN names (moto's label or ours)."""
        match = re.search(r":table/([^/]+)/stream/", str(arn or ""))
        tables = self._of_type("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
        return next((k for k, _res in tables if match and self.resolver.refs[k] == match.group(1)), None)

    def _mappings_by_hand(self):
        """(logical id, resolved properties + _function/_source/_queue or _table) of each
        AWS::Lambda::EventSourceMapping from a template queue or table stream to a template function; others
        are named by not_emulated()."""
        functions = {}
        for k, _res in self._of_type("AWS::Serverless::Function", "AWS::Lambda::Function"):
            functions[self.resolver.refs[k]] = functions[self.resolver.attrs[k]["Arn"]] = k
        queues = {v["Arn"]: k for k, v in self.resolver.attrs.items() if ":sqs:" in v.get("Arn", "")}
        out = []
        for logical, res in self._of_type("AWS::Lambda::EventSourceMapping"):
            props = self.resolver.resolve(res.get("Properties", {}))
            fn, source = functions.get(props.get("FunctionName")), props.get("EventSourceArn")
            if fn and source in queues:
                out.append((logical, dict(props, _function=fn, _source="sqs", _queue=queues[source])))
            elif fn and self._table_of_stream(source):
                out.append((logical, dict(props, _function=fn, _source="dynamodb",
                                          _table=self._table_of_stream(source))))
            elif fn and self._kinesis_stream(source):
                out.append((logical, dict(props, _function=fn, _source="kinesis",
                                          _table=self._kinesis_stream(source))))
        return out

    def topics(self):
        """(logical id, name, attributes) of every SNS topic."""
        out = []
        for logical, res in self._of_type("AWS::SNS::Topic"):
            props = self.resolver.resolve(res.get("Properties", {}))
            attrs = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in props.items()
                     if k in ("FifoTopic", "ContentBasedDeduplication", "DisplayName")}
            out.append((logical, self.resolver.attrs[logical]["TopicName"], attrs))
        return out

    def sns_subscriptions(self):
        """Every SNS event source of a function (Type: SNS events, and AWS::SNS::Subscription resources whose
        Protocol is lambda), with its filter policy; SqsSubscription ones go through a queue as SAM does."""
        out = []
        by_arn = {v["Arn"]: k for k, v in self.resolver.attrs.items() if ":function:" in v.get("Arn", "")}
        for fn, name, kind, props in self._events():
            if kind != "SNS":
                continue
            props = self.resolver.resolve(props)
            sqs = props.get("SqsSubscription") or False
            out.append(model.SnsSubscription(
                function_id=fn, name=name, topic_arn=props["Topic"], filter_policy=props.get("FilterPolicy"),
                filter_policy_scope=props.get("FilterPolicyScope", "MessageAttributes"),
                sqs_subscription=bool(sqs),
                batch_size=int(sqs.get("BatchSize", 10)) if isinstance(sqs, dict) else 10))
        for logical, res in self._of_type("AWS::SNS::Subscription"):
            props = self.resolver.resolve(res.get("Properties", {}))
            if props.get("Protocol") == "lambda" and props.get("Endpoint") in by_arn:
                out.append(model.SnsSubscription(
                    function_id=by_arn[props["Endpoint"]], name=logical, topic_arn=props["TopicArn"],
                    filter_policy=props.get("FilterPolicy"),
                    filter_policy_scope=props.get("FilterPolicyScope", "MessageAttributes")))
        return out

    def queue_subscriptions(self):
        """(topic ARN, queue logical id, raw delivery, filter policy, scope) of AWS::SNS::Subscription resources
        whose Protocol is sqs: moto delivers those itself."""
        out = []
        for _logical, res in self._of_type("AWS::SNS::Subscription"):
            props = self.resolver.resolve(res.get("Properties", {}))
            if props.get("Protocol") != "sqs":
                continue
            queue = next((k for k, v in self.resolver.attrs.items() if v.get("Arn") == props.get("Endpoint")), None)
            if queue is None:
                raise TemplateError(f"{_logical}: Endpoint names a queue the template does not declare")
            out.append((props["TopicArn"], queue, bool(props.get("RawMessageDelivery", False)),
                        props.get("FilterPolicy"), props.get("FilterPolicyScope", "MessageAttributes")))
        return out

    def s3_notifications(self):
        """Every S3 event source of a function (the bucket must be the template's, as SAM requires)."""
        out = []
        for fn, name, kind, props in self._events():
            if kind != "S3":
                continue
            props = self.resolver.resolve(props)
            events = props.get("Events") or []
            rules = ((props.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
            out.append(model.S3Notification(fn, name, props["Bucket"], [events] if isinstance(events, str) else events,
                                            [{"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules]))
        return out

    def event_rules(self):
        """Every EventBridge rule that invokes a function: EventBridgeRule / CloudWatchEvent events, and
        AWS::Events::Rule resources with an EventPattern whose targets are the template's functions."""
        out = []
        for fn, name, kind, props in self._events():
            if kind not in ("EventBridgeRule", "CloudWatchEvent"):
                continue
            props = self.resolver.resolve(props)
            enabled = props.get("Enabled", props.get("State", "ENABLED") != "DISABLED")
            out.append(model.EventRule(fn, name, props.get("Pattern") or {}, _bus_name(props.get("EventBusName")),
                                       _json_text(props.get("Input")), props.get("InputPath"),
                                       props.get("InputTransformer"), bool(enabled)))
        for logical, props, target, kind, where, label in self._rule_targets():
            if kind is None:
                continue
            rule = model.EventRule(
                where if kind == "function" else None, logical, props["EventPattern"],
                _bus_name(props.get("EventBusName")), _json_text(target.get("Input")), target.get("InputPath"),
                target.get("InputTransformer"), props.get("State", "ENABLED") != "DISABLED")
            if kind != "function":
                rule.name = f"{logical}-{target.get('Id', label)}"
                rule.target_kind, rule.target, rule.target_label = kind, where, label
                rule.message_group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            out.append(rule)
        return out

    def _rule_targets(self):
        """(rule logical id, resolved properties, target, kind, where, label) of every target of every
        AWS::Events::Rule with an EventPattern: kind "function" (where: its logical id), "sqs" (where: the queue's
        URL), "sns" (where: the topic's ARN), or None for a target the local cloud does not deliver to."""
        functions = {v["Arn"]: k for k, v in self.resolver.attrs.items() if ":function:" in v.get("Arn", "")}
        queues = {self.resolver.attrs[k]["Arn"]: k for k, _res in self._of_type("AWS::SQS::Queue")}
        topics = {self.resolver.refs[k]: k for k, _res in self._of_type("AWS::SNS::Topic")}
        for logical, res in self._of_type("AWS::Events::Rule"):
            props = self.resolver.resolve(res.get("Properties", {}))
            if "EventPattern" not in props:
                continue
            for target in props.get("Targets", []):
                arn = target.get("Arn")
                if arn in functions:
                    yield logical, props, target, "function", functions[arn], functions[arn]
                elif arn in queues:
                    yield logical, props, target, "sqs", self.resolver.refs[queues[arn]], f"queue {queues[arn]}"
                elif arn in topics:
                    yield logical, props, target, "sns", arn, f"topic {topics[arn]}"
                else:
                    yield logical, props, target, None, arn, str(target.get("Id"))

    def event_buses(self):
        """The names of the template's custom event buses."""
        return [self.resolver.refs[k] for k, _res in self._of_type("AWS::Events::EventBus")]

    def schedules(self):
        """Every Schedule / ScheduleV2 event of a function."""
        out = []
        for fn, name, kind, props in self._events():
            if kind not in ("Schedule", "ScheduleV2"):
                continue
            expression = self.resolver.resolve(props.get("Schedule") or props.get("ScheduleExpression"))
            enabled = props.get("Enabled", props.get("State", "ENABLED") != "DISABLED")
            arn = f"arn:aws:events:{self.region}:{self.account}:rule/{self.stack_name}-{fn}-{name}"
            inp = props.get("Input")
            out.append(model.Schedule(fn, name, expression, arn, bool(self.resolver.resolve(enabled)),
                                      self.resolver.resolve(inp) if inp is not None else None))
        for logical, props, fn in self._template_scheduler_schedules():
            # a Scheduler target gets its Input, {} without one; at() ones are named by not_emulated()
            if fn is not None and not str(props["ScheduleExpression"]).startswith("at("):
                out.append(model.Schedule(fn, logical, props["ScheduleExpression"], self.resolver.attrs[logical]["Arn"],
                                          props.get("State", "ENABLED") == "ENABLED",
                                          _json_text(props["Target"].get("Input")) or "{}"))
        return out

    def _template_scheduler_schedules(self):
        """(logical id, resolved properties, function logical id or None) of each AWS::Scheduler::Schedule."""
        by_arn = {v["Arn"]: k for k, v in self.resolver.attrs.items() if ":function:" in v.get("Arn", "")}
        for logical, res in self._of_type("AWS::Scheduler::Schedule"):
            props = self.resolver.resolve(res.get("Properties", {}))
            yield logical, props, by_arn.get((props.get("Target") or {}).get("Arn"))

    def _scheduler_schedules_not_emulated(self):
        lines = []
        for logical, props, fn in self._template_scheduler_schedules():
            if fn is None or str(props.get("ScheduleExpression")).startswith("at("):
                lines.append(f"schedule {logical} (AWS::Scheduler::Schedule) is not emulated locally (only rate() "
                             "and cron() schedules of a function of this template are)")
                continue
            for prop in ("RetryPolicy", "DeadLetterConfig"):
                if prop in props["Target"]:
                    lines.append(f"property Target.{prop} of {logical} (AWS::Scheduler::Schedule) is not applied "
                                 "locally")
            for prop in ("ScheduleExpressionTimezone", "StartDate", "EndDate"):
                if prop in props:
                    lines.append(f"property {prop} of {logical} (AWS::Scheduler::Schedule) is not applied locally")
        return lines

    def rest_apis(self):
        """Every REST (v1) and HTTP (v2) API with its routes, keyed by logical id; kind in .payload_version."""
        apis, defaults, default_scopes, key_defaults = {}, {}, {}, {}
        for logical, (api_id, port, kind) in self.apis.items():
            if kind == "ws":
                continue
            # An implicit API (ServerlessRestApi / ServerlessHttpApi) takes its settings from Globals only.
            props = self.resources.get(logical, {}).get("Properties") or self.template.get("Globals", {}).get(
                "HttpApi" if kind == "http" else "Api", {})
            stage = self.resolver.resolve(props.get("StageName", "$default" if kind == "http" else "Prod"))
            # SAM writes "/" in a media type as "~1" (a JSON pointer escape): image~1png is image/png
            binary = [str(t).replace("~1", "/") for t in self.resolver.resolve(props.get("BinaryMediaTypes", []))]
            api = model.RestApi(logical, stage, [], port, binary)
            api.payload_version = "2.0" if kind == "http" else "1.0"
            auth = self.resolver.resolve(props.get("Auth") or {})
            api.authorizers, default_scopes[logical] = self._authorizers(kind, auth.get("Authorizers") or {})
            defaults[logical] = auth.get("DefaultAuthorizer")
            key_defaults[logical] = auth.get("ApiKeyRequired", False)
            if kind == "http":
                api.cors = _http_cors(self.resolver.resolve(props.get("CorsConfiguration")))
            else:
                api.cors = _rest_cors(self.resolver.resolve(props.get("Cors")))
                if api.cors and _true(auth.get("AddDefaultAuthorizerToCorsPreflight", True)):
                    api.preflight_authorizer = defaults[logical] if defaults[logical] in api.authorizers else None
            apis[logical] = api
        for fn, _name, kind, props in self._events():
            if kind not in ("Api", "HttpApi"):
                continue
            ref = props.get("RestApiId") or props.get("ApiId") or {
                "Ref": "ServerlessRestApi" if kind == "Api" else "ServerlessHttpApi"}
            api_logical = ref.get("Ref") if isinstance(ref, dict) else ref
            path = props.get("Path", "$default")
            method = props.get("Method", "ANY").upper()
            auth = self.resolver.resolve(props.get("Auth") or {})
            authorizer = auth.get("Authorizer", defaults[api_logical])
            authorizer = authorizer if authorizer in apis[api_logical].authorizers else None
            scopes = auth.get("AuthorizationScopes") or default_scopes[api_logical].get(authorizer) or []
            key_required = kind == "Api" and _true(auth.get("ApiKeyRequired", key_defaults[api_logical]))
            apis[api_logical].routes.append(model.Route(
                path, "ANY" if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" else method, fn, authorizer, list(scopes),
                key_required))
        api_resources.add_routes(self, apis)
        return apis

    def _authorizers(self, kind, specs):
        """({name: Authorizer} of the ones the local gateway applies, {name: default AuthorizationScopes})."""
        by_arn = {v["Arn"]: k for k, v in self.resolver.attrs.items() if ":function:" in v.get("Arn", "")}
        out, scopes = {}, {}
        for name, spec in specs.items():
            if kind == "rest" and spec.get("FunctionArn") in by_arn:
                payload = str(spec.get("FunctionPayloadType", "TOKEN")).upper()
                identity = spec.get("Identity") or {}
                if payload == "TOKEN":
                    sources = [("header", identity.get("Header", "Authorization"))]
                else:
                    sources = [("header", h) for h in identity.get("Headers") or []] + [
                        ("query", q) for q in identity.get("QueryStrings") or []]
                out[name] = model.Authorizer(name, payload, by_arn[spec["FunctionArn"]], sources,
                                             identity.get("ValidationExpression"),
                                             ttl=int(identity.get("ReauthorizeEvery", REST_AUTHORIZER_TTL)))
            elif kind == "http" and spec.get("FunctionArn") in by_arn:
                identity = spec.get("Identity") or {}
                sources = [("header", h) for h in identity.get("Headers") or []] + [
                    ("query", q) for q in identity.get("QueryStrings") or []]
                out[name] = model.Authorizer(name, "LAMBDA", by_arn[spec["FunctionArn"]], sources,
                                             payload_version=str(spec.get("AuthorizerPayloadFormatVersion", "2.0")),
                                             simple_responses=_true(spec.get("EnableSimpleResponses", False)),
                                             ttl=int(identity.get("ReauthorizeEvery", 0)))
            elif kind == "http" and "JwtConfiguration" in spec:
                config = spec["JwtConfiguration"]
                audience = config.get("audience") or config.get("Audience") or []
                out[name] = model.Authorizer(
                    name, "JWT", identity=[_identity_source(spec.get("IdentitySource",
                                                                     "$request.header.Authorization"))],
                    issuer=str(config.get("issuer") or config.get("Issuer") or ""),
                    audience=[audience] if isinstance(audience, str) else list(audience))
                scopes[name] = spec.get("AuthorizationScopes") or []
            elif kind == "rest" and "UserPoolArn" in spec:
                arns = spec["UserPoolArn"] if isinstance(spec["UserPoolArn"], list) else [spec["UserPoolArn"]]
                header = (spec.get("Identity") or {}).get("Header", "Authorization")
                out[name] = model.Authorizer(name, "COGNITO", identity=[("header", header)],
                                             issuers=[user_pools.issuer_of(arn) for arn in arns])
                scopes[name] = spec.get("AuthorizationScopes") or []
        return out, scopes

    def ws_apis(self):
        """Every WebSocket API with its route key -> function map."""
        by_arn = {v["Arn"]: k for k, v in self.resolver.attrs.items() if ":function:" in v.get("Arn", "")}
        integrations = {}
        for logical, res in self._of_type("AWS::ApiGatewayV2::Integration"):
            uri = self.resolver.resolve(res["Properties"].get("IntegrationUri", ""))
            fn = next((name for arn, name in by_arn.items() if arn in uri), None)
            integrations[logical] = fn
        stages = {}
        for _logical, res in self._of_type("AWS::ApiGatewayV2::Stage"):
            props = res["Properties"]   # only these two: access log settings name resources run on AWS only
            stages[self.resolver.resolve(props["ApiId"])] = self.resolver.resolve(props["StageName"])
        out = {}
        for logical, (api_id, port, kind) in self.apis.items():
            if kind != "ws":
                continue
            props = self.resources[logical]["Properties"]
            out[logical] = model.WsApi(logical, self.resolver.resolve(props.get("Name", logical)),
                                       props.get("RouteSelectionExpression", "$request.body.action"),
                                       stages.get(api_id, "prod"), {}, port)
        for _logical, res in self._of_type("AWS::ApiGatewayV2::Route"):
            props = res["Properties"]
            api_logical = props["ApiId"].get("Ref")
            target = self.resolver.resolve(props.get("Target", ""))
            integration = target.split("/")[-1] if target else None
            fn = integrations.get(integration)
            if api_logical in out and fn:
                out[api_logical].routes[self.resolver.resolve(props["RouteKey"])] = fn
        return out


def _auth_not_applied(label, kind, props):
    """Start-up lines for the parts of an API's Auth the local gateway does not apply."""
    auth = props.get("Auth") or {}
    lines = [f"property Auth.{prop} of {label} is not applied locally"
             for prop in sorted(set(auth) - AUTH_APPLIED[kind])]
    for name, spec in (auth.get("Authorizers") or {}).items():
        if kind == "AWS::Serverless::Api" and "FunctionArn" not in spec and "UserPoolArn" not in spec:
            lines.append(f"authorizer {name} of {label} is not emulated locally (only Lambda TOKEN and REQUEST "
                         "and Cognito authorizers are): its routes are open")
        if kind == "AWS::Serverless::Api" and "UserPoolArn" in spec and "ValidationExpression" in (
                spec.get("Identity") or {}):
            lines.append(f"property Identity.ValidationExpression of authorizer {name} of {label} is not applied "
                         "locally")
        if kind == "AWS::Serverless::HttpApi" and "JwtConfiguration" not in spec and "FunctionArn" not in spec:
            lines.append(f"authorizer {name} of {label} is not emulated locally (only JWT and Lambda authorizers "
                         "are): its routes are open")
    return lines


def _unquoted(value):
    """A SAM Cors value ("'GET,POST'", quoted for API Gateway's mapping) as the header's text."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def _rest_cors(cors):
    """SAM's Cors of a REST API (a quoted origin, or AllowOrigin/AllowMethods/...) as its OPTIONS answer."""
    if not cors:
        return None
    if isinstance(cors, str):
        cors = {"AllowOrigin": cors}
    out = {"Access-Control-Allow-Origin": _unquoted(cors.get("AllowOrigin", "'*'"))}
    for prop, header in (("AllowMethods", "Access-Control-Allow-Methods"),
                         ("AllowHeaders", "Access-Control-Allow-Headers"), ("MaxAge", "Access-Control-Max-Age")):
        if prop in cors:
            out[header] = _unquoted(cors[prop])
    if _true(cors.get("AllowCredentials", False)):
        out["Access-Control-Allow-Credentials"] = "true"
    return out


def _http_cors(config):
    """An HTTP API's CorsConfiguration (true: everything allowed) as {AllowOrigins: [...], ...}."""
    if config is True or config == "true":
        return {"AllowOrigins": ["*"], "AllowMethods": ["*"], "AllowHeaders": ["*"]}
    return dict(config) if isinstance(config, dict) else None


def _identity_source(text):
    """("header"|"query", name) of an HTTP API identity source, $request.header.X / $request.querystring.X."""
    where, _dot, name = str(text).removeprefix("$request.").partition(".")
    return ("query" if where == "querystring" else "header", name)


def _true(value):
    """A resolved boolean property (YAML true, or "true"/"false" text from a parameter)."""
    return value.lower() != "false" if isinstance(value, str) else bool(value)


def _filters(criteria, where):
    """The compiled FilterCriteria of an event source mapping; TemplateError naming it when Lambda would refuse."""
    try:
        return compile_filters(criteria)
    except FilterError as exc:
        raise TemplateError(f"{where}: {exc}") from None


def _int_or_none(value):
    """A resolved number property (a !Ref to a Number parameter resolves to its text); None when absent."""
    return None if value is None or value is NO_VALUE else int(value)


def _unzipped(archive):
    """The folder holding a CodeUri .zip's files (Lambda runs the archive's contents), extracted under the cache's
    unzipped/ once per content: an archive that changes gets a new folder."""
    digest = hashlib.sha1(archive.read_bytes()).hexdigest()[:16]
    folder = UNZIPPED_DIR / f"{archive.stem}-{digest}"
    if not folder.is_dir():
        UNZIPPED_DIR.mkdir(parents=True, exist_ok=True)
        partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(partial)
        try:
            partial.rename(folder)
        except OSError:       # another run extracted it first
            shutil.rmtree(partial, ignore_errors=True)
    return folder.resolve()


def _float_or_none(value):
    """A resolved number property, or None when absent."""
    return None if value is None or value is NO_VALUE else float(value)


def _versioned(resource):
    """True when a bucket declares VersioningConfiguration Status Enabled."""
    config = (resource.get("Properties") or {}).get("VersioningConfiguration") or {}
    return config.get("Status") == "Enabled"


def _json_text(value):
    """A target's Input as JSON text (a template may write it as YAML)."""
    return value if value is None or isinstance(value, str) else json.dumps(value)


def _bus_name(value):
    """An event bus named by name or ARN."""
    return (value or "default").rsplit("/", 1)[-1]
