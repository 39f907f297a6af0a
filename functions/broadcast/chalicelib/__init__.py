"""Broadcast logic: plain modules (no AWS event shapes), tested against MariaDB and the ChatApp emulator."""
