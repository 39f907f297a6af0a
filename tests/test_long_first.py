"""tests/long_first.py: the names it lists exist, and a parallel run's first hand-out starts with them."""
import ast
from pathlib import Path

from long_first import LONG, first_shares, make_scheduler

ROOT = Path(__file__).resolve().parent.parent


def test_every_long_test_it_names_exists():
    for nodeid in LONG:
        path, _, name = nodeid.partition("::")
        tree = ast.parse((ROOT / path).read_text())
        assert not name or name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}, nodeid


def test_the_long_tests_are_dealt_longest_first_to_the_least_loaded_worker(monkeypatch):
    monkeypatch.setattr("long_first.LONG", {"a.py::t60": 60, "a.py::t50": 50, "b.py::t30": 30, "b.py::t20": 20,
                                            "c.py::t15": 15, "d.py": 55})
    collection = ["a.py::short", "b.py::t20", "d.py::x", "a.py::t50[x]", "a.py::t50[y]", "c.py::t15", "d.py::y",
                  "a.py::t60", "b.py::t30"]
    # 60 -> w0; d.py's two, 55 -> w1; a.py::t50's two, 50 -> w2; 30 -> w2 (50); 20 -> w1 (55); 15 -> w0 (60)
    assert first_shares(collection, 3) == [[7, 5], [2, 6, 1], [3, 4, 8]]
    assert first_shares(["x.py::short"], 2) == [[], []]


class Node:
    """What the scheduler uses of xdist's WorkerController."""

    def __init__(self, name):
        self.gateway = type("Gateway", (), {"id": name})()
        self.sent = []
        self.shutting_down = False

    def send_runtest_some(self, indices):
        self.sent.append(list(indices))

    def shutdown(self):
        self.sent.append("shutdown")


class Config:
    def getoption(self, name):
        return None

    def getvalue(self, name):
        return {"tx": ["2*popen"], "dist": "load"}.get(name)


def test_each_worker_starts_with_its_long_tests_then_consecutive_others(monkeypatch):
    monkeypatch.setattr("long_first.LONG", {"m.py::long_a": 60, "n.py::long_b": 40})
    collection = [f"m.py::t{i}" for i in range(20)] + ["m.py::long_a"] + [f"n.py::t{i}" for i in range(20)] + \
        ["n.py::long_b"]
    scheduler = make_scheduler(Config(), None)
    nodes = [Node("gw0"), Node("gw1")]
    for node in nodes:
        scheduler.add_node(node)
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    first, second = (node.sent for node in nodes)
    assert first[0] == [20] and second[0] == [41]        # each starts with one long test
    chunk = len(collection) // 2 // 4                    # LoadScheduling's first chunk: a quarter of a share
    assert first[1] == list(range(0, chunk - 1)) and second[1] == list(range(chunk - 1, 2 * chunk - 2))
    assert set(scheduler.pending) == set(range(len(collection))) - {20, 41} - set(first[1]) - set(second[1])
    # what is left goes out in order, the usual way
    scheduler.mark_test_complete(nodes[0], 20)
    assert 20 not in scheduler.node2pending[nodes[0]]


def test_a_parallel_run_of_this_suite_uses_it(request):
    """tests/conftest.py answers xdist's hook with it for `--dist load` (the default of `-n N`), and leaves the other
    modes to xdist."""
    made = request.config.hook.pytest_xdist_make_scheduler(config=Config(), log=None)
    assert type(made).__name__ == "LongFirst"

    class Scoped(Config):
        def getvalue(self, name):
            return "loadfile" if name == "dist" else super().getvalue(name)
    assert type(request.config.hook.pytest_xdist_make_scheduler(config=Scoped(), log=None)).__name__ != "LongFirst"
