"""The order a parallel run (`-n N`) hands tests out in: the long tests first, spread over the workers.

pytest-xdist's load scheduling gives each worker a chunk of consecutive tests, then more as it finishes them.
A test that runs a minute (mostly waiting: a visibility timeout, a killed worker's retry, a sam build) and is
handed out late ends the run alone: in one measured `-n 6` run both cores sat at 3-50 % for the last 75 s. Here
each worker starts with a share of the long tests (the longest first, each to the worker with the least long
work so far), then takes consecutive chunks as before; whatever is handed out last is short.

LONG holds the tests that took 20 s or more (call plus setup) in a `-n 4` run on this machine kind (2 cores),
rounded: they only order the run, nothing asserts them. A key without "::" names a whole module whose tests share
a module-scoped fixture (a cloud, a browser, a sam build): its tests go out together, in their order, so the
fixture is made once (pulling one test out made a worker build it twice). A test missing here runs where the
shuffle puts it; tests/test_long_first.py checks that every name still exists.
"""
LONG = {
    "tests/mail_import/test_mail_import_recovery_cloud.py::"
    "test_an_import_finishes_soon_after_killed_workers_killed_children_and_a_database_restart": 75,
    "tests/broadcast/test_broadcast_recovery.py::"
    "test_a_sender_killed_mid_call_ends_its_recipient_unknown_within_90_s_and_sends_once": 65,
    "tests/foundation/test_deploy.py": 75,
    "tests/foundation/test_deploy_rehearsal.py::"
    "test_the_rehearsal_passes_in_a_process_of_its_own_and_leaves_the_suites_moto_alone": 45,
    "tests/mail_import/test_mail_import_page.py": 70,
    "tests/code_check/test_code_check_cloud.py": 40,
    "tests/foundation/test_database_outages.py": 55,
    "tests/mail_import/test_mail_import_accounts.py::"
    "test_a_refused_login_is_a_form_error_in_the_readers_language_and_nothing_is_stored": 26,
    "tests/code_check/test_code_check_fuzz.py": 35,
    "tests/mail_import/test_mail_import_recovery.py::"
    "test_two_hundred_consecutive_imports_under_load_without_a_silent_child": 25,
    "tests/notifications/test_notifications_recovery.py": 35,
    "tests/mail_import/test_mail_import_sync.py::test_a_tarpit_account_does_not_hold_up_another_import": 23,
    "localcloud/tests/test_any_template.py::test_saved_state_belongs_to_one_stack_and_template": 22,
    "tests/code_check/test_code_check_schemathesis.py::test_partner_api_matches_its_openapi_document": 20,
}


def key(nodeid):
    """The LONG key a collected test falls under (itself without parameters, or its module), or None."""
    test = nodeid.split("[", 1)[0]
    if test in LONG:
        return test
    module = test.split("::", 1)[0]
    return module if module in LONG else None


def first_shares(collection, workers):
    """[[index into collection, ...] per worker]: the long tests (a long module's tests together, in their order)
    dealt longest first, each to the worker with the least long work so far."""
    groups = {}
    for index, nodeid in enumerate(collection):
        found = key(nodeid)
        if found is not None:
            groups.setdefault(found, []).append(index)
    shares, loads = [[] for _ in range(workers)], [0] * workers
    for name, indices in sorted(groups.items(), key=lambda group: -LONG[group[0]]):
        worker = loads.index(min(loads))
        shares[worker] += indices
        loads[worker] += LONG[name]
    return shares


def make_scheduler(config, log):
    """xdist's load scheduling whose first hand-out to each worker starts with its share of the long tests."""
    from xdist.scheduler import LoadScheduling

    class LongFirst(LoadScheduling):
        def schedule(self):
            if self.collection is not None or not self._check_nodes_have_same_collection():
                return super().schedule()
            collection = next(iter(self.node2collection.values()))
            shares = first_shares(collection, len(self.nodes))
            if len(collection) < 4 * len(self.nodes) or not any(shares):
                return super().schedule()
            self.collection = collection
            taken = {index for share in shares for index in share}
            self.pending[:] = [index for index in range(len(collection)) if index not in taken]
            if self.maxschedchunk is None:
                self.maxschedchunk = len(collection)
            # As LoadScheduling.schedule: a quarter of each worker's part as its first chunk of consecutive tests
            # (a module's tests stay together and its fixtures warm), after its long ones.
            chunk = max(min(len(collection) // len(self.nodes) // 4, self.maxschedchunk), 2)
            for node, share in zip(self.nodes, shares):
                if share:
                    self.node2pending[node].extend(share)
                    node.send_runtest_some(share)
                self._send_tests(node, max(chunk - len(share), 2))
            return None

    return LongFirst(config, log)
