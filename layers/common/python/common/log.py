"""Structured-enough logging for handlers: one logger per module, level from LOG_LEVEL."""
import logging
import os


def get_logger(name):
    """A logger writing to stderr (CloudWatch on AWS) at LOG_LEVEL (default INFO)."""
    logger = logging.getLogger(name)
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(levelname)s %(name)s %(message)s")
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    return logger
