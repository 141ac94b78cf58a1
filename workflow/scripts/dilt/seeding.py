"""Per-job seeds derived from the config seed and the job's identity."""

import zlib


def job_seed(*parts):
    """A stable 31-bit seed from the job's identity (e.g. seed, method, part, round)."""
    return zlib.crc32("/".join(map(str, parts)).encode()) & 0x7FFFFFFF
