"""RFC 3161 time-stamping: a client and a minimal loopback time-stamp authority.

from governance.provenance.timestamp import LoopbackTSA, request_timestamp
with LoopbackTSA.from_settings(settings) as tsa:
    token = request_timestamp(tsa.url, b"bytes to stamp")   # verified TimestampToken
"""

from governance.provenance.timestamp.client import request_timestamp
from governance.provenance.timestamp.protocol import (
    TimestampError,
    TimestampToken,
    issue_response,
    make_request,
    parse_response,
)
from governance.provenance.timestamp.server import LoopbackTSA, load_or_create_tsa

__all__ = [
    "LoopbackTSA",
    "load_or_create_tsa",
    "request_timestamp",
    "TimestampError",
    "TimestampToken",
    "make_request",
    "issue_response",
    "parse_response",
]
