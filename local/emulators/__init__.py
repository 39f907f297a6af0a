"""Emulators of the external APIs we cannot reach from here. Emulators, never product code.

Each listed emulator is started by `make run` on the port that the template's default base-URL
parameter points at.
"""
import importlib
import logging

log = logging.getLogger("local.emulators")

# (name, module, class, port): the port matches the template parameter's default URL.
EMULATORS = [
    ("chatapp", "local.emulators.chatapp", "ChatAppEmulator", 4001),
]


def start_all(host="127.0.0.1"):
    """Start every emulator; returns the started ones (each has .name, .url, .stop())."""
    started = []
    for name, module_name, class_name, port in EMULATORS:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            log.warning("emulator %s not available: %s", name, exc)
            continue
        emulator = cls(host=host, port=port)
        emulator.start()
        emulator.name = name
        started.append(emulator)
    return started
