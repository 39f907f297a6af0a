"""code_check benchmark: one checker tick over 1,000 uploaded files against one `flake8` command-line run
over the same files, upload throughput through the API, and the report page of a file with 500 violations.

Usage (from the repo root):
  .venv/bin/python bench/code_check_bench.py [--pg-url URL] [--files 1000] [--repeats 3] [--jobs 2]
Everything runs through the local cloud (its own moto; database default platform_bench, migrated here).
The tick is the scheduled function invoked through the runtime with a batch of all files: it reads every
version from S3, runs flake8 once (through its Python API, `--jobs` processes), stores every violation
and queues the e-mails. The baseline is `python -m flake8 <same options> --jobs=N` on the same bytes
written to disk once. After one warm-up round, tick and CLI alternate (the order rotated each round); medians
are compared. Target (TARGETS below): tick <= 1.2x the CLI, wall time.
Wall time is what the target is about; CPU time (the function's processes, flake8's workers included,
against the CLI's processes) is printed too because it stays meaningful on a machine shared with
other loads. S3/SQS (moto, in this process) are not counted in the tick's CPU, as on AWS.
Small: --files 50 --repeats 3. BENCH_TARGETS=tick_vs_cli=0.01 makes it fail (bench/_gate.py).
"""
import argparse
import base64
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common" / "python"), str(ROOT / "tests" / "code_check")]

import psycopg2  # noqa: E402
import requests  # noqa: E402

from _gate import Target, Targets, alternate, spread  # noqa: E402
from code_check_corpus import corpus  # noqa: E402
from functions.code_check.chalicelib.accounts import tokens, users  # noqa: E402
from functions.code_check.chalicelib.checks import options  # noqa: E402
from infra import migrate  # noqa: E402
from localcloud.cloud import Cloud  # noqa: E402

TARGETS = Targets(
    Target("tick_vs_cli", "one checker tick / one flake8 CLI run on the same files, wall time", "<=", 1.2, "x"),
)
PER_REQUEST = 20
PASSWORD = "bench password 2026"
RESET = """
DELETE FROM code_check.checks c USING code_check.versions v, code_check.files f
WHERE c.version_id = v.id AND v.file_id = f.id AND f.user_id = %s;
UPDATE code_check.versions v SET checked_at = NULL FROM code_check.files f WHERE v.file_id = f.id AND f.user_id = %s;
"""


def scheduled_event():
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-30T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {}}


def make_user(url):
    email = f"bench.{uuid.uuid4().hex[:10]}@bench.example"
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        # Earlier runs' versions must not be in this run's ticks.
        cur.execute("UPDATE code_check.versions SET checked_at = now() WHERE checked_at IS NULL")
        user_id = users.register(cur, email, PASSWORD)
        token, _ = tokens.create(cur, user_id, "bench")
    conn.close()
    return user_id, email, token


def upload_all(base, token, files, concurrency=4):
    """files/s through POST /api/files, PER_REQUEST files per request, `concurrency` clients."""
    chunks = [files[i:i + PER_REQUEST] for i in range(0, len(files), PER_REQUEST)]
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}

    def send(chunk):
        body = {"files": [{"name": name, "content": base64.b64encode(data).decode()} for name, data in chunk]}
        answer = session.post(base + "/api/files", json=body, headers=headers, timeout=120)
        answer.raise_for_status()
        assert all(r["status"] == "new" for r in answer.json()["results"]), answer.text[:300]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, chunks))
    return len(files) / (time.perf_counter() - started)


def write_tree(files):
    folder = tempfile.mkdtemp(prefix="code-check-bench-")
    paths = []
    for index, (name, data) in enumerate(files):
        os.mkdir(os.path.join(folder, str(index)))
        path = os.path.join(folder, str(index), name)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    return paths


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _descendants_cpu(root=None):
    """CPU seconds of every live descendant of this process, with the children they have reaped."""
    root = root or os.getpid()
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in times:
        ancestor = parents.get(pid)
        while ancestor and ancestor != root:
            ancestor = parents.get(ancestor)
        if ancestor == root:
            total += times[pid]
    return total


def cli_run(paths, jobs):
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flake8", *options.command_line(), f"--jobs={jobs}", *paths],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert done.returncode in (0, 1), done.stderr
    return elapsed, _children_cpu() - cpu, len(done.stdout.splitlines())


def tick_run(cloud, url, user_id, expected):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(RESET, (user_id, user_id))
    conn.close()
    cpu = _descendants_cpu()
    started = time.perf_counter()
    result = cloud.invoke("CodeCheckCheckerFunction", scheduled_event())
    elapsed = time.perf_counter() - started
    cpu = _descendants_cpu() - cpu
    assert result["checked"] == expected and result["failed"] == 0, result
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("""SELECT count(*) FROM code_check.violations x JOIN code_check.checks c ON c.id = x.check_id
                       JOIN code_check.versions v ON v.id = c.version_id JOIN code_check.files f ON f.id = v.file_id
                       WHERE f.user_id = %s""", (user_id,))
        violations = cur.fetchone()[0]
    conn.close()
    return elapsed, cpu, violations


def report_page(cloud, base, url, jobs, samples=20):
    """Median ms of the report page (and of the API version) of a file with 500 violations."""
    user_id, email, token = make_user(url)
    data = "".join(f"value_{i}=1\n" for i in range(500)).encode()
    answer = requests.post(base + "/api/files", headers={"Authorization": f"Bearer {token}"}, timeout=60,
                           json={"files": [{"name": "many.py", "content": base64.b64encode(data).decode()}]})
    file_id = answer.json()["results"][0]["file_id"]
    cloud.invoke("CodeCheckCheckerFunction", scheduled_event())
    session = requests.Session()
    login = session.get(base + "/login", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
    session.post(base + "/login", data={"email": email, "password": PASSWORD, "csrf": csrf}, timeout=30)
    page_ms, api_ms = [], []
    for _ in range(samples):
        started = time.perf_counter()
        page = session.get(f"{base}/files/{file_id}", timeout=30)
        page_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        api = requests.get(f"{base}/api/files/{file_id}/versions/1", headers={"Authorization": f"Bearer {token}"},
                           timeout=30)
        api_ms.append((time.perf_counter() - started) * 1000)
    assert page.status_code == 200 and page.text.count('data-line="') == 500, "the page does not show 500 lines"
    assert len(api.json()["violations"]) == 500
    return statistics.median(page_ms), statistics.median(api_ms), len(page.content)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/platform_bench")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print(TARGETS.describe())
    migrate.migrate_postgres(args.pg_url)
    os.environ.update(DATABASE_URL=args.pg_url)
    cloud = Cloud(str(ROOT / "template.yaml"), {"DatabaseUrl": args.pg_url}, rate_scale=100000,
                  functions=["CodeCheckWebFunction", "CodeCheckCheckerFunction"],
                  env={"CODE_CHECK_BATCH_SIZE": str(args.files), "CODE_CHECK_FLAKE8_JOBS": str(args.jobs)}).start()
    try:
        os.environ["AWS_ENDPOINT_URL"] = cloud.aws_endpoint
        base = cloud.api_url("CodeCheckApi")
        files = corpus(args.files, seed=2026)
        lines = sum(data.count(b"\n") for _, data in files)
        sizes = sorted(data.count(b"\n") for _, data in files)
        print(f"corpus: {len(files)} files, {lines:,} lines (min {sizes[0]}, median {sizes[len(sizes) // 2]}, "
              f"max {sizes[-1]}), {sum(len(d) for _, d in files) / 1e6:.1f} MB; load {os.getloadavg()[0]:.1f}",
              flush=True)
        user_id, _, token = make_user(args.pg_url)
        # A warm execution environment (nothing to check yet), as for every tick after the first one.
        cloud.invoke("CodeCheckCheckerFunction", scheduled_event())
        rate = upload_all(base, token, files)
        print(f"upload through the API: {rate:,.0f} files/s ({PER_REQUEST} files per request, 4 clients)", flush=True)
        paths = write_tree(files)
        rounds = alternate(args.repeats, {"cli": lambda: cli_run(paths, args.jobs),
                                          "tick": lambda: tick_run(cloud, args.pg_url, user_id, len(files))})
        cli_times, cli_cpu, cli_founds = zip(*rounds["cli"])
        tick_times, tick_cpu, tick_founds = zip(*rounds["tick"])
        for repeat in range(args.repeats):
            print(f"  repeat {repeat + 1}: flake8 CLI {cli_times[repeat]:.2f} s wall / {cli_cpu[repeat]:.1f} s CPU, "
                  f"tick {tick_times[repeat]:.2f} s wall / {tick_cpu[repeat]:.1f} s CPU", flush=True)
        cli_found, tick_found = cli_founds[-1], tick_founds[-1]
        assert set(cli_founds) == set(tick_founds) == {cli_found}, \
            f"the CLI found {cli_founds} problems, the tick stored {tick_founds}"
        cli_median, tick_median = statistics.median(cli_times), statistics.median(tick_times)
        ratio = tick_median / cli_median
        print(f"compared: `python -m flake8 {' '.join(options.command_line())} --jobs={args.jobs}` on {len(files)} "
              f"files on disk vs one scheduled tick (S3 reads + one flake8 run, --jobs={args.jobs} + {tick_found:,} "
              f"violations stored + {len(files)} e-mails queued)")
        print(f"median flake8 CLI {spread(cli_times)} s, median tick {spread(tick_times)} s: {ratio:.2f}x; "
              f"both found {tick_found:,} problems")
        cpu_ratio = statistics.median(tick_cpu) / statistics.median(cli_cpu)
        print(f"CPU: median flake8 CLI {statistics.median(cli_cpu):.1f} s, "
              f"median tick {statistics.median(tick_cpu):.1f} s: {cpu_ratio:.2f}x")
        page_ms, api_ms, size = report_page(cloud, base, args.pg_url, args.jobs)
        print(f"report page of a file with 500 violations: median {page_ms:.0f} ms ({size / 1024:.0f} KB); "
              f"API version JSON: median {api_ms:.0f} ms")
        TARGETS.ratio("tick_vs_cli", tick_times, cli_times, labels=("tick", "flake8 CLI"))
    finally:
        cloud.stop()
    return TARGETS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
