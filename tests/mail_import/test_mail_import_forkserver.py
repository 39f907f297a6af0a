"""The fetch children's forkserver preloads the engine even when the engine's folder is only on the parent's
sys.path (Lambda's task root, the bench), not on the forkserver's default one."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run from another folder, with no PYTHONPATH: the engine is found only through sys.path entries this process adds
# (as the Lambda runtime and the bench do). A child started through the context proves that the forkserver has
# finished its preload (it serves requests only after it); the forkserver then has psycopg2's C extension mapped
# only if it imported the engine (fetch_child -> common.db -> psycopg2).
SCRIPT = """
import os, sys, time
sys.path[:0] = [{function!r}, {layer!r}]
from chalicelib.engine import fetch_pool
ctx = fetch_pool.context()
child = ctx.Process(target=time.sleep, args=(0,))
child.start()
child.join()
print("PYTHONPATH after:", os.environ.get("PYTHONPATH"))
for name in os.listdir("/proc"):
    if not name.isdigit():
        continue
    try:
        with open(f"/proc/{{name}}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{{name}}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        continue
    if ppid == os.getpid() and b"multiprocessing.forkserver" in cmdline:
        with open(f"/proc/{{name}}/maps") as f:
            print("forkserver", "engine preloaded" if "_psycopg" in f.read() else "engine NOT preloaded")
"""


def test_forkserver_preloads_the_engine_found_through_the_parents_sys_path(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    script = SCRIPT.format(function=str(ROOT / "functions" / "mail_import"),
                           layer=str(ROOT / "layers" / "common" / "python"))
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["PYTHONPATH after: None", "forkserver engine preloaded"], (done.stdout,
                                                                                                   done.stderr)
