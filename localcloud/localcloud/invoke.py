"""`localcloud invoke FUNCTION [--event FILE|-]`: run one function once through the local
runtime (same isolation, environment and timeout as `localcloud run`), print its result; the REPORT line
and the function's logs go to stderr. Exit code 1 if the invocation failed.

AWS calls go to the moto endpoint of a running `localcloud run` (AWS_ENDPOINT_URL, or 127.0.0.1:4566 if
something listens there); otherwise an embedded moto is started with the template's resources."""
import json
import logging
import os
import socket
import sys

from .model import InvocationError

log = logging.getLogger("localcloud.invoke")


def add_arguments(sub, add_common):
    """The invoke subcommand."""
    parser = sub.add_parser("invoke", help="run one function once and print its result")
    parser.add_argument("function", help="the function's logical id in the template")
    parser.add_argument("--event", "-e", default=None, help="JSON event file, or - for standard input (default {})")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra environment variable for the function (like sam local invoke --env-vars)")
    add_common(parser)
    return parser


def running_moto(host="127.0.0.1", port=4566):
    """The endpoint of a moto/LocalStack already listening on host:port, or None."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return f"http://{host}:{port}"
    except OSError:
        return None


def read_event(source):
    """The event from a file, standard input (-) or nothing ({})."""
    if source is None:
        return {}
    text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise SystemExit(f"error: the event is not JSON: {exc}")


def main(args, parameters, declared_functions):
    """Invoke args.function once; returns the process exit code."""
    from .cloud import Cloud
    if args.function not in declared_functions:
        print(f"error: the template has no function {args.function}; it has: {', '.join(sorted(declared_functions))}",
              file=sys.stderr)
        return 2
    event = read_event(args.event)
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or running_moto(port=args.moto_port)
    if endpoint:
        log.info("using the AWS endpoint at %s", endpoint)
    env = dict(item.partition("=")[::2] for item in args.env)
    cloud = Cloud(args.template, parameters, stack_name=args.stack_name, aws_endpoint=endpoint, fixed_ports=True,
                  functions=[args.function], serve=False, isolated=not args.shared_venv, env=env)
    try:
        cloud.start()
        result = cloud.invoke(args.function, event)
    except InvocationError as exc:
        print(json.dumps({"errorType": exc.error_type, "errorMessage": str(exc),
                          "stackTrace": exc.trace.splitlines()}, indent=2, ensure_ascii=False))
        return 1
    finally:
        cloud.stop()
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0
