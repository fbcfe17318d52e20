"""RFC 3161 messages: build requests, issue responses (our TSA), parse and verify responses.

DER comes from asn1crypto (the ASN.1 schemas of RFC 3161 / RFC 5652 / RFC 5035); signatures
from ``cryptography``. A token is accepted only when the status is granted, the message
imprint and nonce match the request, the CMS signature verifies over the signed attributes,
and the signer certificate carries the timeStamping EKU.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from governance.core.errors import SigningError

__all__ = [
    "TimestampError",
    "TimestampToken",
    "make_request",
    "issue_response",
    "parse_response",
    "REELGUARD_TSA_POLICY",
]

# TSA policy OID: 2.999 is the joint ISO/ITU-T example arc, as ReelGuard owns no OID arc;
# an organisation running its own TSA should use a policy OID from its own arc.
REELGUARD_TSA_POLICY = "2.999.4242.1"
_HASHES = {
    "sha256": (hashlib.sha256, hashes.SHA256),
    "sha384": (hashlib.sha384, hashes.SHA384),
    "sha512": (hashlib.sha512, hashes.SHA512),
}
MAX_MESSAGE_BYTES = 64 * 1024


class TimestampError(SigningError):
    """RFC 3161 request, response or token problems (a signing-time failure: exit 14)."""


@dataclass(frozen=True)
class TimestampToken:
    gen_time: dt.datetime
    serial_number: int
    policy: str
    hash_algorithm: str
    message_imprint: bytes
    tsa_certificate: x509.Certificate | None
    token_der: bytes  # the ContentInfo (SignedData) to store next to what was stamped


def make_request(data: bytes, *, hash_algorithm: str = "sha256", cert_req: bool = True) -> tuple[bytes, int]:
    """DER TimeStampReq for ``data`` and the nonce it carries."""
    if hash_algorithm not in _HASHES:
        raise TimestampError(f"unsupported hash {hash_algorithm!r}; use one of {', '.join(_HASHES)}")
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": hash_algorithm},
                "hashed_message": _HASHES[hash_algorithm][0](data).digest(),
            },
            "nonce": nonce,
            "cert_req": cert_req,
        }
    )
    return request.dump(), nonce


def _signature_algorithm(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "sha256_ecdsa"
    if isinstance(key, rsa.RSAPrivateKey):
        return "sha256_rsa"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise TimestampError(f"unsupported TSA key type {type(key).__name__}")


def _sign(key: object, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise TimestampError(f"unsupported TSA key type {type(key).__name__}")


class _TimeStampResp(core.Sequence):
    """RFC 3161 TimeStampResp; asn1crypto's own schema wrongly makes the token mandatory,
    which rejections (status only) cannot satisfy."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


def _rejection(status: str, failure: str, text: str) -> bytes:
    return _TimeStampResp({"status": {"status": status, "status_string": [text], "fail_info": {failure}}}).dump()


def issue_response(
    request_der: bytes,
    *,
    key: object,
    cert: x509.Certificate,
    chain: tuple[x509.Certificate, ...] = (),
    now: dt.datetime | None = None,
    serial: int | None = None,
) -> bytes:
    """A DER TimeStampResp for ``request_der`` signed by ``key`` / ``cert`` (status rejection on bad input)."""
    if len(request_der) > MAX_MESSAGE_BYTES:
        return _rejection("rejection", "bad_request", "request too large")
    try:
        request = tsp.TimeStampReq.load(request_der)
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
        nonce = request["nonce"].native
        cert_req = bool(request["cert_req"].native)
    except (ValueError, TypeError, KeyError):
        return _rejection("rejection", "bad_data_format", "malformed TimeStampReq")
    if algorithm not in _HASHES:
        return _rejection("rejection", "bad_alg", f"unsupported hash {algorithm}")
    if len(hashed) != _HASHES[algorithm][0]().digest_size:
        return _rejection("rejection", "bad_data_format", "message imprint length does not match its hash")
    gen_time = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    tst_info = {
        "version": "v1",
        "policy": REELGUARD_TSA_POLICY,
        "message_imprint": {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": hashed},
        "serial_number": serial if serial is not None else secrets.randbits(63),
        "gen_time": gen_time,
        "accuracy": {"seconds": 1},
    }
    if nonce is not None:
        tst_info["nonce"] = nonce
    econtent = tsp.TSTInfo(tst_info).dump()
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    asn_cert = asn1_x509.Certificate.load(cert_der)
    signing_certificate_v2 = tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "cert_hash": hashlib.sha256(cert_der).digest(),
                    "issuer_serial": {
                        "issuer": [asn1_x509.GeneralName("directory_name", asn_cert.issuer)],
                        "serial_number": asn_cert.serial_number,
                    },
                }
            ],
        }
    )
    signed_attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "signing_time", "values": [cms.Time({"utc_time": gen_time})]},
            {"type": "message_digest", "values": [hashlib.sha256(econtent).digest()]},
            {"type": "signing_certificate_v2", "values": [signing_certificate_v2]},
        ]
    )
    signature = _sign(key, signed_attrs.dump())
    signer_info = {
        "version": "v1",
        "sid": {"issuer_and_serial_number": {"issuer": asn_cert.issuer, "serial_number": asn_cert.serial_number}},
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": signed_attrs,
        "signature_algorithm": {"algorithm": _signature_algorithm(key)},
        "signature": signature,
    }
    certificates = [asn_cert] + [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain]
    signed_data = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(econtent)},
        "signer_infos": [signer_info],
    }
    if cert_req:
        signed_data["certificates"] = certificates
    token = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
    return _TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


def _verify(public: object, signature: bytes, data: bytes, algo: algos.SignedDigestAlgorithm) -> None:
    name = algo.signature_algo
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, data, ec.ECDSA(_HASHES.get(algo.hash_algo, _HASHES["sha256"])[1]()))
    elif isinstance(public, rsa.RSAPublicKey):
        if name == "rsassa_pss":
            params = algo["parameters"]
            hash_cls = _HASHES[params["hash_algorithm"]["algorithm"].native][1]
            pss = padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=params["salt_length"].native)
            public.verify(signature, data, pss, hash_cls())
        else:
            public.verify(signature, data, padding.PKCS1v15(), _HASHES[algo.hash_algo][1]())
    elif isinstance(public, ed25519.Ed25519PublicKey):
        public.verify(signature, data)
    else:
        raise TimestampError(f"unsupported TSA key type {type(public).__name__}")


def parse_response(response_der: bytes, *, data: bytes | None = None, nonce: int | None = None) -> TimestampToken:
    """Parse and verify a TimeStampResp; ``data`` / ``nonce`` must match the request when given."""
    if len(response_der) > MAX_MESSAGE_BYTES:
        raise TimestampError(f"time-stamp response of {len(response_der)} bytes is too large")
    try:
        response = _TimeStampResp.load(response_der)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = "; ".join(response["status"]["status_string"].native or [])
            raise TimestampError(f"time-stamp authority refused the request: {status} {text}".strip())
        token = response["time_stamp_token"]
        signed = token["content"]
        econtent = signed["encap_content_info"]["content"].parsed
        info = econtent.native
        signer = signed["signer_infos"][0]
        certs = [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"] or ()]
    except TimestampError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise TimestampError(f"malformed time-stamp response ({type(exc).__name__})") from None
    hash_algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"]
    imprint = info["message_imprint"]["hashed_message"]
    if data is not None and (hash_algorithm not in _HASHES or _HASHES[hash_algorithm][0](data).digest() != imprint):
        raise TimestampError("time-stamp token covers different data (message imprint mismatch)")
    if nonce is not None and info.get("nonce") != nonce:
        raise TimestampError("time-stamp response nonce does not match the request")
    tsa_cert = _verify_signer(signer, certs, econtent.dump())
    return TimestampToken(
        gen_time=info["gen_time"],
        serial_number=info["serial_number"],
        policy=info["policy"],
        hash_algorithm=hash_algorithm,
        message_imprint=imprint,
        tsa_certificate=tsa_cert,
        token_der=token.dump(),
    )


def _verify_signer(signer: cms.SignerInfo, certs: list[x509.Certificate], econtent: bytes) -> x509.Certificate | None:
    """Check messageDigest and the signature over the signed attributes with the TSA certificate."""
    attrs = signer["signed_attrs"]
    digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES or not digests or digests[0] != _HASHES[digest_name][0](econtent).digest():
        raise TimestampError("time-stamp token message digest does not match its TSTInfo")
    sid = signer["sid"].chosen
    cert = None
    for candidate in certs:
        if isinstance(sid, cms.IssuerAndSerialNumber) and candidate.serial_number == sid["serial_number"].native:
            cert = candidate
    if cert is None:
        return None  # the caller did not ask for the certificate; trust decisions happen later
    try:
        time_stamping = (
            ExtendedKeyUsageOID.TIME_STAMPING in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        )
    except x509.ExtensionNotFound:
        time_stamping = False
    if not time_stamping:
        raise TimestampError("time-stamp signer certificate lacks the timeStamping extended key usage")
    try:
        signed_bytes = b"\x31" + attrs.dump()[1:]  # signed over the SET OF, not the [0] tagging
        _verify(cert.public_key(), signer["signature"].native, signed_bytes, signer["signature_algorithm"])
    except InvalidSignature:
        raise TimestampError("time-stamp token signature does not verify") from None
    return cert
