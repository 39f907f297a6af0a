"""Reading what the record handlers of templates/events/src/app.py wrote."""
import glob
import json
from pathlib import Path

import pytest


def seen(records, function):
    """The events a function recorded in records/<function>/, oldest first."""
    return [json.loads(Path(p).read_text()) for p in sorted(glob.glob(str(records / function / "*.json")))]


def module_fixtures(template):
    """(records, cloud): module fixtures of a folder for the records and the template started with RECORD_DIR
    pointing at it (assign them as `records, cloud = module_fixtures(TEMPLATE)`)."""
    @pytest.fixture(scope="module")
    def records(tmp_path_factory):
        return tmp_path_factory.mktemp("records")

    @pytest.fixture(scope="module")
    def cloud(start_cloud, records):
        return start_cloud(template=template, env={"RECORD_DIR": str(records)}, isolated=False)
    return records, cloud
