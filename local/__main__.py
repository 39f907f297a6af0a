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
            if name == "SecretKey":
                saved[name] = Fernet.generate_key().decode()
            elif name.endswith("Jwt"):   # a provider's token: a real JWT, as the emulator checks its form
                from local.emulators.provider import issue_token
                saved[name] = issue_token(secrets.token_bytes(32))
            else:
                saved[name] = secrets.token_urlsafe(18)
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
    return parser.parse_args(argv)


def main(argv=None):
    """Command line entry point."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)-5s %(name)s: %(message)s")
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
        defaults = {name: spec.get("Default") for name, spec in declared.items() if spec.get("Default")}
        emulators = emu.start_all(parameters=dict(defaults, **params))
    cloud = Cloud(args.template, params, stack_name=args.stack_name, fixed_ports=True, moto_port=args.moto_port)
    try:
        cloud.start()
    except (TemplateError, OSError) as exc:
        print(f"error: cannot start the local cloud: {exc}", file=sys.stderr)
        return 2
    print("\nThe platform is running:")
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
    cloud.stop()
    for em in emulators:
        em.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
