"""Says which interpreter runs it."""
import sys


def handler(event, context):
    return {"executable": sys.executable, "version": list(sys.version_info[:2])}
