"""localcloud: an AWS SAM template run on one machine, without Docker (see localcloud/README.md)."""
