"""Where localcloud keeps what it writes, outside its own code (it may be installed read-only):

- a run's state (generated parameter values, the saved AWS state of each stack) beside the template, in
  `.localcloud/` (as `sam` keeps `.aws-sam/` there), or in $LOCALCLOUD_STATE;
- what any run can reuse (the installed requirement sets of isolated functions, InlineCode written out as
  files) in $LOCALCLOUD_CACHE, else $XDG_CACHE_HOME/localcloud, else ~/.cache/localcloud.
"""
import os
from pathlib import Path


def state_dir(template):
    """The state folder of the runs of a template (a file, or a folder holding template.yaml)."""
    if os.environ.get("LOCALCLOUD_STATE"):
        return Path(os.environ["LOCALCLOUD_STATE"])
    template = Path(template).resolve()
    return (template if template.is_dir() else template.parent) / ".localcloud"


def cache_dir():
    """The folder of what every run may reuse."""
    if os.environ.get("LOCALCLOUD_CACHE"):
        return Path(os.environ["LOCALCLOUD_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "localcloud"
