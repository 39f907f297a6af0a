"""`make run`: the platform on this machine, run by localcloud with what only this project knows.

`python -m tools.run_local run|invoke|generate-event [options]` is `localcloud ... --plugin tools.run_local`:
this module is the plugin (localcloud/localcloud/__main__.py says what a plugin offers). It gives localcloud
- the forms of the generated secrets: SecretKey a Fernet key, a provider's token (…Jwt) a real JWT, as the
  emulator checks its form;
- DatabaseUrl / MysqlUrl from DATABASE_URL / MYSQL_URL (the Docker path sets them), before any -p;
- the emulators of the external APIs (emulators/), each started only while its parameter keeps its local
  default: a parameter pointed at a real endpoint leaves that endpoint's port alone.
"""
import os
import sys
from pathlib import Path

from localcloud.__main__ import main as localcloud_main

PLUGIN = "tools.run_local"
TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
ENVIRONMENT = (("DATABASE_URL", "DatabaseUrl"), ("MYSQL_URL", "MysqlUrl"))


def secret(name, spec):
    """A generated NoEcho parameter's value, in the form the products expect; None: a random token will do."""
    if name == "SecretKey":
        from cryptography.fernet import Fernet
        return Fernet.generate_key().decode()
    if name.endswith("Jwt"):
        import secrets
        from emulators.provider import issue_token
        return issue_token(secrets.token_bytes(32))
    return None


def parameters(declared):
    """The database URLs of the environment, for the templates that declare them."""
    return {param: os.environ[env] for env, param in ENVIRONMENT if os.environ.get(env) and param in declared}


def services(host, parameters, template):
    """The external APIs' emulators this template's parameters still point at."""
    import emulators
    return emulators.start_all(host, parameters=parameters, template=template)


def main(argv=None):
    """localcloud with this module as its plugin: `run` by default."""
    argv = list(sys.argv[1:] if argv is None else argv) or ["run"]
    if argv[0] in ("run", "invoke"):
        argv[1:1] = ["--plugin", PLUGIN] + ([] if "--template" in argv else ["--template", str(TEMPLATE)])
    return localcloud_main(argv)


if __name__ == "__main__":
    sys.exit(main())
