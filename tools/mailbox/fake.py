"""Fill the mailbox tables with realistic fake users and letters, fast (PostgreSQL COPY in batches).

Usage (from the repo root):
  python -m tools.mailbox.fake --users 1000 --letters 100000 [--max-recipients 3] [--seed 1]
         [--pg-url URL] [--show 5]
Prints the API keys of the first --show new users (keys are stored only as digests).
"""
import argparse
import io
import random
import re
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import psycopg2
from faker import Faker
from psycopg2.extras import execute_values

from common import db
from common.passwords import api_key_digest, new_api_key
from common.settings import SettingError
from functions.mailbox.chalicelib import queries

BATCH_LETTERS = 20_000
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "corp.example")
HISTORY = timedelta(days=365)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_NOT_ADDRESS = re.compile(r"[^a-z0-9]+")


@dataclass
class Result:
    users: list = field(default_factory=list)      # [(address, api_key)] of the mailboxes created
    letters: int = 0
    copies: int = 0


class _Text:
    """Pools of faker text, drawn from per letter: calling faker a million times would take minutes."""

    def __init__(self, fake, rng):
        self.rng = rng
        self.subjects = [fake.sentence(nb_words=rng.randint(2, 8)).rstrip(".") for _ in range(2000)]
        self.paragraphs = [fake.paragraph(nb_sentences=rng.randint(1, 5)) for _ in range(3000)]
        self.openers = ["Hi", "Hello", "Dear", "Hey", "Good morning"]
        self.closers = ["Best", "Thanks", "Cheers", "Regards", "See you"]

    def subject(self):
        subject = self.rng.choice(self.subjects)
        return ("Re: " + subject) if self.rng.random() < 0.2 else subject

    def body(self, sender_name, recipient_name):
        paragraphs = self.rng.sample(self.paragraphs, self.rng.randint(1, 3))
        return (f"{self.rng.choice(self.openers)} {recipient_name},\n\n" + "\n\n".join(paragraphs)
                + f"\n\n{self.rng.choice(self.closers)},\n{sender_name}")


def create_users(cur, count, fake, rng):
    """Insert `count` mailboxes with unique realistic addresses; returns [(id, address, first_name, key)]."""
    rows, people = [], {}
    tag = secrets.token_hex(3)      # not from the seeded rng: a re-run with the same seed still adds users
    for number in range(count):
        first, last = fake.first_name(), fake.last_name()
        local = _NOT_ADDRESS.sub("", first.lower()) + "." + _NOT_ADDRESS.sub("", last.lower())
        # The number and a per-run tag keep addresses unique within a run and across runs.
        address = f"{local}.{tag}{number}@{rng.choice(DOMAINS)}"
        key = new_api_key()
        people[address] = (first, key)
        rows.append((address, api_key_digest(key)))
    created = execute_values(cur, queries.INSERT_MAILBOXES_RETURNING, rows, page_size=5000, fetch=True)
    return [(mailbox_id, address, people[address][0], people[address][1]) for mailbox_id, address in created]


def existing_users(cur):
    """[(id, address, first_name, None)] of every mailbox, for adding letters without new users."""
    cur.execute(queries.ALL_MAILBOXES)
    return [(mailbox_id, address, address.split(".")[0].capitalize(), None) for mailbox_id, address in cur]


def add_letters(conn, users, count, max_recipients, text, rng, progress=None):
    """COPY `count` letters between `users` in batches (one commit each); returns (letters, copies)."""
    if len(users) < 2:
        raise ValueError("need at least two mailboxes to exchange letters")
    now = datetime.now(timezone.utc)
    history_us = int(HISTORY / timedelta(microseconds=1))
    done = copies = 0
    while done < count:
        size = min(BATCH_LETTERS, count - done)
        with conn.cursor() as cur:
            cur.execute(queries.RESERVE_LETTER_IDS, (size,))
            ids = [row[0] for row in cur.fetchall()]
            letters_tsv, copies_tsv, unread = io.StringIO(), io.StringIO(), Counter()
            for letter_id in ids:
                sender = rng.choice(users)
                recipients = _recipients(users, sender, rng.randint(1, max_recipients), rng)
                age_us = rng.randrange(history_us)
                created = (now - timedelta(microseconds=age_us)).isoformat()
                body = text.body(sender[2], recipients[0][2])
                letters_tsv.write(f"{letter_id}\t{sender[0]}\t{{{','.join(r[1] for r in recipients)}}}\t"
                                  f"{text.subject().translate(_COPY_ESCAPES)}\t{body.translate(_COPY_ESCAPES)}\t"
                                  f"{created}\n")
                copies_tsv.write(f"{sender[0]}\t{letter_id}\tsent\tt\t{created}\n")
                # Older letters are more likely to have been read.
                read_chance = 0.95 if age_us > history_us // 50 else 0.4
                for recipient in recipients:
                    read = "t" if rng.random() < read_chance else "f"
                    unread[recipient[0]] += read == "f"
                    copies_tsv.write(f"{recipient[0]}\t{letter_id}\tinbox\t{read}\t{created}\n")
                copies += 1 + len(recipients)
            letters_tsv.seek(0)
            copies_tsv.seek(0)
            cur.copy_expert(queries.COPY_LETTERS, letters_tsv)
            cur.copy_expert(queries.COPY_COPIES, copies_tsv)
            # Sorted, like every counter update, so that a concurrent sender can't deadlock with us.
            counters = sorted((mailbox_id, "inbox", count) for mailbox_id, count in unread.items() if count)
            execute_values(cur, queries.ADD_UNREAD, counters, page_size=10_000)
        conn.commit()
        done += size
        if progress:
            progress(done, count)
    return done, copies


def generate(url, users=100, letters=1000, max_recipients=3, seed=None, progress=None):
    """Create `users` mailboxes (0: use the existing ones) and `letters` letters between them."""
    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(rng.randrange(2 ** 32))
    result = Result()
    conn = db.pg_connect(url)
    try:
        with conn.cursor() as cur:
            created = create_users(cur, users, fake, rng) if users else []
        conn.commit()
        result.users = [(address, key) for _, address, _, key in created]
        if letters:
            if not users:
                with conn.cursor() as cur:
                    created = existing_users(cur)
            result.letters, result.copies = add_letters(conn, created, letters, max_recipients,
                                                        _Text(fake, rng), rng, progress)
        conn.autocommit = True
        with conn.cursor() as cur:
            # Fresh statistics for the planner, and a visibility map for index-only unread counts.
            cur.execute(queries.VACUUM_ANALYZE)
    finally:
        conn.close()
    return result


def _recipients(users, sender, count, rng):
    chosen = {}
    while len(chosen) < count:
        user = rng.choice(users)
        if user[0] != sender[0]:
            chosen[user[0]] = user
    return list(chosen.values())


def main(argv=None):
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.mailbox.fake", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100, help="new mailboxes (0: use existing ones)")
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--max-recipients", type=int, default=3)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--show", type=int, default=5, help="print the API keys of this many new users")
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    if args.users < 0 or args.letters < 0 or args.max_recipients < 1:
        parser.error("--users and --letters must be >= 0, --max-recipients >= 1")
    if args.letters and args.users == 1:
        parser.error("letters need at least two users")
    started = time.monotonic()

    def progress(done, total):
        print(f"  {done}/{total} letters ({time.monotonic() - started:.1f}s)", file=sys.stderr)

    try:
        result = generate(args.pg_url, args.users, args.letters, args.max_recipients, args.seed, progress)
    except psycopg2.OperationalError as exc:
        print(f"error: cannot use PostgreSQL: {str(exc).strip()}", file=sys.stderr)
        return 2
    except psycopg2.errors.UndefinedTable:
        print("error: the mailbox schema is missing; run: python -m infra.migrate --only postgres", file=sys.stderr)
        return 2
    except SettingError as exc:
        print(f"error: {exc} (or pass --pg-url)", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {len(result.users)} mailboxes, {result.letters} letters ({result.copies} copies) "
          f"in {time.monotonic() - started:.1f}s")
    for address, key in result.users[:args.show]:
        print(f"  {address}  api key: {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
