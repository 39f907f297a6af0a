"""`localcloud run`: start an AWS SAM template on this machine (`python -m localcloud run` too).

Starts moto (unless AWS_ENDPOINT_URL names an endpoint, e.g. LocalStack), the services of a --plugin, then
every function, gateway, poller and schedule the template declares, and prints the URLs. Ctrl-C stops
everything. Code, layer and template changes are hot-reloaded.

`localcloud invoke FUNCTION [--event FILE|-]` runs one function once (invoke.py);
`localcloud generate-event sqs|schedule|apigw|ws-connect|ws-message|sns|s3|eventbridge|dynamodb` prints an
event for it.

A plugin (`--plugin MODULE`, imported from the current folder too) is how a project adds what only it knows,
without localcloud naming it; each of its functions is optional:
- `secret(name, spec)`: the value to generate for a NoEcho parameter whose default is empty (a key of the
  form its code expects), or None for a random token;
- `parameters(declared)`: values for declared parameters from elsewhere (the environment), before -p;
- `services(host, parameters, template)`: start what the functions call besides AWS (emulators of external
  APIs) and return them, each with .name, .url and .stop(); printed with the URLs, stopped at the end.
"""
import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .paths import state_dir


def generated_secrets(template_params, state, plugins=()):
    """Values for the NoEcho parameters whose default is empty (keys, passwords, webhook secrets):
    generated once into STATE/parameters.json (mode 600), never in the project; a plugin's secret() chooses a
    value's form, a random token otherwise."""
    import json
    import secrets
    path = Path(state) / "parameters.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    for name, spec in template_params.items():
        if spec.get("NoEcho") and spec.get("Default", "") == "" and name not in saved:
            chosen = [value for value in (_hook(p, "secret", name, spec) for p in plugins) if value is not None]
            saved[name] = chosen[0] if chosen else secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, json.dumps(saved, indent=2))
    return {k: v for k, v in saved.items() if k in template_params}


def _hook(plugin, name, *args):
    """plugin.name(*args), or None when the plugin has no such function."""
    function = getattr(plugin, name, None)
    return function(*args) if function else None


def load_plugins(names):
    """The plugin modules named (module paths), importable from the current folder as with `python -m`."""
    if names and os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    plugins = []
    for name in names:
        try:
            plugins.append(importlib.import_module(name))
        except ImportError as exc:
            raise SystemExit(f"error: cannot import the plugin {name}: {exc}")
    return plugins


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
    parser.add_argument("--template", default=".",
                        help="the template file, or a folder with template.yaml or template.yml (default: .)")
    parser.add_argument("--stack-name", default="local")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="a module adding a project's secrets, parameters and services (see the docstring of "
                             "localcloud/__main__.py); repeatable")
    parser.add_argument("--state-dir", default=None,
                        help="where generated parameters and saved AWS state live (default: .localcloud beside the "
                             "template, or $LOCALCLOUD_STATE)")
    parser.add_argument("--parameter", "-p", action="append", default=[], metavar="NAME=VALUE",
                        help="a template parameter; NAME=@FILE reads the value from FILE, so a secret never "
                             "shows in the process list")
    parser.add_argument("--moto-port", type=int, default=4566)
    parser.add_argument("--shared-venv", action="store_true",
                        help="run functions on this venv instead of isolated like Lambda (also LOCAL_SHARED_VENV=1)")


def parse_args(argv):
    from . import generate_event, invoke
    parser = argparse.ArgumentParser(prog="localcloud", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start everything and wait")
    _common_options(run)
    run.add_argument("--no-services", action="store_true", help="do not start the plugins' services")
    run.add_argument("--no-reload", action="store_true", help="do not watch code, layers and template for changes")
    run.add_argument("--idle-timeout", type=float, default=None,
                     help="seconds before an idle worker is retired (default 600, or LOCAL_IDLE_TIMEOUT)")
    # Loopback by default; a container binds every interface so its published ports reach the servers.
    run.add_argument("--host", default=os.environ.get("LOCAL_BIND_HOST") or "127.0.0.1",
                     help="address the gateways, services and moto bind (default: $LOCAL_BIND_HOST or 127.0.0.1)")
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


def parameters(args, declared, plugins=()):
    """Template parameter values: generated secrets, the plugins' parameters, then -p."""
    params = generated_secrets(declared, args.state_dir, plugins)
    for plugin in plugins:
        params.update({k: v for k, v in (_hook(plugin, "parameters", declared) or {}).items() if k in declared})
    for item in args.parameter:
        name, _, value = item.partition("=")
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text().strip()
            except OSError as exc:
                raise SystemExit(f"error: cannot read the value of {name} from {value[1:]}: {exc.strerror}")
        if name not in declared:
            raise SystemExit(f"error: the template has no parameter {name}")
        params[name] = value
    return params


def main(argv=None):
    """Command line entry point."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "generate-event":
        from . import generate_event
        return generate_event.main(args)
    from .logs import JsonFormatter, TerminalFormatter
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if os.environ.get("LOG_FORMAT") == "json" else TerminalFormatter())
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), handlers=[handler])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from .cloud import Cloud
    from .template import TemplateError, load, locate
    try:
        args.template = str(locate(args.template))
        template = load(args.template)
    except TemplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.state_dir = Path(args.state_dir) if args.state_dir else state_dir(args.template)
    plugins = load_plugins(args.plugin)
    declared = template.get("Parameters", {})
    params = parameters(args, declared, plugins)
    if args.command == "invoke":
        from . import invoke
        logging.getLogger("localcloud.cloud").setLevel(logging.WARNING)
        functions = [k for k, v in template.get("Resources", {}).items()
                     if v.get("Type") == "AWS::Serverless::Function"]
        return invoke.main(args, params, functions)
    services = []
    if not args.no_services:
        defaults = {name: spec.get("Default") for name, spec in declared.items() if spec.get("Default")}
        for plugin in plugins:
            services += _hook(plugin, "services", args.host, dict(defaults, **params), args.template) or []
    cloud = Cloud(args.template, params, stack_name=args.stack_name, host=args.host, fixed_ports=True,
                  moto_port=args.moto_port, isolated=not args.shared_venv, idle_timeout=args.idle_timeout,
                  watch=not args.no_reload, state_dir=args.state_dir / "moto")
    console = None
    if args.console_port:
        from .console import Console
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
        for service in services:
            service.stop()
        return 2
    print(f"\nThe stack {args.stack_name} of {args.template} is running:")
    if console:
        print(f"  Console (functions, queues, schedules, WebSockets, mail, logs): {console.url}/")
    for service in services:
        print(f"  {service.name}: {service.url}")
    for line in cloud.describe():
        print("  " + line)
    generated = sorted(name for name, spec in declared.items() if spec.get("NoEcho") and not spec.get("Default"))
    if generated:
        print(f"  Generated local secrets (passwords, keys: {', '.join(generated)}): "
              f"{args.state_dir / 'parameters.json'}")
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
    for service in services:
        service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
