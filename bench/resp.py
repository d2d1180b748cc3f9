"""Redis commands as RESP on standard output, for `redis-cli --pipe` (bench seeders):
`from resp import cmd; cmd("HSET", key, field, value)`."""
import sys

_out = sys.stdout.buffer


def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    _out.write(b"".join(parts))
