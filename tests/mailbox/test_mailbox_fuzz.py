"""No input makes a 5xx: every route of the app (app.routes, so a new one is included, documented or not) fuzzed
with hypothesis in process (JSON of any shape and depth, NUL, lone surrogates, huge ids and limits, odd
content types) with a mailbox's key or without; test_schemathesis checks the documented API against its
document through the gateway."""
import json

import fuzz_support

MAX_EXAMPLES = 40


def test_no_route_answers_5xx_to_any_input(mailbox, make_mailbox):
    me, other = make_mailbox("fuzz"), make_mailbox("peer")
    sent = mailbox.call("POST", "/letters", headers=dict(me.headers, **{"Content-Type": "application/json"}),
                        body=json.dumps({"to": [other.address], "subject": "Hi", "body": "Hello"}))
    assert sent.status == 201, sent.body
    known = {"headers": [me.headers, other.headers],
             "ids": {"id": [str(sent.json()["id"])], "folder": ["inbox", "sent"],
                     "asset": ["swagger-ui.css", "index.html"]}}
    problems, counts, statuses = fuzz_support.fuzz_routes(mailbox, known, MAX_EXAMPLES)
    assert len(counts) == len(mailbox.routes()) and sum(counts.values()) >= MAX_EXAMPLES * len(counts)
    assert statuses[200] > 50 and statuses[400] > 50          # past the key, and into the checks
    assert problems == {}, "\n".join(f"{route}: {found}" for route, found in problems.items())
