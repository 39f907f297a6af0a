"""Named contact lists in MySQL: numbers saved once (validated and de-duplicated like a broadcast's), a broadcast
sent to a list (broadcasts.list_id), each list's history."""
from common import db

from . import phones, queries
from .clock import utcnow

NUMBERS_PAGE = 200
MAX_SIZE = 10000          # numbers in a list: what one broadcast takes (forms.MAX_RECIPIENTS)


class NotFound(LookupError):
    """No such list."""


class NameTaken(ValueError):
    """Another list has this name."""


class TooLarge(ValueError):
    """The numbers would make the list larger than MAX_SIZE; `size` is its size now."""

    def __init__(self, size):
        super().__init__(size)
        self.size = size


def create(name, now=None):
    """A new empty list; returns its id. NameTaken if the name is in use."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.LIST_ID_BY_NAME, (name,))
        if cur.fetchone():
            raise NameTaken(name)
        cur.execute(queries.INSERT_LIST, (name, now or utcnow()))
        return cur.lastrowid


def all_lists():
    """Every list with its size, by name."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.CONTACT_LISTS)
        return cur.fetchall()


def get(list_id, page=1):
    """(the list with its size and page count, one page of its numbers)."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.GET_LIST, (list_id,))
        found = cur.fetchone()
        if found is None:
            raise NotFound(list_id)
        cur.execute(queries.LIST_SIZE, (list_id,))
        found["size"] = cur.fetchone()["n"]
        cur.execute(queries.LIST_NUMBERS_PAGE, (list_id, NUMBERS_PAGE, (page - 1) * NUMBERS_PAGE))
        numbers = cur.fetchall()
    found["pages"] = max(1, -(-found["size"] // NUMBERS_PAGE))
    return found, numbers


def add(list_id, numbers, now=None):
    """Save numbers (phones.Number list) into a list; a number already there is kept as it was. Returns how many
    were new. TooLarge (nothing saved) if the list would pass MAX_SIZE."""
    now = now or utcnow()
    with db.mysql_transaction() as cur:
        cur.execute(queries.LOCK_LIST, (list_id,))      # additions to one list one at a time
        if cur.fetchone() is None:
            raise NotFound(list_id)
        cur.execute(queries.LIST_SIZE, (list_id,))
        size = cur.fetchone()["n"]
        added = cur.executemany(queries.ADD_NUMBER, [(list_id, n.phone, n.raw[:100], now) for n in numbers])
        if size + added > MAX_SIZE:
            raise TooLarge(size)                        # rolls the additions back
    return added


def numbers_of(list_id):
    """The list's numbers as a phones.Parsed, to send a broadcast to (line = position in the list)."""
    with db.mysql_transaction() as cur:
        cur.execute(queries.GET_LIST, (list_id,))
        if cur.fetchone() is None:
            raise NotFound(list_id)
        cur.execute(queries.LIST_NUMBERS, (list_id,))
        rows = cur.fetchall()
    return phones.Parsed(numbers=[phones.Number(n, row["raw"], row["phone"]) for n, row in enumerate(rows, 1)])
