"""mail_import page benchmark: the messages page in Chromium stays flat as the mailbox grows.

Usage: .venv/bin/python bench/mail_import_page_bench.py [--sizes 1000,10000,100000] [--repeats 3]
Small: --sizes 200,2000. BENCH_TARGETS=heap_ratio=0.01 makes it fail (bench/_gate.py).

A local cloud (the web and WebSocket functions, moto) serves one account whose messages are generated with
SQL in the bench database, growing to each size in turn. At each size the page is opened in headless Chromium
(/usr/bin/chromium) and measured: table rows in the DOM, DOM nodes, the JS heap after a forced garbage
collection, and the time the page's own addRows() takes to render an update of 50 new rows (median of 20
updates, layout included). The baseline is a second account holding the smallest size, its page measured in the
same run at every size, in turns with the growing one (after a warm-up, --repeats each; medians). Targets
(TARGETS below), at the largest size against the baseline: the same rows in the table, DOM nodes <= 1.2x,
JS heap <= 1.5x, update time <= 2x (flat = about 1x).
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

import requests
from _gate import Target, Targets, alternate, median

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common" / "python")]

PG_URL = os.environ.get("MAIL_IMPORT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/platform_bench")
SECRET_KEY = "YmVuY2gtb25seS1rZXktbm90LWEtc2VjcmV0LTEyMzQ="
FUNCTIONS = ["MailImportWebFunction", "MailImportWsFunction"]
TARGETS = Targets(
    Target("rows_ratio", "table rows, largest mailbox / baseline (smallest)", "<=", 1.0, "x"),
    Target("nodes_ratio", "DOM nodes, largest mailbox / baseline", "<=", 1.2, "x"),
    Target("heap_ratio", "JS heap after GC, largest mailbox / baseline", "<=", 1.5, "x"),
    Target("update_ratio", "update of 50 rows (median of 20), largest mailbox / baseline", "<=", 2.0, "x"),
)
UPDATE = """(start) => {
  const rows = [];
  for (let i = 0; i < 50; i++) rows.push({id: start + i, uid: start + i, folder: "INBOX", uidvalidity: 1,
    message_id: `<bench-${start + i}@example.ru>`, subject: `Новое письмо ${start + i}`, sent_at: null,
    received_at: null, sender: "Иван <ivan@example.ru>", to: ["olga@example.ru"], cc: [], text: "Текст письма",
    size: 2048, gone_at: null, has_html: false, attachments: []});
  const started = performance.now();
  addRows(rows, true);
  document.body.offsetHeight;            // layout, as the browser does before painting
  return performance.now() - started;
}"""


def grow(account_id, have, want):
    import psycopg2
    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("""
            INSERT INTO mail_import.messages (account_id, folder, uidvalidity, uid, message_id, subject, sent_at,
                received_at, sender, recipients, text, size)
            SELECT %s, 'INBOX', 1, n, 'page-bench-' || %s || '-' || n, 'Письмо №' || n,
                   timestamptz '2020-01-01' + n * interval '1 minute',
                   timestamptz '2020-01-01' + n * interval '1 minute',
                   'Иван Петров <ivan@example.ru>', '{"to": ["olga@example.ru"], "cc": []}',
                   repeat('Текст письма с обычными словами. ', 20), 4096
            FROM generate_series(%s, %s) n
        """, (account_id, account_id, have + 1, want))
    conn.close()


def measure(browser, url):
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#messages tbody tr")
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    times = [page.evaluate(UPDATE, 10_000_000 + n * 50) for n in range(20)]
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    rows = page.evaluate("document.querySelectorAll('#messages tbody tr').length")
    context.close()
    return {"rows": rows, "nodes": metrics.get("Nodes", 0), "heap_mb": metrics.get("JSHeapUsedSize", 0) / 1e6,
            "update_ms": statistics.median(times)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=3, help="page openings per account and size")
    args = parser.parse_args(argv)
    print(TARGETS.describe())
    sizes = [int(s) for s in args.sizes.split(",")]
    from infra import migrate
    from localcloud.cloud import Cloud, start_moto
    from playwright.sync_api import sync_playwright
    migrate.migrate_postgres(PG_URL)
    moto, endpoint = start_moto()
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1")
    cloud = Cloud(str(ROOT / "template.yaml"), {"DatabaseUrl": PG_URL, "SecretKey": SECRET_KEY,
                                                "ImapAllowedHosts": "127.0.0.1"},
                  aws_endpoint=endpoint, functions=FUNCTIONS).start()
    try:
        api = cloud.api_url("MailImportApi")
        # An account whose server refuses connections: the page's own import fails at once, the rows are ours.

        def account():
            made = requests.post(f"{api}/api/accounts", timeout=30, json={
                "provider": "custom", "host": "127.0.0.1", "port": "9", "login": "page-bench", "password": "x"}).json()
            return made["id"], f"{api}/accounts/{made['id']}?token={made['token']}"
        account_id, url = account()
        base_id, base_url = account()
        grow(base_id, 0, sizes[0])
        results, have = {}, 0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                for size in sizes:
                    grow(account_id, have, size)
                    have = size
                    results[size] = alternate(args.repeats, {"ours": lambda: measure(browser, url),
                                                             "baseline": lambda: measure(browser, base_url)})
                    for side, label in (("ours", f"{size:>8,} messages"), ("baseline", f"{sizes[0]:>8,} (baseline)")):
                        r = {key: median(run[key] for run in results[size][side]) for key in results[size][side][0]}
                        print(f"{label}: {r['rows']} rows in the table, {r['nodes']:,.0f} DOM nodes, "
                              f"JS heap {r['heap_mb']:.1f} MB, update of 50 rows {r['update_ms']:.1f} ms", flush=True)
            finally:
                browser.close()
        last = results[sizes[-1]]
        for name, key in (("rows_ratio", "rows"), ("nodes_ratio", "nodes"), ("heap_ratio", "heap_mb"),
                          ("update_ratio", "update_ms")):
            TARGETS.ratio(name, [r[key] for r in last["ours"]], [r[key] for r in last["baseline"]],
                          labels=(f"{sizes[-1]:,} messages", f"{sizes[0]:,} messages"), unit=key.partition("_")[2])
    finally:
        cloud.stop()
        moto.stop()
    return TARGETS.exit_code()


if __name__ == "__main__":
    sys.exit(main())
