"""The console's queue watcher: which counts it tells the live pages about (localcloud.console.observe)."""
from localcloud.console.observe import QueueCounts

EMPTY = [("JobsQueue", 0, 0, 0), ("JobsDlq", 0, 0, 0)]
ONE = [("JobsQueue", 1, 0, 0), ("JobsDlq", 0, 0, 0)]


def test_counts_that_change_are_told_and_the_same_counts_are_not():
    counts = QueueCounts()
    assert counts.changed(EMPTY, joined=1)        # the first read: a page just started listening
    assert not counts.changed(EMPTY, joined=1)
    assert counts.changed(ONE, joined=1)
    assert not counts.changed(ONE, joined=1)
    assert counts.changed(EMPTY, joined=1)


def test_the_first_counts_after_an_idle_spell_are_told_even_if_they_equal_the_last_ones_read():
    """Read EMPTY while a page listened; it closed, and nothing was read while a message was sent (ONE: the page that
    opens next renders it); it is received right after that page opened: EMPTY again. Compared with the EMPTY from
    before the idle spell, the page would never hear that its ONE is gone."""
    counts = QueueCounts()
    assert counts.changed(EMPTY, joined=1)
    assert counts.changed(EMPTY, joined=2)
    assert not counts.changed(EMPTY, joined=2)


def test_the_first_counts_after_another_page_opened_are_told_even_if_they_equal_the_last_ones_read():
    """One page keeps the watcher reading (EMPTY). Between two reads a message arrives, a second page renders it
    (ONE) and opens its stream, and the message is received: the watcher reads EMPTY again. Compared with its last
    EMPTY, the second page would show ONE for ever; the stream it opened makes the next counts news."""
    counts = QueueCounts()
    assert counts.changed(EMPTY, joined=1)
    assert not counts.changed(EMPTY, joined=1)
    assert counts.changed(EMPTY, joined=2)
    assert not counts.changed(EMPTY, joined=2)
    assert counts.changed(ONE, joined=2)
