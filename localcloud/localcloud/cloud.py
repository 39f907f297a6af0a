"""The local cloud: runs template.yaml on this machine as AWS would.

moto (or any endpoint in AWS_ENDPOINT_URL, e.g. LocalStack) answers the AWS APIs; the template's
queues, buckets, secrets and identities are created there; functions run in worker processes;
HTTP and WebSocket gateways, SQS pollers and schedules invoke them.
"""
import functools
import json
import logging
import os
import socket
import threading
import uuid

from . import api_keys, clients, template as tpl, user_pools
from .http_gateway import HttpGateway, public_host
from .runtime import DEFAULT_IDLE_TIMEOUT, Runtime

log = logging.getLogger("localcloud.cloud")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_moto(host="127.0.0.1", port=0):
    """An in-process moto server; returns (server, endpoint URL)."""
    from . import moto_patches
    from .moto_server import MotoServer
    moto_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call drowns the useful logs
    server = MotoServer(host, port).start()
    port = server.get_host_and_port()[1]    # port 0: bound by the server itself, so no one can take it first
    return server, f"http://{public_host(host)}:{port}"


class Cloud:
    """One running stack. start() brings everything up; stop() takes it down."""

    def __init__(self, template="template.yaml", parameters=None, stack_name=None, aws_endpoint=None,
                 host="127.0.0.1", fixed_ports=False, functions=None, rate_scale=1.0, env=None,
                 region="us-east-1", moto_port=0, queue_attributes=None, isolated=None, idle_timeout=None,
                 serve=True, watch=False, watch_interval=1.0, state_dir=None):
        self.template_path = template
        self.parameters = dict(parameters or {})
        self.stack_name = stack_name or f"t{uuid.uuid4().hex[:8]}"
        self.aws_endpoint = aws_endpoint or os.environ.get("AWS_ENDPOINT_URL")
        self.host = host
        self.fixed_ports = fixed_ports
        self.only = set(functions) if functions else None
        self.rate_scale = rate_scale
        self.extra_env = dict(env or {})
        self.region = region
        self.moto_port = moto_port
        # Local-only knob for tests (like rate_scale): attributes that override the template's per queue,
        # set before any poller starts so no receive can use the template's value.
        self.queue_attributes = dict(queue_attributes or {})
        # Where the embedded moto's state is kept across restarts (None: in memory only, as in tests).
        self.state_dir = state_dir
        self.keeper = None
        # Functions run isolated like Lambda unless LOCAL_SHARED_VENV=1 (faster, but hides missing requirements).
        self.isolated = isolated if isolated is not None else os.environ.get("LOCAL_SHARED_VENV", "") in ("", "0")
        self.idle_timeout = idle_timeout or float(os.environ.get("LOCAL_IDLE_TIMEOUT") or DEFAULT_IDLE_TIMEOUT)
        self.serve = serve            # False: only the functions (localcloud invoke), no gateways or pollers
        self.watch = watch            # hot reload of code, layers and template
        self.watch_interval = watch_interval
        self.watcher = None
        self._held_ports = []    # gateway ports, bound until stop() (see _port)
        self.moto = None
        self.stack = None
        self.runtime = None
        self.http = {}
        self.ws = {}
        self.pollers = []
        self.scheduler = None
        self.scheduler_schedules = None
        self.lambda_api = None
        self.sns_deliveries = []     # (SnsSubscription, its queue's name)
        self.event_lines = []        # S3 notifications and EventBridge rules, for describe()
        self.stream_arns = {}        # table name -> its stream's ARN (moto names it at creation)

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self):
        """Create the resources and start runtime, gateways, pollers and schedules."""
        self.template_path = str(tpl.locate(self.template_path))
        if not self.aws_endpoint:
            self.moto, self.aws_endpoint = start_moto(self.host, self.moto_port)
            log.info("moto server at %s", self.aws_endpoint)
            if self.state_dir:
                from . import persistence
                self.state_dir = persistence.stack_dir(self.state_dir, self.stack_name, self.template_path)
                loaded = persistence.restore(self.state_dir)
                if loaded:
                    log.info("local state restored from %s: %s", self.state_dir, loaded)
        creds = self._credentials()
        self.clients = clients.Clients(
            clients.session(self.region, creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"]), self.aws_endpoint)
        account = self.clients["sts"].get_caller_identity()["Account"]
        raw = tpl.with_globals(tpl.load(self.template_path))
        ports = {logical: (api_id, self._port(port), kind)
                 for logical, (api_id, port, kind) in tpl.api_ids(raw).items()}
        api_urls = {api_id: f"http://{public_host(self.host)}:{port}" for api_id, port, _k in ports.values()}
        self._stack_args = (api_urls, account)
        self.stack = self.load_stack()
        self.not_emulated = self.stack.not_emulated()
        for line in self.not_emulated:
            log.warning(line)
        self._create_resources()
        if self.moto and self.state_dir:
            from . import persistence
            refilled = persistence.refill_queues()
            if refilled:
                log.info("%d queued messages put back", refilled)
            self.keeper = persistence.Keeper(self.state_dir).start()
        functions = {k: v for k, v in self.stack.functions().items() if self._runs(k)}
        from .interpreters import warn_mismatches
        self.runtime_warnings = warn_mismatches(functions, self.isolated)
        # boto3's lambda client in a function reaches the local Lambda API (lambda_api.py), not moto's Lambda.
        from .lambda_api import LambdaApi
        self.lambda_api = LambdaApi(self._function_names, self.host)
        # A Management API endpoint a function builds from its event (https) reaches the local gateway (worker.py).
        ws_gateways = {api_id: api_urls[api_id] for api_id, _port, kind in ports.values() if kind == "ws"}
        base_env = dict(self._credentials(), AWS_ENDPOINT_URL=self.aws_endpoint,
                        AWS_ENDPOINT_URL_LAMBDA=self.lambda_api.url, LOCAL_WEBSOCKET_APIS=json.dumps(ws_gateways))
        base_env.update(self.extra_env)
        self.runtime = Runtime(functions, base_env, self.region, isolated=self.isolated,
                               idle_timeout=self.idle_timeout)
        self.lambda_api.start(self.runtime.invoke)
        if not self.serve:
            return self
        self._start_gateways(ports)
        self._start_event_sources()
        if self.watch:
            from .reload import Watcher
            self.watcher = Watcher(self, interval=self.watch_interval)
            self.watcher.start()
        return self

    def load_stack(self):
        """The template resolved as this cloud runs it (same ports, queue URLs and account)."""
        api_urls, account = self._stack_args
        stack = tpl.Stack(self.template_path, self.parameters, self.stack_name, self.region, api_urls,
                          queue_url=lambda name: f"{self.aws_endpoint}/{account}/{name}", account=account,
                          stream_arns=self.stream_arns)
        if self.stack:      # a template read again (hot reload): the pools made at start, found by name
            user_pools.create(stack, self.clients["cognito-idp"])
        return stack

    def stop(self):
        """Stop everything this cloud started."""
        if self.watcher:
            self.watcher.stop()
        # At once, not one after another: each poller returns only after its current receive (up to a second),
        # and a stack has a poller per queue.
        stopping = [threading.Thread(target=poller.stop, name="stop-poller", daemon=True) for poller in self.pollers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        if self.scheduler:
            self.scheduler.stop()
        if self.scheduler_schedules:
            self.scheduler_schedules.stop()
        for gateway in list(self.http.values()) + list(self.ws.values()):
            gateway.stop()
        for hold in self._held_ports:
            hold.close()
        if self.lambda_api:
            self.lambda_api.stop()
        if self.runtime:
            self.runtime.close()
        if self.keeper:
            self.keeper.stop()
        if self.moto:
            self.moto.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- queries ---------------------------------------------------------------------------------
    def api_url(self, logical_id):
        """Base URL of a REST/HTTP API."""
        return self.http[logical_id].url

    def ws_url(self, logical_id):
        """ws:// URL of a WebSocket API, with its stage."""
        return self.ws[logical_id].url

    def physical_id(self, logical_id):
        """What !Ref gives for a resource: queue URL, bucket name, function name, API id."""
        return self.stack.resolver.refs[logical_id]

    def invoke(self, function_id, event):
        """Invoke a function directly (as `aws lambda invoke` would)."""
        return self.runtime.invoke(function_id, event, "invoke")

    def describe(self):
        """Lines naming every endpoint, for people."""
        lines = [f"AWS endpoint (moto/LocalStack): {self.aws_endpoint}"]
        if self.lambda_api:
            lines.append(f"Lambda Invoke API: {self.lambda_api.url}")
        for logical, gw in self.http.items():
            lines.append(f"HTTP API {logical}: {gw.url}/")
        for logical, gw in self.ws.items():
            lines.append(f"WebSocket API {logical}: {gw.url}  (management API: {gw.management_endpoint})")
        for mapping in self.stack.sqs_mappings():
            if self._runs(mapping.function_id):
                lines.append(f"SQS {mapping.queue_logical_id} -> {mapping.function_id}")
        for sub, _queue in self.sns_deliveries:
            lines.append(f"SNS {sub.topic_arn.rsplit(':', 1)[-1]} -> {sub.function_id}")
        lines += self.event_lines
        for sched in self.stack.schedules():
            if self._runs(sched.function_id):
                lines.append(f"Schedule {sched.expression} -> {sched.function_id}")
        for name, value in self.stack.outputs().items():
            lines.append(f"{name}: {value}")
        return lines

    # -- internals -------------------------------------------------------------------------------
    def _credentials(self):
        return {k: os.environ.get(k) or v for k, v in CREDENTIALS.items()}

    def _port(self, template_port):
        if self.fixed_ports and template_port:
            return template_port
        # The stack's URLs need the port before its gateway listens. Held (bound, not listening, SO_REUSEADDR) until
        # stop(): the gateway, which sets SO_REUSEADDR too, binds it beside the holder, and nobody else can take it
        # in between, as they could a port free_port() had let go.
        hold = socket.socket()
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hold.bind((self.host, 0))
        self._held_ports.append(hold)
        return hold.getsockname()[1]

    def _function_names(self):
        """{function name: logical id} of the functions running here (the Lambda API's names)."""
        return {self.stack.resolver.refs.get(fid, fid): fid for fid in self.runtime.pools}

    def _runs(self, function_id):
        return self.only is None or function_id in self.only

    def _create_resources(self):
        sqs, s3 = self.clients["sqs"], self.clients["s3"]
        for queue in self.stack.queues():
            attributes = dict(queue.attributes, **self.queue_attributes.get(queue.logical_id, {}))
            url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
            if queue.logical_id in self.queue_attributes:  # an existing queue keeps its old attributes otherwise
                sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
            self.stack.resolver.refs[queue.logical_id] = url
            self.stack.resolver.attrs[queue.logical_id]["QueueUrl"] = url
            log.info("queue %s: %s", queue.logical_id, url)
        self._create_topics()
        self._create_tables()
        self._create_kinesis_streams()
        api_keys.create(self.stack, self.clients["apigateway"])
        user_pools.create(self.stack, self.clients["cognito-idp"])
        for bus in self.stack.event_buses():
            events = self.clients["events"]
            try:
                events.create_event_bus(Name=bus)
            except events.exceptions.ResourceAlreadyExistsException:
                pass
        for bucket in self.stack.buckets():
            try:
                s3.create_bucket(Bucket=bucket.name)
            except s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            if bucket.versioned:
                s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
            log.info("bucket %s: %s", bucket.logical_id, bucket.name)
        sm = self.clients["secretsmanager"]
        for name, value, generate in self.stack.secrets():
            if value is None:       # generated once, as CloudFormation does: a saved or existing one is kept
                try:
                    sm.create_secret(Name=name, SecretString=generated_secret(sm, generate))
                except sm.exceptions.ResourceExistsException:
                    pass
                continue
            try:
                sm.create_secret(Name=name, SecretString=value)
            except sm.exceptions.ResourceExistsException:
                sm.put_secret_value(SecretId=name, SecretString=value)
        for identity in self.stack.email_identities():
            if "@" in identity:
                self.clients["ses"].verify_email_identity(EmailAddress=identity)
            else:
                self.clients["ses"].verify_domain_identity(Domain=identity)

    def _create_topics(self):
        sns, sqs = self.clients["sns"], self.clients["sqs"]
        for logical, name, attributes in self.stack.topics():
            arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
            self.stack.resolver.refs[logical] = self.stack.resolver.attrs[logical]["TopicArn"] = arn
            log.info("topic %s: %s", logical, arn)
        for topic, queue, raw, policy, scope in self.stack.queue_subscriptions():
            url = self.stack.resolver.refs[queue]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=_subscription_attributes(
                policy, scope, RawMessageDelivery=str(raw).lower()))

    def _create_tables(self):
        dynamodb = self.clients["dynamodb"]
        for table in self.stack.tables():
            try:
                described = dynamodb.create_table(TableName=table.name, **table.definition)["TableDescription"]
            except dynamodb.exceptions.ResourceInUseException:
                described = dynamodb.describe_table(TableName=table.name)["Table"]
            if described.get("LatestStreamArn"):
                self.stream_arns[table.name] = described["LatestStreamArn"]
                self.stack.resolver.attrs[table.logical_id]["StreamArn"] = described["LatestStreamArn"]
            log.info("table %s: %s", table.logical_id, table.name)

    def _create_kinesis_streams(self):
        kinesis = self.clients["kinesis"]
        for logical, name, shards in self.stack.kinesis_streams():
            try:
                kinesis.create_stream(StreamName=name, ShardCount=shards)
            except kinesis.exceptions.ResourceInUseException:
                pass
            log.info("Kinesis stream %s: %s", logical, name)

    def _start_streams(self):
        """DynamoDB stream and Kinesis event sources: a poller per mapping, positioned before start() returns."""
        from .streams import KinesisPoller, StreamPoller
        for mapping in self.stack.stream_mappings() + self.stack.kinesis_mappings():
            if not self._runs(mapping.function_id):
                continue
            if mapping.source == "kinesis":
                poller = KinesisPoller(mapping, self.runtime.invoke, self.clients["kinesis"], region=self.region)
            else:
                poller = StreamPoller(mapping, self.runtime.invoke, self.clients["dynamodb"],
                                      self.clients["dynamodbstreams"], region=self.region)
            poller.start()
            self.pollers.append(poller)
            self.event_lines.append(f"{poller.kind} stream {mapping.table_logical_id} -> {mapping.function_id}")

    def _event_queue(self, function_id, event_name, kind):
        """(name, URL, ARN) of the queue moto delivers one asynchronous event source into."""
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in
                       f"{self.stack_name}-{function_id}-{event_name}")[:76] + f"-{kind}"
        # no redelivery while an invocation runs (a rule's queue or topic target: a send, at once)
        timeout = self.runtime.pools[function_id].fn.timeout if function_id in self.runtime.pools else 0
        sqs = self.clients["sqs"]
        url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(timeout + 30)})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return name, url, arn

    def _deliver(self, function_id, event_name, url, trigger, to_event, invoke=None):
        from .async_sources import QueueDelivery
        delivery = QueueDelivery(function_id, event_name, url, invoke or self.runtime.invoke, self.clients["sqs"],
                                 trigger, to_event)
        delivery.start()
        self.pollers.append(delivery)

    def _start_sns_subscriptions(self):
        """Each SNS event source: a moto subscription into a queue of its own, delivered to the function."""
        from .async_sources import sns_event
        from .model import SqsMapping
        sns, sqs = self.clients["sns"], self.clients["sqs"]
        for sub in self.stack.sns_subscriptions():
            if not self._runs(sub.function_id):
                continue
            name, url, arn = self._event_queue(sub.function_id, sub.name, "sns")
            try:
                attributes = _subscription_attributes(sub.filter_policy, sub.filter_policy_scope)
                sub_arn = sns.subscribe(TopicArn=sub.topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes,
                                        ReturnSubscriptionArn=True)["SubscriptionArn"]
            except sns.exceptions.NotFoundException:
                log.warning("SNS event %s of %s: topic %s does not exist here; nothing will reach it",
                            sub.name, sub.function_id, sub.topic_arn)
                continue
            if sub.sqs_subscription:   # SAM's SqsSubscription: the function reads the queue (SQS events)
                from .sqs_poller import SqsPoller
                mapping = SqsMapping(sub.function_id, f"{sub.function_id}{sub.name}Queue", url, arn,
                                     batch_size=sub.batch_size)
                poller = SqsPoller(mapping, self.runtime.invoke, sqs, region=self.region, ready=self._doorbell(url))
                poller.start()
                self.pollers.append(poller)
            else:
                self._deliver(sub.function_id, sub.name, url, "sns:" + sub.topic_arn.rsplit(":", 1)[-1],
                              lambda envelope, arn=sub_arn: sns_event(envelope, arn))
            self.sns_deliveries.append((sub, name))

    def _doorbell(self, queue_url):
        """The pollers' wait for a receivable message, for a queue of this process's moto server; else None."""
        from . import moto_patches
        if not moto_patches.served_here(queue_url):
            return None
        return functools.partial(moto_patches.wait_until_receivable, queue_url, self.region)

    def _start_s3_notifications(self):
        """S3 events: the bucket's QueueConfigurations (moto applies the event names and prefix/suffix filters)
        into a queue per event source, delivered to the function."""
        from .async_sources import s3_event
        configs = {}
        for n in self.stack.s3_notifications():
            if not self._runs(n.function_id):
                continue
            _name, url, arn = self._event_queue(n.function_id, n.name, "s3")
            config = {"Id": f"{n.function_id}-{n.name}", "QueueArn": arn, "Events": n.events}
            if n.filter_rules:
                config["Filter"] = {"Key": {"FilterRules": n.filter_rules}}
            configs.setdefault(n.bucket, []).append(config)
            self._deliver(n.function_id, n.name, url, "s3:" + n.bucket, s3_event)
            self.event_lines.append(f"S3 {n.bucket} {','.join(n.events)} -> {n.function_id}")
        for bucket, queue_configs in configs.items():
            self.clients["s3"].put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queue_configs})

    def _start_event_rules(self):
        """EventBridge rules: a moto rule (event pattern, input transformer) whose target is a queue per rule,
        delivered to the function, or sent on to the rule's queue or topic target."""
        from .async_sources import eventbridge_event, forward_to
        events = self.clients["events"]
        for rule in self.stack.event_rules():
            if not rule.enabled or (rule.function_id is not None and not self._runs(rule.function_id)):
                continue
            name, url, arn = self._event_queue(rule.function_id or "target", rule.name, "events")
            events.put_rule(Name=name[:64], EventPattern=json.dumps(rule.pattern), EventBusName=rule.bus,
                            State="ENABLED")
            target = {"Id": "local", "Arn": arn}
            if rule.input_transformer:
                target["InputTransformer"] = rule.input_transformer
            events.put_targets(Rule=name[:64], EventBusName=rule.bus, Targets=[target])
            to_event = eventbridge_event(rule.input, rule.input_path, self.stack.account)
            if rule.function_id is None:
                self._deliver(rule.target_label, rule.name, url, "events:" + rule.name, to_event,
                              forward_to(rule, self.clients["sqs"], self.clients["sns"]))
            else:
                self._deliver(rule.function_id, rule.name, url, "events:" + rule.name, to_event)
            self.event_lines.append(f"EventBridge rule {rule.name} (bus {rule.bus}) -> "
                                    f"{rule.function_id or rule.target_label}")

    def _start_gateways(self, ports):
        by_id = {logical: port for logical, (_api, port, _kind) in ports.items()}
        pools = user_pools.UserPools(self.clients["cognito-idp"], self.aws_endpoint)
        for logical, api in self.stack.rest_apis().items():
            api.routes = [r for r in api.routes if self._runs(r.function_id)]
            if not api.routes:
                continue
            keys = api_keys.ApiKeys(self.clients["apigateway"], ports[logical][0], api.stage)
            gateway = HttpGateway(api, self.runtime.invoke, self.host, by_id[logical], self.region, keys, pools)
            gateway.start()
            self.http[logical] = gateway
        ws_apis = self.stack.ws_apis()
        if ws_apis:
            from .ws_gateway import WebSocketGateway
        for logical, api in ws_apis.items():
            api.routes = {k: fn for k, fn in api.routes.items() if self._runs(fn)}
            if not api.routes:
                continue
            gateway = WebSocketGateway(api, self.runtime.invoke, host=self.host, port=by_id[logical],
                                       region=self.region)
            gateway.start()
            self.ws[logical] = gateway

    def _start_event_sources(self):
        mappings = [m for m in self.stack.sqs_mappings() if self._runs(m.function_id) and m.enabled]
        if mappings:
            from .sqs_poller import SqsPoller
        for mapping in mappings:
            poller = SqsPoller(mapping, self.runtime.invoke, self.clients["sqs"], region=self.region,
                               concurrency=mapping.max_concurrency, ready=self._doorbell(mapping.queue_url))
            poller.start()
            self.pollers.append(poller)
        self._start_streams()
        self._start_sns_subscriptions()
        self._start_s3_notifications()
        self._start_event_rules()
        schedules = [s for s in self.stack.schedules() if self._runs(s.function_id)]
        if schedules:
            from .scheduler import Scheduler
            self.scheduler = Scheduler(schedules, self.runtime.invoke, region=self.region,
                                       account=self.stack.account, rate_scale=self.rate_scale)
            self.scheduler.start()
        self._start_scheduler_schedules()

    def _start_scheduler_schedules(self):
        """EventBridge Scheduler schedules the functions create at run time (moto never fires them)."""
        arns = {self.stack.resolver.attrs[fn]["Arn"]: fn for fn in self.runtime.pools if self._runs(fn)}
        if not arns:
            return
        from .scheduler import SchedulerSchedules
        from . import moto_patches
        changes = moto_patches.schedule_changes if moto_patches.served_here(self.aws_endpoint) else None
        self.scheduler_schedules = SchedulerSchedules(self.clients["scheduler"], arns, self.runtime.invoke,
                                                      changes=changes)
        self.scheduler_schedules.start()


def _subscription_attributes(policy, scope, **more):
    """An SNS subscription's attributes: its filter policy (JSON) and scope, if it has one."""
    attributes = dict(more)
    if policy:
        attributes.update(FilterPolicy=json.dumps(policy), FilterPolicyScope=scope)
    return attributes


RANDOM_PASSWORD_OPTIONS = ("PasswordLength", "ExcludeCharacters", "ExcludeNumbers", "ExcludePunctuation",
                           "ExcludeUppercase", "ExcludeLowercase", "IncludeSpace", "RequireEachIncludedType")


def generated_secret(sm, spec):
    """A secret's value as CloudFormation makes it from GenerateSecretString: a random password (the endpoint's
    GetRandomPassword, same options), or, with GenerateStringKey, the SecretStringTemplate's JSON object ({} when
    there is none) with the password under that key."""
    options = {}
    for name in RANDOM_PASSWORD_OPTIONS:
        if name in spec:
            value = spec[name]
            options[name] = int(value) if name == "PasswordLength" else (
                str(value) if name == "ExcludeCharacters" else tpl._true(value))
    password = sm.get_random_password(**options)["RandomPassword"]
    if not spec.get("GenerateStringKey"):
        return password
    document = json.loads(spec.get("SecretStringTemplate") or "{}")
    document[spec["GenerateStringKey"]] = password
    return json.dumps(document)
