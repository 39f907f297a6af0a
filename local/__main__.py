"""`python -m local run`: start the whole platform from template.yaml on this machine.

Starts moto (unless AWS_ENDPOINT_URL names an endpoint, e.g. LocalStack), the emulators of the
external APIs, then every function, gateway, poller and schedule the template declares, and
prints the URLs. Ctrl-C stops everything.
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
            saved[name] = Fernet.generate_key().decode() if name == "SecretKey" else secrets.token_urlsafe(18)
    STATE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=2))
    path.chmod(0o600)
    return {k: v for k, v in saved.items() if k in template_params}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start everything and wait")
    run.add_argument("--template", default=str(ROOT / "template.yaml"))
    run.add_argument("--stack-name", default="local")
    run.add_argument("--parameter", "-p", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--no-emulators", action="store_true", help="do not start the external API emulators")
    run.add_argument("--moto-port", type=int, default=4566)
    run.add_argument("--console-port", type=int, default=4000, help="the console's port (0: none)")
    run.add_argument("--console-remote", action="store_true",
                     help="let other machines act in the console too (it is read-only for them otherwise)")
    return parser.parse_args(argv)


def main(argv=None):
    """Command line entry point."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from local.logs import JsonFormatter, TerminalFormatter
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if os.environ.get("LOG_FORMAT") == "json" else TerminalFormatter())
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), handlers=[handler])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from local.cloud import Cloud
    from local.template import TemplateError, load
    declared = load(args.template).get("Parameters", {})
    params = generated_secrets(declared)
    for item in args.parameter:
        name, _, value = item.partition("=")
        params[name] = value
    for env_name, param in (("DATABASE_URL", "DatabaseUrl"), ("MYSQL_URL", "MysqlUrl")):
        if os.environ.get(env_name):
            params.setdefault(param, os.environ[env_name])
    for name in [n for n in params if n not in declared]:
        if name not in ("DatabaseUrl", "MysqlUrl"):
            print(f"error: the template has no parameter {name}", file=sys.stderr)
            return 2
        params.pop(name)
    emulators = []
    if not args.no_emulators:
        from local import emulators as emu
        emulators = emu.start_all()
    cloud = Cloud(args.template, params, stack_name=args.stack_name, fixed_ports=True, moto_port=args.moto_port)
    console = None
    if args.console_port:
        from local.console import Console
        console = Console(cloud, port=args.console_port, allow_remote=args.console_remote)  # before start: logs
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
    if any(spec.get("NoEcho") for spec in declared.values()):
        print(f"  Generated local secrets (passwords, keys): {STATE / 'parameters.json'}")
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
