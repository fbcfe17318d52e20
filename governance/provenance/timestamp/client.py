"""RFC 3161 client: ask a time-stamp authority to stamp bytes, get back a verified token."""

from __future__ import annotations

import httpx

from governance.provenance.timestamp.protocol import (
    MAX_MESSAGE_BYTES,
    TimestampError,
    TimestampToken,
    make_request,
    parse_response,
)

__all__ = ["request_timestamp"]

CONTENT_TYPE = "application/timestamp-query"


def request_timestamp(
    url: str, data: bytes, *, hash_algorithm: str = "sha256", timeout: float = 10.0
) -> TimestampToken:
    """Stamp ``data`` at ``url``; the token's imprint, nonce and signature are verified."""
    if not url.startswith(("http://", "https://")):
        raise TimestampError(f"time-stamp authority URL must be http(s): {url!r}")
    request, nonce = make_request(data, hash_algorithm=hash_algorithm)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            reply = client.post(url, content=request, headers={"Content-Type": CONTENT_TYPE})
    except httpx.HTTPError as exc:
        raise TimestampError(f"time-stamp authority {url} unreachable ({type(exc).__name__})") from None
    if reply.status_code != 200:
        raise TimestampError(f"time-stamp authority {url} answered HTTP {reply.status_code}")
    if len(reply.content) > MAX_MESSAGE_BYTES:
        raise TimestampError(f"time-stamp authority {url} sent {len(reply.content)} bytes; refusing")
    return parse_response(reply.content, data=data, nonce=nonce)
