"""Parsing throughput: chalicelib.mime.parser vs email.policy.default on generated messages.

Builds the corpus in memory (tests/mail_import/mail_import_corpus.make_message: 10% with 50-500 KB base64
attachments), checks both parsers agree on subject, sender and attachments of every message,
then times alternating repetitions of each (after a warm-up, the order rotated) and prints msgs/s (medians and
their range). Targets (TARGETS below): every message parsed alike; parse_message at least 5x the messages/s of
policy.default (the decoder's reason to exist).

    .venv/bin/python bench/mail_import_parse_bench.py [--count 10000] [--repeat 3]
Small: --count 500. BENCH_TARGETS=speedup=1000 makes it fail (bench/_gate.py).
"""
import argparse
import email
import email.policy
import statistics
import sys
import time
from pathlib import Path

from _gate import Target, Targets, alternate

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / 'functions' / 'mail_import'), str(ROOT / 'tests' / 'mail_import')]

from chalicelib.mime.parser import parse_message  # noqa: E402
from mail_import_corpus import make_message  # noqa: E402

TARGETS = Targets(
    Target("speedup", "parse time, policy.default / parse_message (same messages)", ">=", 5.0, "x"),
    Target("disagreements", "messages where the two parsers disagree", "<=", 0),
)


def baseline(raw: bytes) -> tuple:
    """What the import did before: policy.default with get_body / iter_attachments / get_content."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body(('plain', 'html'))
    text = body.get_content() if body is not None else ''
    attachments = [(part.get_filename(), part.get_content_type(), part.get_content())
                   for part in msg.iter_attachments()]
    return str(msg['subject'] or ''), str(msg['from'] or ''), text, attachments


def ours(raw: bytes) -> tuple:
    parsed = parse_message(raw)
    return (parsed.subject, parsed.sender, parsed.text,
            [(a.filename, a.content_type, a.content) for a in parsed.attachments])


def build(count: int) -> list:
    return [make_message(i, i % 10 == 0) for i in range(count)]


def check(messages: list) -> int:
    """Number of messages where the parsers disagree (printed with the first few differences)."""
    bad = 0
    for i, raw in enumerate(messages):
        want, got = baseline(raw), ours(raw)
        if want[:2] != got[:2] or want[3] != got[3] or want[2].replace('\r\n', '\n') != got[2]:
            bad += 1
            if bad <= 5:
                print(f'message {i} differs:\n  policy.default {want[:2]} {[a[:2] for a in want[3]]}'
                      f'\n  parse_message  {got[:2]} {[a[:2] for a in got[3]]}')
    return bad


def run(parser, messages: list) -> float:
    start = time.perf_counter()
    for raw in messages:
        parser(raw)
    return time.perf_counter() - start


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    args.add_argument('--count', type=int, default=10_000)
    args.add_argument('--repeat', type=int, default=3)
    options = args.parse_args()
    print(TARGETS.describe())
    messages = build(options.count)
    size = sum(map(len, messages))
    print(f'{len(messages)} messages, {size / 1e6:.0f} MB, {sum(1 for i in range(options.count) if i % 10 == 0)} '
          f'with attachments')
    bad = check(messages)
    print(f'agreement on subject/sender/text/attachments: {len(messages) - bad}/{len(messages)}')
    timings = alternate(options.repeat, {'policy.default': lambda: run(baseline, messages),
                                         'parse_message': lambda: run(ours, messages)})
    rates = {name: len(messages) / statistics.median(times) for name, times in timings.items()}
    for name, rate in rates.items():
        print(f'{name:15} {statistics.median(timings[name]):7.2f} s  {rate:8.0f} msg/s  '
              f'{size / 1e6 / statistics.median(timings[name]):6.0f} MB/s')
    TARGETS.ratio('speedup', timings['policy.default'], timings['parse_message'],
                  labels=('policy.default', 'parse_message'))
    TARGETS.figure('disagreements', bad)
    return TARGETS.exit_code()


if __name__ == '__main__':
    sys.exit(main())
