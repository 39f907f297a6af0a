"""What every bench shares: its targets, the statistics it prints and the exit status it returns.

A bench declares its targets once, at its top:

    TARGETS = Targets(
        Target("ratio", "until all queued, reference / ours", ">=", 10.0, "x"),
        Target("post_s", "form post, median of runs (the product's promise)", "<", 2.0, "s"),
    )

then measures ours and its baseline in the same run (`alternate` runs them in turns after a warm-up), and
checks each target with `TARGETS.ratio(...)` (medians and spread of both sides, the ratio of the medians)
or `TARGETS.figure(...)` (an absolute figure, only where it is the product's promise, a median of repeats).
`TARGETS.exit_code()` prints one line per target and returns 1 when any was missed or never checked.

BENCH_TARGETS="name=value,..." overrides limits for one run, e.g. an impossible one to see the bench fail
(`BENCH_TARGETS=ratio=1e9`); an unknown name is an error, so a typo cannot make a bench pass.
"""
import math
import os
import statistics

OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def median(values):
    return statistics.median(list(values))


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values, fmt="{:.2f}"):
    """'median (min-max, n=N)': what a reader needs to judge a median."""
    values = list(values)
    return f"{fmt.format(median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))}, n={len(values)})"


def alternate(rounds, sides, warmup=1):
    """Run each side's callable in turns, `warmup` discarded rounds first, the order rotated every round so
    a drifting machine load weighs on every side alike: {name: [result per measured round]}."""
    names = list(sides)
    out = {name: [] for name in names}
    for n in range(warmup + rounds):
        shift = n % len(names)
        for name in names[shift:] + names[:shift]:
            result = sides[name]()
            if n >= warmup:
                out[name].append(result)
    return out


class Target:
    def __init__(self, name, text, op, limit, unit=""):
        assert op in OPS, op
        self.name, self.text, self.op, self.limit, self.unit = name, text, op, float(limit), unit


class Targets:
    def __init__(self, *targets, environ=None):
        self.targets = {t.name: t for t in targets}
        self.results = {}
        override = (os.environ if environ is None else environ).get("BENCH_TARGETS", "")
        for item in filter(None, (part.strip() for part in override.split(","))):
            name, _, value = item.partition("=")
            if name not in self.targets:
                raise SystemExit(f"BENCH_TARGETS names {name!r}; this bench's targets are {sorted(self.targets)}")
            self.targets[name].limit = float(value)

    def describe(self):
        """The targets as one line per target, for the bench's header."""
        return "\n".join(f"  target {t.name}: {t.text} {t.op} {t.limit:g}{t.unit}" for t in self.targets.values())

    def figure(self, name, value, detail=""):
        """Check an absolute figure (a median of repeats) against its limit; prints and returns whether met."""
        target = self.targets[name]
        ok = OPS[target.op](value, target.limit)
        self.results[name] = (ok, f"{target.text} = {value:.3g}{target.unit} {detail}".rstrip())
        print(f"{'PASS' if ok else 'FAIL'} {name}: {self.results[name][1]} "
              f"(target {target.op} {target.limit:g}{target.unit})", flush=True)
        return ok

    def ratio(self, name, top, bottom, labels=("ours", "baseline"), unit="s", fmt="{:.2f}"):
        """median(top) / median(bottom), both measured in the same run, checked against the target; the
        line shows each side's median, range and count. Times where ours must be faster: top=baseline."""
        top, bottom = list(top), list(bottom)
        value = median(top) / median(bottom)
        return self.figure(name, value, f"[{labels[0]} {spread(top, fmt)} {unit}, "
                                        f"{labels[1]} {spread(bottom, fmt)} {unit}]")

    def exit_code(self):
        """1 if any target was missed or never checked (a bench that stopped measuring must not pass)."""
        print("\ntargets:")
        missed = False
        for name, target in self.targets.items():
            ok, text = self.results.get(name, (False, f"{target.text}: NOT MEASURED"))
            missed |= not ok
            print(f"  {'PASS' if ok else 'FAIL'} {name}: {text} (target {target.op} {target.limit:g}{target.unit})")
        print("targets met" if not missed else "TARGETS NOT MET", flush=True)
        return 1 if missed else 0
