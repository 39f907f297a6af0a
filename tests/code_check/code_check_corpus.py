"""Realistic Python files for the checker tests and the benchmark: mostly clean code with the usual
style problems sprinkled in (long lines, unused imports, spacing, complexity), some syntax errors."""
import random

IMPORTS = ["import os", "import sys", "import json", "import re", "from pathlib import Path",
           "from collections import defaultdict", "import itertools", "import logging"]


def _function(rng, index):
    name = f"handle_{index}"
    lines = [f"def {name}(items, limit=10):", f'    """Process items for step {index}."""', "    total = 0"]
    for j in range(rng.randint(3, 14)):
        choice = rng.random()
        if choice < 0.06:
            lines.append(f"    total+= {j}")                                   # E225
        elif choice < 0.10:
            lines.append(f"    value = items.get('key_{j}', None)  " + "# " + "x" * rng.randint(60, 110))  # E501
        elif choice < 0.13:
            lines.append(f"    if total == None:\n        total = {j}")         # E711
        elif choice < 0.16:
            lines.append(f"    data = [ {j}, {j + 1} ]")                        # E201/E202
        elif choice < 0.19:
            lines.append(f"    unused_{j} = {j}")                               # F841
        elif choice < 0.21:
            lines.append(f"    total += {j} ")                                  # W291
        else:
            lines.append(rng.choice([
                f"    for item in items[:limit]:\n        total += len(str(item)) * {j}",
                f"    if total > {j * 10}:\n        total -= {j}",
                f"    total += sum(x for x in range({j}) if x % 2)",
                f"    message = 'step {j}: %s' % (total,)",
                f"    while total > {j + 100}:\n        total //= 2",
            ]))
    lines.append("    return total")
    return lines


def _count(lines):
    return sum(line.count("\n") + 1 for line in lines)


def source(rng, target_lines, high=2000):
    """One file of about target_lines lines (never more than high)."""
    imports = rng.sample(IMPORTS, rng.randint(1, 4))
    lines = ['"""Generated module."""'] + imports + ["", ""]
    index = 0
    while _count(lines) < target_lines:
        block = _function(rng, index) + (["", ""] if rng.random() > 0.05 else [""])   # sometimes E302
        if _count(lines) + _count(block) > high:
            break
        lines += block
        index += 1
    if rng.random() < 0.03:
        lines.append("def broken(:\n    pass")                                  # E999
    if rng.random() < 0.02:
        lines.append("if True:\n\tx = 1")                                       # W191 / E101
    text = "\n".join(lines) + "\n"
    return text.encode("utf-8")


def corpus(count, seed=7, low=50, high=2000):
    """[(name, bytes)]: sizes skewed to small files, as real repositories are."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        target = int(min(high, max(low, rng.lognormvariate(5.4, 0.8))))
        out.append((f"module_{index:04d}.py", source(rng, target, high - 4)))
    return out
