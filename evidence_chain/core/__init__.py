"""The consensus-critical core of Sealtrail: formats that are frozen once released.

Merkle math (RFC 9162), canonical JSON (RFC 8785), signed checkpoint notes (C2SP
tlog-checkpoint) and evidence bundle verification. Pure: the standard library and
``cryptography`` only, bytes in and bytes out, no database, no socket, no clock it was not
given, and errors that know nothing of HTTP. An import-linter contract in ``pyproject.toml``
keeps it that way; a change in this folder changes what every verifier computes, so it is
reviewed as such.
"""
