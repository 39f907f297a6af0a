"""Emulators of the external APIs we cannot reach from here. Emulators, never product code.

Each listed emulator is started by `make run` on the port that the template's default base-URL
parameter points at.
"""
import importlib
import logging
from urllib.parse import urlparse

log = logging.getLogger("local.emulators")

# (name, module, class, port): the port matches the template parameter's default URL. The port may
# instead name the template parameter holding the emulator's URL (its one place), and PARAMETER_ARGS
# hands template parameters (generated secrets) to an emulator's constructor.
EMULATORS = [
    ("chatapp", "local.emulators.chatapp", "ChatAppEmulator", 4001),
    ("provider", "local.emulators.provider", "ProviderEmulator", "NotificationsProviderBaseUrl"),
]
PARAMETER_ARGS = {"provider": {"token": "NotificationsProviderJwt"}}


def start_all(host="127.0.0.1", parameters=None):
    """Start every emulator; returns the started ones (each has .name, .url, .stop()). `parameters`: the
    stack's parameter values (defaults included), for emulators configured from them."""
    parameters = parameters or {}
    started = []
    for name, module_name, class_name, port in EMULATORS:
        kwargs = {arg: parameters[param] for arg, param in PARAMETER_ARGS.get(name, {}).items() if param in parameters}
        if isinstance(port, str):
            if not parameters.get(port):
                log.warning("emulator %s: parameter %s not given", name, port)
                continue
            port = urlparse(parameters[port]).port
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
