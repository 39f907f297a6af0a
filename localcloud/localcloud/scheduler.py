"""EventBridge scheduled rules: fire rate() and cron() schedules at a function (moto never fires them)."""
import json
import logging
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Optional

from pyawscron import AWSCron

from localcloud import events
from localcloud.model import InvocationError, Invoke, Schedule

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.IGNORECASE)
_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_TICK = 0.2                 # longest sleep between clock checks, so stop() and fake clocks are honoured
_MAX_CRON_RETRIES = 12 * 250


def rate_period(expression: str) -> Optional[timedelta]:
    """The period of a rate() expression; None if it is not one."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    value, unit = int(match.group(1)), match.group(2).lower().rstrip("s")
    if value < 1:
        raise ValueError(f"rate value must be positive: {expression!r}")
    return timedelta(seconds=value * _UNIT_SECONDS[unit])


def cron_fields(expression: str) -> Optional[str]:
    """The 6 space-separated fields inside cron(...), normalised for pyawscron; None if not a cron()."""
    match = _CRON.match(expression.strip())
    if not match:
        return None
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"cron() needs 6 fields (min hour day month weekday year): {expression!r}")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValueError(f"exactly one of day-of-month and day-of-week must be '?': {expression!r}")
    if fields[4].upper() == "L":
        fields[4] = "7"       # a bare L in day-of-week is the last day of the week: Saturday
    _check_ranges(" ".join(fields), expression)
    return " ".join(fields)


def _check_ranges(fields: str, expression: str) -> None:
    """Reject what pyawscron parses but would never match (minute 75, month 13), at load time."""
    try:
        cron = AWSCron(fields)
    except Exception as exc:
        raise ValueError(f"invalid cron() expression {expression!r}: {exc}") from None
    bounds = {"minutes": (0, 59), "hours": (0, 23), "days_of_month": (1, 31), "months": (1, 12),
              "days_of_week": (1, 7), "years": (1970, 2199)}
    for attr, (low, high) in bounds.items():
        values = getattr(cron, attr)
        if values and values[0] not in ("L", "W", "#") and not all(low <= v <= high for v in values):
            raise ValueError(f"{attr} out of range {low}-{high} in {expression!r}")


def _next_cron(fields: str, after: datetime) -> Optional[datetime]:
    cron = AWSCron(fields)
    for _ in range(_MAX_CRON_RETRIES):
        try:
            return cron.occurrence(after).next()
        except Exception:
            # pyawscron gives up on months with no matching day (Feb 30, a 5th Monday, ...) or builds
            # an invalid date; nothing fires in the rest of that month, so resume at the next month.
            after = _start_of_next_month(after + timedelta(minutes=1)) - timedelta(minutes=1)
    return None


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _start_of_next_month(when: datetime) -> datetime:
    first = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


class _Timer:
    """What both schedulers share: a timer thread running `_run`, and firing a function on a thread of its own,
    logged and counted (a fire never waits for the function, as EventBridge does not)."""

    thread_name = "scheduler"

    def _init_timer(self, invoke: Invoke, log, stats: dict) -> None:
        self.invoke = invoke
        self.log = log or logging.getLogger("localcloud.scheduler")
        self.stats = stats
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _start_thread(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the timer thread; invocations already running finish on their own threads."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError

    def _fire_function(self, function_id: str, event, trigger: str) -> None:
        self._count("fired")
        threading.Thread(target=self._invoke, args=(function_id, event, trigger), daemon=True,
                         name=trigger.replace(":", "-")).start()

    def _invoke(self, function_id: str, event, trigger: str) -> None:
        started = time.monotonic()
        try:
            self.invoke(function_id, event, trigger)
        except InvocationError as exc:
            self.log.error("%s <- %s failed: %s: %s\n%s", function_id, trigger, exc.error_type, exc, exc.trace)
            self._count("errors")  # after the log line, so whoever watches the counter finds the line written
            return
        except Exception:
            self.log.exception("%s <- %s failed", function_id, trigger)
            self._count("errors")
            return
        self.log.info("%s <- %s: ok (%.0f ms)", function_id, trigger, (time.monotonic() - started) * 1000)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n


class Scheduler(_Timer):
    """Fires each enabled schedule's function on its rate() or cron() expression."""

    def __init__(self, schedules: list, invoke: Invoke, region="us-east-1", account="123456789012", log=None,
                 rate_scale=1.0, clock=time.time):
        self._init_timer(invoke, log, {"fired": 0, "skipped": 0, "errors": 0})
        self.schedules = list(schedules)
        self.region = region
        self.account = account
        if rate_scale <= 0:
            raise ValueError("rate_scale must be positive")
        self.rate_scale = rate_scale
        self.clock = clock
        self._due: dict = {}       # schedule index -> next fire (UTC datetime)
        for schedule in self.schedules:
            self._validate(schedule)

    # ---- public ----------------------------------------------------------------------------------------

    @staticmethod
    def next_fire(expression: str, after: datetime) -> Optional[datetime]:
        """The first fire strictly after `after` (UTC); rate() counts one period from `after`.

        None if a cron() never fires again (e.g. its years are all past)."""
        if after.tzinfo is None:
            after = after.replace(tzinfo=timezone.utc)
        after = after.astimezone(timezone.utc)
        period = rate_period(expression)
        if period is not None:
            return after + period
        fields = cron_fields(expression)
        if fields is None:
            raise ValueError(f"not a rate() or cron() expression: {expression!r}")
        return _next_cron(fields, after)

    def start(self) -> None:
        """Start the timer thread; rate() schedules first fire one (scaled) period from now."""
        now = self._now()
        self._due = {i: self._next(s, now) for i, s in enumerate(self.schedules) if s.enabled}
        for schedule in self.schedules:
            if not schedule.enabled:
                self.log.info("schedule %s (%s) is disabled", schedule.name, schedule.expression)
        self._start_thread()

    def next_fires(self) -> list:
        """[(schedule, next fire as a UTC datetime or None)] in template order (for the console)."""
        due = dict(self._due)
        return [(s, due.get(i)) for i, s in enumerate(self.schedules)]

    def run_now(self, name: str) -> bool:
        """Fire the named schedule once now, outside its timetable; False if there is no such schedule."""
        schedule = next((s for s in self.schedules if s.name == name), None)
        if schedule is None:
            return False
        self._fire(schedule, self._now())
        return True

    def event(self, schedule: Schedule, when: datetime):
        """The payload AWS delivers for one fire: the Input JSON if set, else a Scheduled Event."""
        if schedule.input is not None:
            return json.loads(schedule.input)
        return events.scheduled_event(schedule.rule_arn, when, self.account, self.region)

    # ---- internals -------------------------------------------------------------------------------------

    def _validate(self, schedule: Schedule) -> None:
        self.next_fire(schedule.expression, datetime.now(timezone.utc))
        if schedule.input is not None:
            json.loads(schedule.input)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=timezone.utc)

    def _next(self, schedule: Schedule, after: datetime) -> Optional[datetime]:
        period = rate_period(schedule.expression)
        if period is not None:
            return after + period * self.rate_scale
        return self.next_fire(schedule.expression, after)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._now()
            for index, due in list(self._due.items()):
                if due is not None and due <= now:
                    self._due[index] = self._advance(self.schedules[index], due, now)
            self._stop.wait(self._sleep_for(now))

    def _advance(self, schedule: Schedule, due: datetime, now: datetime) -> Optional[datetime]:
        try:
            return self._fire_and_advance(schedule, due, now)
        except Exception:  # one broken schedule must not stop the others
            self.log.exception("schedule %s (%s) failed to fire; disabled", schedule.name,
                               schedule.expression)
            return None

    def _sleep_for(self, now: datetime) -> float:
        pending = [d for d in self._due.values() if d is not None]
        if not pending:
            return _TICK
        return max(0.0, min(_TICK, (min(pending) - now).total_seconds()))

    def _fire_and_advance(self, schedule: Schedule, due: datetime, now: datetime) -> Optional[datetime]:
        """Fire the latest slot that is due; earlier ones missed while the process was busy are skipped."""
        slot, nxt, skipped = due, self._next(schedule, due), 0
        while nxt is not None and nxt <= now:
            slot, nxt, skipped = nxt, self._next(schedule, nxt), skipped + 1
        if skipped:
            self._count("skipped", skipped)
            self.log.warning("schedule %s: skipped %d missed fire(s) from %s; firing %s", schedule.name,
                             skipped, _iso(due), _iso(slot))
        self._fire(schedule, slot)
        return nxt

    def _fire(self, schedule: Schedule, when: datetime) -> None:
        self._fire_function(schedule.function_id, self.event(schedule, when), f"schedule:{schedule.name}")


_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


def at_moment(expression: str, timezone_name: Optional[str] = None) -> Optional[datetime]:
    """The UTC moment of an at(yyyy-mm-ddThh:mm:ss) expression (read in its schedule's time zone); None if
    it is not one."""
    match = _AT.match(expression.strip())
    if not match:
        return None
    from zoneinfo import ZoneInfo
    local = datetime.fromisoformat(match.group(1))
    return local.replace(tzinfo=ZoneInfo(timezone_name or "UTC")).astimezone(timezone.utc)


class SchedulerSchedules(_Timer):
    """EventBridge Scheduler schedules (created at run time through the `scheduler` API; moto stores them
    but never fires them): at() schedules fire once at their moment, rate()/cron() ones on their
    expression (cron read in UTC), each invoking the template function its target names with the target's
    Input. After an at() fire a schedule with ActionAfterCompletion DELETE is deleted, as on AWS."""

    thread_name = "scheduler-schedules"

    def __init__(self, client, functions_by_arn: dict, invoke: Invoke, log=None, clock=time.time, poll=1.0,
                 changes=None):
        self._init_timer(invoke, log, {"fired": 0, "errors": 0})
        self.client = client
        self.functions_by_arn = dict(functions_by_arn)
        self.clock = clock
        self.poll = poll
        # changes() -> a number that moves with every change to the endpoint's schedules, or None: then the
        # schedules are read (ListSchedules and a GetSchedule each) only after a change, not every poll. For the
        # process's own moto (moto_patches.schedule_changes()): the read cost each stack a few requests a second.
        self.changes = changes
        self._read = None               # (changes() before the read, [(group, schedule)]) of the last read
        self._fired: set = set()        # (group, name, expression) of at() schedules already fired
        self._due: dict = {}            # (group, name, expression) -> next fire of rate()/cron() schedules

    def start(self) -> None:
        self._start_thread()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the AWS endpoint may be down for a moment; try again next round
                self.log.warning("could not read Scheduler schedules", exc_info=True)
            self._stop.wait(self.poll)

    def poll_once(self) -> list:
        """Fire whatever is due now; returns the names fired."""
        now = self._now()
        fired = []
        for group, schedule in self._ours(enabled_only=True):
            if self._due_now(schedule, group, now):
                fired.append(schedule["Name"])
                self._fire(schedule, group)
        return fired

    def listing(self) -> list:
        """This stack's Scheduler schedules for the console: [{name, group, expression, timezone, function,
        enabled, next (UTC datetime or None: an at() that has fired, a disabled or ended one), trigger}]."""
        now = self._now()
        rows = []
        for group, schedule in self._ours(enabled_only=False):
            expression = schedule["ScheduleExpression"]
            enabled = schedule.get("State", "ENABLED") == "ENABLED"
            end = schedule.get("EndDate")
            rows.append({"name": schedule["Name"], "group": group, "expression": expression,
                         "timezone": schedule.get("ScheduleExpressionTimezone") or "UTC",
                         "function": self.functions_by_arn.get((schedule.get("Target") or {}).get("Arn")),
                         "enabled": enabled, "trigger": f"scheduler:{schedule['Name']}",
                         "next": self._next_fire(schedule, group, now) if enabled and not (end and now > end)
                         else None})
        return rows

    def run_now(self, group: str, name: str) -> bool:
        """Fire one schedule now, outside its timetable (an at() one still fires at its moment); False if this
        stack has no such schedule."""
        try:
            schedule = self.client.get_schedule(Name=name, GroupName=group)
        except self.client.exceptions.ResourceNotFoundException:
            return False
        target = schedule.get("Target") or {}
        function_id = self.functions_by_arn.get(target.get("Arn"))
        if function_id is None:
            return False
        self._fire_function(function_id, _input(target), f"scheduler:{name}")
        return True

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=timezone.utc)

    def _ours(self, enabled_only: bool):
        """(group, full schedule) of each schedule whose target is a function of this stack."""
        version = self.changes() if self.changes else None
        if version is None or self._read is None or self._read[0] != version:
            # read before the list: a change made while it runs is read again next time
            self._read = (version, list(self._read_ours()))
        for group, schedule in self._read[1]:
            if not enabled_only or schedule.get("State", "ENABLED") == "ENABLED":
                yield group, schedule

    def _read_ours(self):
        for summary in self._summaries():
            target = (summary.get("Target") or {}).get("Arn")
            if target is not None and target not in self.functions_by_arn:
                continue                 # another stack's (or an outside) target: not ours to read or fire
            group, name = summary.get("GroupName") or "default", summary["Name"]
            try:
                schedule = self.client.get_schedule(Name=name, GroupName=group)
            except self.client.exceptions.ResourceNotFoundException:
                continue                 # deleted between the list and the read
            if (schedule.get("Target") or {}).get("Arn") in self.functions_by_arn:
                yield group, schedule

    def _next_fire(self, schedule: dict, group: str, now: datetime) -> Optional[datetime]:
        expression = schedule["ScheduleExpression"]
        key = (group, schedule["Name"], expression)
        moment = at_moment(expression, schedule.get("ScheduleExpressionTimezone"))
        if moment is not None:
            return None if key in self._fired else moment
        start = schedule.get("StartDate")
        return self._due.get(key) or Scheduler.next_fire(expression, max(now, start) if start else now)

    def _summaries(self):
        token = None
        while True:
            page = self.client.list_schedules(**({"NextToken": token} if token else {}))
            yield from page.get("Schedules", [])
            token = page.get("NextToken")
            if not token:
                return

    def _due_now(self, schedule: dict, group: str, now: datetime) -> bool:
        expression = schedule["ScheduleExpression"]
        key = (group, schedule["Name"], expression)
        start, end = schedule.get("StartDate"), schedule.get("EndDate")
        if (start and now < start) or (end and now > end):
            return False
        moment = at_moment(expression, schedule.get("ScheduleExpressionTimezone"))
        if moment is not None:
            return moment <= now and key not in self._fired
        due = self._due.get(key)
        if due is None:
            self._due[key] = Scheduler.next_fire(expression, now)
            return False
        if due <= now:
            self._due[key] = Scheduler.next_fire(expression, now)
            return True
        return False

    def _fire(self, schedule: dict, group: str) -> None:
        target = schedule["Target"]             # _ours yields only schedules that target this stack
        name, expression = schedule["Name"], schedule["ScheduleExpression"]
        is_at = at_moment(expression) is not None
        if is_at:
            self._fired.add((group, name, expression))
        self._fire_function(self.functions_by_arn[target["Arn"]], _input(target), f"scheduler:{name}")
        if is_at and schedule.get("ActionAfterCompletion") == "DELETE":
            try:
                self.client.delete_schedule(Name=name, GroupName=group)
            except self.client.exceptions.ResourceNotFoundException:
                pass


def _input(target: dict):
    """The event a Scheduler target delivers: its Input JSON, {} without one."""
    return json.loads(target["Input"]) if target.get("Input") else {}
