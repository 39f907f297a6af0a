"""Command-line tools: kept outside every function's CodeUri, so none of them is deployed with a Lambda.

Run from the repo root with the common layer on the path, as Lambda provides it under /opt/python:

    PYTHONPATH=layers/common/python python -m tools.mailbox.admin create-mailbox someone@example.com
    PYTHONPATH=layers/common/python python -m tools.mailbox.fake --users 1000 --letters 100000
    PYTHONPATH=layers/common/python python -m tools.mailbox.schema recreate
    PYTHONPATH=layers/common/python python -m tools.notifications.admin create-operator operator
"""
