"""Statistics: counts by status per mailing (kept by triggers) and a mailing's messages page by page."""
