"""Emulators of the external APIs we cannot reach from here. Emulators, never product code.

Each listed emulator is started by `make run` (tools/run_local.py) on the port that the template's default base-URL
parameter points at: the template is the one place an emulator's address is written.
"""
import importlib
import logging
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger("emulators")

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
# (name, module, class, the template parameter whose URL is the emulator's address). PARAMETER_ARGS hands
# template parameters (generated secrets) to an emulator's constructor.
EMULATORS = [
    ("chatapp", "emulators.chatapp", "ChatAppEmulator", "ChatAppBaseUrl"),
    ("provider", "emulators.provider", "ProviderEmulator", "NotificationsProviderBaseUrl"),
    ("oidc", "emulators.oidc_provider", "OidcProviderEmulator", "NotificationsOidcIssuer"),
]
PARAMETER_ARGS = {"provider": {"token": "NotificationsProviderJwt"},
                  "oidc": {"client_id": "NotificationsOidcClientId", "client_secret": "NotificationsOidcClientSecret"}}


def default_port(parameter, template=TEMPLATE):
    """The port of the URL a template parameter defaults to (where the functions expect the emulator)."""
    from localcloud.template import load
    return urlparse(load(str(template))["Parameters"][parameter]["Default"]).port


def start_all(host="127.0.0.1", parameters=None, template=TEMPLATE):
    """Start every emulator whose parameter still has the template's local default; returns the started ones
    (each has .name, .url, .stop()). `parameters`: the stack's parameter values, for emulators configured from
    them (the template's defaults otherwise). A parameter pointed elsewhere (a real service) is left alone:
    an emulator there would squat on that service's port or fail with "Address already in use"."""
    from localcloud.template import load
    parameters = parameters or {}
    declared = load(str(template)).get("Parameters", {})
    started = []
    for name, module_name, class_name, parameter in EMULATORS:
        if parameter not in declared:   # another template: nothing there calls this API
            continue
        default = declared.get(parameter, {}).get("Default")
        if parameters.get(parameter) not in (None, "", default):
            log.info("emulator %s not started: %s points at %s, not its local default", name, parameter,
                     parameters[parameter])
            continue
        kwargs = {arg: parameters[param] for arg, param in PARAMETER_ARGS.get(name, {}).items() if param in parameters}
        port = urlparse(default).port if default else default_port(parameter, template)
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            log.warning("emulator %s not available: %s", name, exc)
            continue
        emulator = cls(host=host, port=port, **kwargs)
        emulator.start()
        emulator.name = name
        started.append(emulator)
    return started
