"""The connection budget: how many connections the stack can hold at once against each database.

Usage (from the repo root):
  python -m tools.deploy.connection_budget [--template template.yaml] [Name=Value ...]
Name=Value are the parameter overrides you deploy with (e.g. PostgresMaxConnections=400
MailboxConcurrency=50). Prints one line per function and database; exits 1 when a database's sum exceeds
its max_connections parameter or a function that opens a database connection has no bound.

A function opens a connection to a database when its code (CodeUri) calls common.db's pg_* / mysql_*
helpers. What can run of it at once is its ReservedConcurrentExecutions, or else the sum of its SQS
events' ScalingConfig.MaximumConcurrency (any other event, or an SQS event without it, is unbounded).
Each environment holds Metadata.DatabaseConnections connections (1 unless the function declares more).
"""
import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from localcloud.template import NO_VALUE, Stack

DATABASES = {
    # database: (what its code calls, the parameter holding its max_connections)
    "postgresql": (re.compile(r"\bdb\.pg_(?:transaction|connect|run)\b"), "PostgresMaxConnections"),
    "mysql": (re.compile(r"\bdb\.mysql_(?:transaction|connect|run)\b"), "MysqlMaxConnections"),
}


class BudgetError(Exception):
    """The template cannot be budgeted: a function that opens connections has no bound."""


@dataclass
class Row:
    function: str
    database: str
    concurrency: int
    per_environment: int
    bound_by: str

    @property
    def connections(self):
        return self.concurrency * self.per_environment


def databases_of(code_dir):
    """The databases the code under code_dir opens connections to."""
    found = set()
    for path in Path(code_dir).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(name for name, (calls, _param) in DATABASES.items() if calls.search(text))
    return found


def _number(resolver, value):
    value = resolver.resolve(value)
    return None if value is None or value is NO_VALUE else int(value)


def concurrency_of(resolver, logical, props):
    """(what of the function can run at once, what bounds it); BudgetError when nothing does."""
    reserved = _number(resolver, props.get("ReservedConcurrentExecutions"))
    if reserved is not None:
        return reserved, "ReservedConcurrentExecutions"
    events = props.get("Events") or {}
    total = 0
    for name, event in events.items():
        limit = (event.get("Properties") or {}).get("ScalingConfig", {}).get("MaximumConcurrency")
        if event.get("Type") != "SQS" or limit is None:
            raise BudgetError(f"{logical}: event {name} ({event.get('Type')}) is unbounded - give the function "
                              "a ReservedConcurrentExecutions (or its SQS event a ScalingConfig.MaximumConcurrency)")
        total += _number(resolver, limit)
    if not events:
        raise BudgetError(f"{logical}: no ReservedConcurrentExecutions and no event to bound it")
    return total, "SQS MaximumConcurrency"


def budget(template="template.yaml", parameters=None):
    """(rows, {database: (sum of connections, max_connections)}) for the template with these parameters."""
    stack = Stack(template, parameters or {})
    rows = []
    for logical, res in stack.resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties", {})
        databases = databases_of(stack.root / props.get("CodeUri", "."))
        if not databases:
            continue
        concurrency, bound_by = concurrency_of(stack.resolver, logical, props)
        per_env = int((res.get("Metadata") or {}).get("DatabaseConnections", 1))
        rows.extend(Row(logical, db, concurrency, per_env, bound_by) for db in sorted(databases))
    totals = {}
    for name, (_calls, param) in DATABASES.items():
        used = sum(r.connections for r in rows if r.database == name)
        totals[name] = (used, int(stack.resolver.ref(param)))
    return rows, totals


def over(totals):
    """The databases whose budget exceeds their max_connections."""
    return [name for name, (used, limit) in totals.items() if used > limit]


def main(argv=None):
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.deploy.connection_budget",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("overrides", nargs="*", metavar="Name=Value")
    args = parser.parse_args(argv)
    bad = [o for o in args.overrides if "=" not in o]
    if bad:
        parser.error(f"parameter overrides are Name=Value, got {bad}")
    try:
        rows, totals = budget(args.template, dict(o.split("=", 1) for o in args.overrides))
    except BudgetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for r in rows:
        print(f"{r.database:<11} {r.function:<36} {r.concurrency:>4} x {r.per_environment} = {r.connections:>4}"
              f"  ({r.bound_by})")
    for name, (used, limit) in totals.items():
        verdict = "OK" if used <= limit else "OVER: raise max_connections, lower the concurrency, or use RDS Proxy"
        print(f"{name}: {used} connections at most, max_connections {limit}: {verdict}")
    return 1 if over(totals) else 0


if __name__ == "__main__":
    sys.exit(main())
