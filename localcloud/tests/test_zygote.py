"""Warm starts (localcloud/zygote.py): from the second cold start on, an execution environment is forked from a
zygote that imported the function's site packages once, and looks to the function like a fresh process."""
import sys

import pytest

from localcloud import zygote
from localcloud.model import InvocationError

pytestmark = pytest.mark.timeout(120)

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  ProbeFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      CodeUri: probe/
      Handler: probe.main
      Timeout: 10
      Environment:
        Variables:
          LABEL: probe
"""

PROBE = """\
import os
import sys

PRELOADED = "chalice" in sys.modules     # a fresh process has not imported it yet; a forked one has
import chalice  # noqa: E402  (the function's requirement, from its site folder)


def main(event, context):
    if event.get("exit"):
        os._exit(event["exit"])
    return {"pid": os.getpid(), "sid": os.getsid(0), "cwd": os.getcwd(), "label": os.environ.get("LABEL"),
            "zygote_vars": sorted(k for k in os.environ if k.startswith("LOCAL_ZYGOTE")), "path": sys.path,
            "preloaded": PRELOADED, "chalice": chalice.__file__, "argv": sys.argv}
"""


@pytest.fixture
def probe(start_cloud, tmp_path):
    code = tmp_path / "probe"
    code.mkdir()
    (code / "requirements.txt").write_text("chalice==1.34.0\n")     # the same set as app/: installed once
    (code / "probe.py").write_text(PROBE)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    cloud = start_cloud(template=tmp_path / "template.yaml", functions=["ProbeFunction"])
    return cloud, cloud.runtime.pools["ProbeFunction"], code


def test_a_later_cold_start_is_forked_with_the_packages_imported_and_looks_fresh(probe):
    cloud, pool, code = probe
    first = cloud.invoke("ProbeFunction", {})
    pool.close()            # its environment ends: the next invocation is a cold start
    second = cloud.invoke("ProbeFunction", {})
    forked = pool.idle[0].proc
    assert isinstance(forked, zygote.Forked) and second["preloaded"]
    assert second["pid"] == forked.pid != first["pid"] and second["sid"] == second["pid"]   # its own session
    assert second["cwd"] == first["cwd"] == str(code) and second["label"] == "probe" and second["zygote_vars"] == []
    assert second["path"] == first["path"] and second["chalice"] == first["chalice"]
    assert second["argv"] == first["argv"]


def test_a_forked_environment_s_exit_status_and_its_kill_are_reported_as_a_process_s(probe):
    cloud, pool, _code = probe
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


def test_a_package_that_starts_a_thread_on_import_gets_no_zygote(tmp_path):
    (tmp_path / "threaded.py").write_text("import threading, time\n"
                                          "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n")
    with pytest.raises(zygote.ZygoteError, match="thread"):
        zygote.Zygote(sys.executable, ["threaded"], [str(tmp_path)], {})
    (tmp_path / "quiet.py").write_text("VALUE = 1\n")
    calm = zygote.Zygote(sys.executable, ["quiet"], [str(tmp_path)], {})
    assert calm.alive
    calm.close()
    assert calm.proc.returncode == 0     # it ends when its socket closes
