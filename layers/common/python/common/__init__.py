"""Code shared by every function: database access, AWS clients, auth helpers, errors."""
