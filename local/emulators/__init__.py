"""Emulators of the external APIs we cannot reach from here. Emulators, never product code.

Each listed emulator is started by `make run` on the port that the template's default base-URL
parameter points at: the template is the one place an emulator's address is written.
"""
import importlib
import logging
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger("local.emulators")

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# (name, module, class, the template parameter whose default URL is the emulator's address)
EMULATORS = [
    ("chatapp", "local.emulators.chatapp", "ChatAppEmulator", "ChatAppBaseUrl"),
]


def default_port(parameter, template=TEMPLATE):
    """The port of the URL a template parameter defaults to (where the functions expect the emulator)."""
    from local.template import load
    return urlparse(load(str(template))["Parameters"][parameter]["Default"]).port


def start_all(host="127.0.0.1"):
    """Start every emulator; returns the started ones (each has .name, .url, .stop())."""
    started = []
    for name, module_name, class_name, parameter in EMULATORS:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            log.warning("emulator %s not available: %s", name, exc)
            continue
        emulator = cls(host=host, port=default_port(parameter))
        emulator.start()
        emulator.name = name
        started.append(emulator)
    return started
