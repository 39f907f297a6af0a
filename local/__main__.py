"""`python -m local run`: start the whole platform from template.yaml on this machine.

Starts moto (unless AWS_ENDPOINT_URL names an endpoint, e.g. LocalStack), the emulators of the
external APIs, then every function, gateway, poller and schedule the template declares, and
prints the URLs. Ctrl-C stops everything. Code, layer and template changes are hot-reloaded.

`python -m local invoke FUNCTION [--event FILE|-]` runs one function once (local/invoke.py);
`python -m local generate-event sqs|schedule|apigw|ws-connect|ws-message|sns|s3|eventbridge|dynamodb` prints an
event for it.
"""
import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "local" / ".state"


def generated_secrets(template_params):
    """Values for the NoEcho parameters whose default is empty (keys, passwords, webhook secrets):
    generated once into local/.state/parameters.json (mode 600, git-ignored), never in the repo."""
    import json
    import secrets
    from cryptography.fernet import Fernet
    path = STATE / "parameters.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    for name, spec in template_params.items():
        if spec.get("NoEcho") and spec.get("Default", "") == "" and name not in saved:
            if name == "SecretKey":
                saved[name] = Fernet.generate_key().decode()
            elif name.endswith("Jwt"):   # a provider's token: a real JWT, as the emulator checks its form
                from local.emulators.provider import issue_token
                saved[name] = issue_token(secrets.token_bytes(32))
            else:
                saved[name] = secrets.token_urlsafe(18)
    STATE.mkdir(parents=True, exist_ok=True)
    _write_private(path, json.dumps(saved, indent=2))
    return {k: v for k, v in saved.items() if k in template_params}


def _write_private(path, text):
    """Replace path with text, readable by its owner only from the first byte: a new temporary file created
    0600 (mkstemp: O_CREAT|O_EXCL, mode 0600 whatever the umask), then renamed over it, so no reader ever sees a
    group/world-readable or half-written file."""
    import tempfile
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _common_options(parser):
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--stack-name", default="local")
    parser.add_argument("--parameter", "-p", action="append", default=[], metavar="NAME=VALUE",
                        help="a template parameter; NAME=@FILE reads the value from FILE, so a secret never "
                             "shows in the process list")
    parser.add_argument("--moto-port", type=int, default=4566)
    parser.add_argument("--shared-venv", action="store_true",
                        help="run functions on this venv instead of isolated like Lambda (also LOCAL_SHARED_VENV=1)")


def parse_args(argv):
    from local import generate_event, invoke
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start everything and wait")
    _common_options(run)
    run.add_argument("--no-emulators", action="store_true", help="do not start the external API emulators")
    run.add_argument("--no-reload", action="store_true", help="do not watch code, layers and template for changes")
    run.add_argument("--idle-timeout", type=float, default=None,
                     help="seconds before an idle worker is retired (default 600, or LOCAL_IDLE_TIMEOUT)")
    # Loopback by default; a container binds every interface so its published ports reach the servers.
    run.add_argument("--host", default=os.environ.get("LOCAL_BIND_HOST") or "127.0.0.1",
                     help="address the gateways, emulators and moto bind (default: $LOCAL_BIND_HOST or 127.0.0.1)")
    run.add_argument("--console-port", type=int, default=4000, help="the console's port (0: none)")
    run.add_argument("--console-remote", nargs="?", const="", default=None, metavar="NAME,...",
                     help="serve the console on --host and let other machines act in it too (it is read-only for "
                          "them otherwise); NAMEs are the host names it is opened by, besides 127.0.0.1, "
                          "localhost and [::1] (it refuses any other Host)")
    invoke.add_arguments(sub, _common_options)
    generate_event.add_arguments(sub)
    args = parser.parse_args(argv)
    args.shared_venv = getattr(args, "shared_venv", False) or os.environ.get("LOCAL_SHARED_VENV", "") not in ("", "0")
    return args


def parameters(args, declared):
    """Template parameter values: generated secrets, database URLs from the environment, then -p."""
    params = generated_secrets(declared)
    for item in args.parameter:
        name, _, value = item.partition("=")
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text().strip()
            except OSError as exc:
                raise SystemExit(f"error: cannot read the value of {name} from {value[1:]}: {exc.strerror}")
        params[name] = value
    for env_name, param in (("DATABASE_URL", "DatabaseUrl"), ("MYSQL_URL", "MysqlUrl")):
        if os.environ.get(env_name):
            params.setdefault(param, os.environ[env_name])
    for name in [n for n in params if n not in declared]:
        if name not in ("DatabaseUrl", "MysqlUrl"):
            raise SystemExit(f"error: the template has no parameter {name}")
        params.pop(name)
    return params


def main(argv=None):
    """Command line entry point."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "generate-event":
        from local import generate_event
        return generate_event.main(args)
    from local.logs import JsonFormatter, TerminalFormatter
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if os.environ.get("LOG_FORMAT") == "json" else TerminalFormatter())
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), handlers=[handler])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from local.cloud import Cloud
    from local.template import TemplateError, load
    template = load(args.template)
    declared = template.get("Parameters", {})
    params = parameters(args, declared)
    if args.command == "invoke":
        from local import invoke
        logging.getLogger("local.cloud").setLevel(logging.WARNING)
        functions = [k for k, v in template.get("Resources", {}).items()
                     if v.get("Type") == "AWS::Serverless::Function"]
        return invoke.main(args, params, functions)
    emulators = []
    if not args.no_emulators:
        from local import emulators as emu
        defaults = {name: spec.get("Default") for name, spec in declared.items() if spec.get("Default")}
        emulators = emu.start_all(args.host, parameters=dict(defaults, **params), template=args.template)
    cloud = Cloud(args.template, params, stack_name=args.stack_name, host=args.host, fixed_ports=True,
                  moto_port=args.moto_port, isolated=not args.shared_venv, idle_timeout=args.idle_timeout,
                  watch=not args.no_reload, state_dir=STATE / "moto")
    console = None
    if args.console_port:
        from local.console import Console
        remote = args.console_remote is not None
        console = Console(cloud, host=args.host if remote else "127.0.0.1", port=args.console_port,  # before start:
                          allow_remote=remote, names=(args.console_remote or "").split(","))  # it sees every log
    try:
        cloud.start()
        if console:
            console.start()
    except (TemplateError, OSError) as exc:
        print(f"error: cannot start the local cloud: {exc}", file=sys.stderr)
        cloud.stop()
        return 2
    print("\nThe platform is running:")
    if console:
        print(f"  Console (functions, queues, schedules, WebSockets, mail, logs): {console.url}/")
    for em in emulators:
        print(f"  emulator {em.name}: {em.url}")
    for line in cloud.describe():
        print("  " + line)
    generated = sorted(name for name, spec in declared.items() if spec.get("NoEcho") and not spec.get("Default"))
    if generated:
        print(f"  Generated local secrets (passwords, keys: {', '.join(generated)}): {STATE / 'parameters.json'}")
    print("Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    if console:
        console.stop()
    cloud.stop()
    for em in emulators:
        em.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
