"""The project's flake8 options: the one place they are set, shown in the UI, used by every check."""
# Keyword form for flake8's Python API; `command_line()` gives the same options for the `flake8` command.
FLAKE8_OPTIONS = {
    "max_line_length": 100,
    "max_complexity": 12,
    "extend_ignore": ["W503"],
}


def command_line(options=FLAKE8_OPTIONS):
    """The flake8 arguments equal to the options (config files ignored, as in the checker)."""
    args = ["--isolated"]
    for key, value in options.items():
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        args.append(f"{flag}={','.join(value) if isinstance(value, list) else value}")
    return args


def shown(options=FLAKE8_OPTIONS):
    """(flag, value) pairs for the settings panel."""
    return [(arg.split("=")[0], arg.split("=")[1]) for arg in command_line(options)[1:]]
