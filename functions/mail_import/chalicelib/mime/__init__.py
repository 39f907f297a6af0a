"""The MIME decoder: raw RFC 5322 bytes in, plain values out (no I/O, no AWS, no database)."""
