"""Warm starts (localcloud/zygote.py): from the second cold start of an interpreter on, an execution environment is
forked from a zygote that imported the standard library once, and looks to the function like a fresh process."""
import sys

import pytest

from localcloud import runtime, zygote
from localcloud.model import InvocationError

pytestmark = pytest.mark.timeout(120)

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Timeout: 10
Resources:
  ProbeFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: probe/
      Handler: probe.main
      Environment:
        Variables:
          LABEL: probe
          TZ: Europe/Moscow
  ShadowFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: shadow/
      Handler: probe.main
"""

# Before its own imports it records what is already there: a fresh process has imported neither the standard
# modules it is about to import nor the runtime's boto3; a forked one has the standard ones only.
PROBE = """\
import os
import sys
import time

PRELOADED = {name: name in sys.modules for name in ("xml.dom.minidom", "colorsys", "boto3")}
import xml.dom.minidom  # noqa: E402
import colorsys  # noqa: E402
import boto3  # noqa: E402  (a site package: the runtime's, never preloaded)


def main(event, context):
    if event.get("exit"):
        os._exit(event["exit"])
    return {"pid": os.getpid(), "sid": os.getsid(0), "cwd": os.getcwd(), "label": os.environ.get("LABEL"),
            "zygote_vars": sorted(k for k in os.environ if k.startswith("LOCAL_ZYGOTE")), "path": sys.path,
            "preloaded": PRELOADED, "boto3": boto3.__file__, "colorsys": colorsys.__file__, "argv": sys.argv,
            "tz": time.tzname[0], "minidom": xml.dom.minidom.__name__}
"""


@pytest.fixture
def probe(start_cloud, tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "ZYGOTES", runtime.Zygotes())     # this test's zygote, learned from its starts
    for name in ("probe", "shadow"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "probe.py").write_text(PROBE)
    (tmp_path / "shadow" / "colorsys.py").write_text("OWN = True\n")   # its own module named like a standard one
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    cloud = start_cloud(template=tmp_path / "template.yaml", functions=["ProbeFunction", "ShadowFunction"])
    yield cloud, cloud.runtime.pools["ProbeFunction"], tmp_path
    runtime.ZYGOTES.close()


def test_a_later_cold_start_is_forked_with_the_standard_library_imported_and_looks_fresh(probe):
    cloud, pool, folder = probe
    first = cloud.invoke("ProbeFunction", {})
    assert not isinstance(pool.idle[0].proc, zygote.Forked)
    assert first["preloaded"] == {"xml.dom.minidom": False, "colorsys": False, "boto3": False}
    pool.close()            # its environment ends: the next invocation is a cold start
    second = cloud.invoke("ProbeFunction", {})
    forked = pool.idle[0].proc
    assert isinstance(forked, zygote.Forked)
    assert second["preloaded"] == {"xml.dom.minidom": True, "colorsys": True, "boto3": False}
    assert second["pid"] == forked.pid != first["pid"] and second["sid"] == second["pid"]   # its own session
    assert second["cwd"] == first["cwd"] == str(folder / "probe") and second["label"] == "probe"
    assert second["zygote_vars"] == [] and second["tz"] == first["tz"] == "MSK"
    assert second["path"] == first["path"] and second["boto3"] == first["boto3"] and second["argv"] == first["argv"]


def test_a_function_with_a_module_named_like_a_preloaded_one_starts_fresh_and_imports_its_own(probe):
    cloud, pool, folder = probe
    cloud.invoke("ProbeFunction", {})       # learns colorsys among the standard modules
    pool.close()
    assert isinstance(cloud.invoke("ProbeFunction", {}) and pool.idle[0].proc, zygote.Forked)
    shadow = cloud.invoke("ShadowFunction", {})
    assert not isinstance(cloud.runtime.pools["ShadowFunction"].idle[0].proc, zygote.Forked)
    assert shadow["colorsys"] == str(folder / "shadow" / "colorsys.py") and not shadow["preloaded"]["colorsys"]


def test_a_forked_environment_s_exit_status_and_its_kill_are_reported_as_a_process_s(probe):
    cloud, pool, _folder = probe
    cloud.invoke("ProbeFunction", {})
    pool.close()
    with pytest.raises(InvocationError, match="exit status 3") as died:
        cloud.invoke("ProbeFunction", {"exit": 3})
    assert died.value.error_type == "Runtime.ExitError"
    cloud.invoke("ProbeFunction", {})
    worker = pool.idle[0]
    assert isinstance(worker.proc, zygote.Forked) and worker.proc.poll() is None
    worker.kill()
    assert worker.proc.returncode == -9 and not worker.alive()


def test_a_module_that_starts_a_thread_on_import_gets_no_zygote(tmp_path):
    (tmp_path / "threaded.py").write_text("import threading, time\n"
                                          "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n")
    with pytest.raises(zygote.ZygoteError, match="thread"):
        zygote.Zygote(sys.executable, ["threaded"], {}, folders=[str(tmp_path)])
    (tmp_path / "quiet.py").write_text("VALUE = 1\n")
    calm = zygote.Zygote(sys.executable, ["quiet"], {}, folders=[str(tmp_path)])
    assert calm.alive
    calm.close()
    assert calm.proc.returncode == 0     # it ended by itself once its socket closed


def test_only_standard_modules_are_reported_and_a_failed_zygote_is_not_tried_again(tmp_path, monkeypatch):
    from localcloud import worker
    reported = worker._standard_modules()
    assert {"json", "os", "threading"} <= set(reported) and "__main__" not in reported
    assert not {name for name in reported if name.split(".")[0] in ("localcloud", "pytest", "_pytest", "boto3")}
    zygotes = runtime.Zygotes()
    assert zygotes.fork(sys.executable, {}, str(tmp_path), []) is None     # nothing learned yet
    zygotes.learn(sys.executable, {"standard": ["json"]})
    assert zygotes._learned == {sys.executable: {"json"}}

    def refused(*args, **kwargs):
        raise zygote.ZygoteError("refused")
    monkeypatch.setattr(runtime, "Zygote", refused)
    assert zygotes.fork(sys.executable, {}, str(tmp_path), []) is None
    monkeypatch.undo()
    assert zygotes.fork(sys.executable, {}, str(tmp_path), []) is None and not zygotes._running
