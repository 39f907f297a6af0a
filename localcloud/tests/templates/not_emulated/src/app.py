"""Answers every invocation with the event it got."""


def handler(event, context):
    return event
