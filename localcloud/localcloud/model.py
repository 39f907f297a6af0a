"""What the local cloud runs, read out of template.yaml with every intrinsic already resolved."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional


class InvocationError(Exception):
    """A handler raised, timed out or its worker died; carries the remote traceback text."""

    def __init__(self, message: str, error_type: str = "Error", trace: str = ""):
        super().__init__(message)
        self.error_type = error_type
        self.trace = trace


# invoke(function_id, event, trigger) -> handler's return value, or raises InvocationError.
Invoke = Callable[[str, dict, str], Any]


@dataclass
class Function:
    logical_id: str
    handler: str                      # "module.attr", e.g. "app.app"
    code_dir: Path                    # absolute CodeUri
    layer_dirs: list                  # absolute dirs put on sys.path (a layer's python/)
    environment: dict                 # Globals + Function variables, resolved to strings
    timeout: int = 3
    memory: int = 128
    reserved_concurrency: Optional[int] = None
    runtime: str = ""                 # the template's Runtime, e.g. python3.12 (interpreters.py)


@dataclass
class Queue:
    logical_id: str
    name: str
    url: str = ""                     # filled in once the queue exists
    arn: str = ""
    attributes: dict = field(default_factory=dict)   # VisibilityTimeout, RedrivePolicy, ...
    dlq_logical_id: Optional[str] = None
    max_receive_count: Optional[int] = None


@dataclass
class SqsMapping:
    function_id: str
    queue_logical_id: str
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    batching_window: int = 0          # MaximumBatchingWindowInSeconds
    report_batch_item_failures: bool = False
    enabled: bool = True
    max_concurrency: int = 1          # ScalingConfig.MaximumConcurrency: batches in flight at once
    filters: list = field(default_factory=list, repr=False)   # FilterCriteria, compiled (filters.py)
    filter_criteria: Optional[dict] = None                     # as the template wrote it


@dataclass
class StreamMapping:
    """A DynamoDB stream or Kinesis event source (Type: DynamoDB / Kinesis, or an AWS::Lambda::EventSourceMapping
    from a table's stream or a Kinesis stream); for Kinesis, table_* name the stream."""
    function_id: str
    name: str                         # the event's name (or the mapping's logical id)
    table_logical_id: str
    table_name: str
    starting_position: str = "LATEST"     # TRIM_HORIZON | LATEST (| AT_TIMESTAMP: Kinesis)
    batch_size: int = 100
    batching_window: int = 0
    report_batch_item_failures: bool = False
    maximum_retry_attempts: int = -1      # -1: until the record expires, as Lambda's default
    enabled: bool = True
    filters: list = field(default_factory=list, repr=False)
    filter_criteria: Optional[dict] = None
    source: str = "dynamodb"              # dynamodb | kinesis
    starting_timestamp: Optional[float] = None    # StartingPositionTimestamp (AT_TIMESTAMP)


@dataclass
class Table:
    logical_id: str
    name: str
    definition: dict                  # CreateTable arguments besides TableName


@dataclass
class SnsSubscription:
    function_id: str
    name: str                         # the event's name (or the AWS::SNS::Subscription's logical id)
    topic_arn: str
    filter_policy: Optional[dict] = None
    filter_policy_scope: str = "MessageAttributes"
    sqs_subscription: bool = False    # SAM's SqsSubscription: through a queue, the function gets SQS events
    batch_size: int = 10


@dataclass
class S3Notification:
    function_id: str
    name: str                         # the event's name in the template
    bucket: str                       # the bucket's name
    events: list                      # ["s3:ObjectCreated:*", ...]
    filter_rules: list = field(default_factory=list)   # [{"Name": "prefix"|"suffix", "Value": ...}]


@dataclass
class EventRule:
    function_id: str
    name: str                         # the event's name (or the AWS::Events::Rule's logical id)
    pattern: dict
    bus: str = "default"
    input: Optional[str] = None       # a target's constant Input (JSON text)
    input_path: Optional[str] = None
    input_transformer: Optional[dict] = None
    enabled: bool = True
    target_kind: str = "function"     # function | sqs | sns: a rule's target that is no function (function_id None)
    target: Optional[str] = None      # the queue's URL or the topic's ARN
    target_label: str = ""            # "queue Inbox", "topic Alerts"
    message_group: Optional[str] = None   # SqsParameters.MessageGroupId (a FIFO queue target)


@dataclass
class Schedule:
    function_id: str
    name: str                         # the event's logical name in the template
    expression: str                   # "rate(5 minutes)" or "cron(0/5 * * * ? *)"
    rule_arn: str
    enabled: bool = True
    input: Optional[str] = None       # the Input property (a JSON string) if given


@dataclass
class Route:
    path: str                         # template path, e.g. /letters/{id}
    method: str                       # GET, POST, ... or ANY
    function_id: str
    authorizer: Optional[str] = None  # the name of the API's authorizer that guards it (None: open)
    scopes: list = field(default_factory=list)      # AuthorizationScopes (JWT authorizers)
    api_key_required: bool = False    # REST: Auth.ApiKeyRequired (the API's, or the event's own)


@dataclass
class Authorizer:
    """A REST API Lambda authorizer (TOKEN or REQUEST) or Cognito user pool authorizer (COGNITO), an HTTP API
    Lambda authorizer (LAMBDA) or JWT authorizer."""
    name: str
    kind: str                         # TOKEN | REQUEST | LAMBDA | JWT | COGNITO (a REST API's user pools)
    function_id: Optional[str] = None     # the Lambda authorizer's function
    identity: list = field(default_factory=list)   # [("header"|"query", name)] that must be present
    validation: Optional[str] = None      # TOKEN: Identity.ValidationExpression
    issuer: str = ""                      # JWT
    audience: list = field(default_factory=list)
    payload_version: str = "2.0"          # LAMBDA: AuthorizerPayloadFormatVersion
    simple_responses: bool = False        # LAMBDA: EnableSimpleResponses ({"isAuthorized": ...})
    ttl: int = 0                          # Lambda authorizers: Identity.ReauthorizeEvery, seconds a result is cached
    issuers: list = field(default_factory=list)     # COGNITO: the issuer URL of each UserPoolArn


@dataclass
class RestApi:
    logical_id: str
    stage: str
    routes: list                      # [Route]
    local_port: int = 0               # Metadata.LocalPort, 0 = any free port
    binary_media_types: list = field(default_factory=list)
    authorizers: dict = field(default_factory=dict)     # name -> Authorizer
    cors: Optional[dict] = None       # REST: header -> value of SAM's OPTIONS answers; HTTP: CorsConfiguration
    preflight_authorizer: Optional[str] = None           # REST: AddDefaultAuthorizerToCorsPreflight


@dataclass
class WsApi:
    logical_id: str
    name: str
    route_selection_expression: str   # "$request.body.action"
    stage: str
    routes: dict                      # route key ($connect, $default, "subscribe") -> function_id
    local_port: int = 0


@dataclass
class Bucket:
    logical_id: str
    name: str
    versioned: bool = False


@dataclass
class Alarm:
    """An AWS::CloudWatch::Alarm on one metric (console/alarms.py evaluates it from what runs here)."""
    logical_id: str
    description: str
    namespace: str                    # "AWS/SQS", "AWS/Lambda"; "" for a metric-math alarm
    metric: str
    dimensions: dict                  # Name -> Value, resolved (a queue's or a function's name)
    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str                   # GreaterThanThreshold, ...
