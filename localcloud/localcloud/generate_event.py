"""`localcloud generate-event KIND [options]`: print the event AWS would send a function, built
by the same code the local gateways, SQS poller, scheduler and asynchronous sources use (events.py,
async_sources.py)."""
import json
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import quote_plus

from . import events

KINDS = ("sqs", "schedule", "apigw", "ws-connect", "ws-message", "sns", "s3", "eventbridge", "dynamodb")


def add_arguments(sub):
    """The generate-event subcommand and its per-kind options."""
    parser = sub.add_parser("generate-event", help="print an AWS event for `invoke --event -`")
    kinds = parser.add_subparsers(dest="kind", required=True)
    common = {"--region": {"default": "us-east-1"}, "--account": {"default": events.ACCOUNT}}

    sqs = kinds.add_parser("sqs", help="an SQS event source batch")
    sqs.add_argument("--body", action="append", help="a message body (repeat for several records)")
    sqs.add_argument("--queue", default="local-queue", help="queue name (for eventSourceARN)")
    sqs.add_argument("--receive-count", type=int, default=1, help="ApproximateReceiveCount")
    sqs.add_argument("--attribute", action="append", default=[], metavar="NAME=VALUE", help="a message attribute")

    schedule = kinds.add_parser("schedule", help="an EventBridge Scheduled Event")
    schedule.add_argument("--rule", default="local-schedule", help="rule name (for resources[])")

    apigw = kinds.add_parser("apigw", help="an API Gateway proxy event (REST payload 1.0, or 2.0 with --v2)")
    apigw.add_argument("--method", default="GET")
    apigw.add_argument("--path", default="/", help="the request path, e.g. /letters/42")
    apigw.add_argument("--resource", help="the route's template, e.g. /letters/{id} (default: the path)")
    apigw.add_argument("--path-param", action="append", default=[], metavar="NAME=VALUE")
    apigw.add_argument("--query", default="", help="query string, e.g. 'a=1&b=2'")
    apigw.add_argument("--header", action="append", default=[], metavar="'Name: value'")
    apigw.add_argument("--body", default="")
    apigw.add_argument("--stage", default="prod")
    apigw.add_argument("--v2", action="store_true", help="HTTP API payload 2.0")

    for name, what in (("ws-connect", "a WebSocket $connect event"), ("ws-message", "a WebSocket message event")):
        ws = kinds.add_parser(name, help=what)
        ws.add_argument("--connection-id", default=None)
        ws.add_argument("--stage", default="prod")
        if name == "ws-connect":
            ws.add_argument("--query", default="", help="the connect URL's query string, e.g. 'token=abc'")
            ws.add_argument("--header", action="append", default=[], metavar="'Name: value'")
        else:
            ws.add_argument("--body", default='{"action": "subscribe"}')
            ws.add_argument("--route", default="$default", help="the route key selected for the body")
    sns = kinds.add_parser("sns", help="an SNS notification")
    sns.add_argument("--message", default='{"hello": "world"}')
    sns.add_argument("--subject", default=None)
    sns.add_argument("--topic", default="local-topic", help="topic name (for TopicArn)")
    sns.add_argument("--attribute", action="append", default=[], metavar="NAME=VALUE", help="a message attribute")

    s3 = kinds.add_parser("s3", help="an S3 bucket notification")
    s3.add_argument("--bucket", default="local-bucket")
    s3.add_argument("--key", default="uploads/file.txt")
    s3.add_argument("--event-name", default="ObjectCreated:Put", help="e.g. ObjectCreated:Put, ObjectRemoved:Delete")
    s3.add_argument("--size", type=int, default=0)

    bridge = kinds.add_parser("eventbridge", help="an EventBridge event (as a rule delivers it)")
    bridge.add_argument("--source", default="local.app")
    bridge.add_argument("--detail-type", default="Something Happened")
    bridge.add_argument("--detail", default="{}", help="the detail, JSON")
    table = kinds.add_parser("dynamodb", help="a DynamoDB stream record (as a Type: DynamoDB event gets it)")
    table.add_argument("--table", default="local-table")
    table.add_argument("--event-name", default="INSERT", choices=("INSERT", "MODIFY", "REMOVE"))
    table.add_argument("--keys", default='{"id": "1"}', help="the item's key, plain JSON")
    table.add_argument("--new-image", default=None, help="the item after, plain JSON (default: the keys)")
    table.add_argument("--old-image", default=None, help="the item before, plain JSON")
    for p in (sqs, schedule, apigw, sns, s3, bridge, table,
              *[kinds.choices[k] for k in ("ws-connect", "ws-message")]):
        for flag, opts in common.items():
            p.add_argument(flag, **opts)
    return parser


def _pairs(items, sep):
    out = []
    for item in items:
        name, found, value = item.partition(sep)
        if not found:
            raise SystemExit(f"error: expected NAME{sep}VALUE, got {item!r}")
        out.append((name.strip(), value.strip()))
    return out


def build(args):
    """The event for parsed arguments."""
    if args.kind == "sqs":
        arn = f"arn:aws:sqs:{args.region}:{args.account}:{args.queue}"
        attributes = dict(_pairs(args.attribute, "="))
        bodies = args.body or ['{"hello": "world"}']
        return {"Records": [events.sqs_record(events.received_message(b, args.receive_count, attributes), arn,
                                              args.region) for b in bodies]}
    if args.kind == "schedule":
        arn = f"arn:aws:events:{args.region}:{args.account}:rule/{args.rule}"
        return events.scheduled_event(arn, datetime.now(timezone.utc), args.account, args.region)
    if args.kind == "apigw":
        headers = _pairs(args.header, ":")
        params = dict(_pairs(args.path_param, "="))
        body = args.body.encode()
        if args.v2:
            route_key = f"{args.method} {args.resource or args.path}"
            return events.http_event_v2(args.method, args.path, args.query, headers, body, route_key, params,
                                        stage=args.stage)
        return events.http_event_v1(args.method, args.path, args.query, headers, body, args.resource or args.path,
                                    params, stage=args.stage)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if args.kind == "sns":
        from .async_sources import sns_event
        topic = f"arn:aws:sns:{args.region}:{args.account}:{args.topic}"
        envelope = {"MessageId": str(uuid.uuid4()), "TopicArn": topic, "Message": args.message, "Timestamp": now,
                    "Subject": args.subject, "MessageAttributes": {
                        name: {"Type": "String", "Value": value} for name, value in _pairs(args.attribute, "=")}}
        return sns_event(envelope, f"{topic}:{uuid.uuid4()}")
    if args.kind == "s3":
        return {"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": args.region, "eventTime": now,
            "eventName": args.event_name, "s3": {
                "s3SchemaVersion": "1.0", "configurationId": "local",
                "bucket": {"name": args.bucket, "arn": f"arn:aws:s3:::{args.bucket}"},
                "object": {"key": quote_plus(args.key), "size": args.size}}}]}
    if args.kind == "eventbridge":
        try:
            detail = json.loads(args.detail)
        except ValueError as exc:
            raise SystemExit(f"error: --detail is not JSON: {exc}")
        return {"version": "0", "id": str(uuid.uuid4()), "detail-type": args.detail_type, "source": args.source,
                "account": args.account, "time": now[:19] + "Z", "region": args.region, "resources": [],
                "detail": detail}
    if args.kind == "dynamodb":
        return {"Records": [_stream_record(args)]}
    connection_id = args.connection_id or events.aws_id()
    if args.kind == "ws-connect":
        context = events.ws_request_context("$connect", "CONNECT", connection_id, time.time(), args.stage)
        path = f"/{args.stage}" + (f"?{args.query}" if args.query else "")
        return events.ws_connect_event(context, _pairs(args.header, ":"), path)
    context = events.ws_request_context(args.route, "MESSAGE", connection_id, time.time(), args.stage)
    return events.ws_message_event(context, args.body, False, events.aws_id())


def _stream_record(args):
    """One stream record of NEW_AND_OLD_IMAGES, the images given as plain JSON written as DynamoDB JSON."""
    from decimal import Decimal

    from boto3.dynamodb.types import TypeSerializer
    serializer = TypeSerializer()

    def image(text, what):
        try:
            item = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise SystemExit(f"error: {what} is not JSON: {exc}")
        return {k: serializer.serialize(v) for k, v in item.items()}
    keys = image(args.keys, "--keys")
    data = {"ApproximateCreationDateTime": int(time.time()), "Keys": keys, "SequenceNumber": "1" + "0" * 20,
            "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if args.event_name != "REMOVE":
        data["NewImage"] = image(args.new_image, "--new-image") if args.new_image else dict(keys)
    if args.old_image or args.event_name != "INSERT":
        data["OldImage"] = image(args.old_image, "--old-image") if args.old_image else dict(keys)
    table = f"arn:aws:dynamodb:{args.region}:{args.account}:table/{args.table}"
    return {"eventID": uuid.uuid4().hex, "eventName": args.event_name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": args.region, "dynamodb": data,
            "eventSourceARN": f"{table}/stream/{now_label()}"}


def now_label():
    """A stream label as DynamoDB writes one (the stream's creation time)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def main(args):
    """Print the event as JSON."""
    print(json.dumps(build(args), indent=2, ensure_ascii=False))
    return 0
