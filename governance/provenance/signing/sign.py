"""Sign a video with a ReelGuard manifest: embedded (MP4 / MOV / M4V) or as a ``.c2pa`` sidecar.

Outputs are written to a temporary file in the destination folder, fsynced and renamed, so a
failure (bad key, expired certificate, unsupported format, full disk) never leaves a
half-signed file behind.

``sign_video`` takes c2pa-rs's placeholder ("embeddable") route when a cheap scan of the source
says the layout is one it reproduces exactly (``_embeddable``: about half the time of
``Builder.sign``), and ``Builder.sign`` otherwise; ``SignedAsset.method`` says which ran.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa

from detectors.memory import HugePageReads
from governance.core.errors import OutputError, OutputExistsError, SigningError
from governance.core.secrets import write_secret_file
from governance.provenance.keys import SigningIdentity
from governance.provenance.signing import _embeddable
from governance.provenance.signing.hashing import HashingWriter, sha256_file
from governance.provenance.signing.labels import active_label
from governance.provenance.signing.manifest import INGREDIENT_SHA256_KEY, ManifestSpec, build_definition, mime_for

__all__ = ["SignedAsset", "SignOptions", "sign_video", "sign_sidecar", "active_label", "sha256_file", "EMBEDDABLE"]

EMBEDDABLE = frozenset({"video/mp4", "video/quicktime", "video/x-m4v"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SignedAsset:
    """What signing produced. ``method`` is ``"embeddable"`` or ``"builder"`` (``Builder.sign``;
    also sidecars). ``file_sha256`` is the SHA-256 of ``path``, or None when the caller turned it
    off (``SignOptions(output_sha256=False)``) on the embeddable path, where it costs one more
    read of the output (the manifest box, known only after the hash, sits near the front)."""

    path: Path  # the signed file (or the sidecar for sign_sidecar)
    manifest_digest: str  # sha256 hex of the manifest store bytes
    manifest_label: str  # urn:c2pa:... of the active manifest
    file_sha256: str | None  # sha256 hex of ``path``
    signer: str  # subject CN of the signing certificate
    manifest_json: str  # the store as c2pa-rs reads it (manifests, assertions, signature info)
    manifest_bytes: bytes
    sidecar: Path | None = None
    method: str = "builder"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "manifest_digest": self.manifest_digest,
            "manifest_label": self.manifest_label,
            "file_sha256": self.file_sha256,
            "signer": self.signer,
            "sidecar": str(self.sidecar) if self.sidecar else None,
        }


def _store_json(store: bytes) -> str:
    """The store as c2pa-rs reads it (no asset: signature checks only, hash binding skipped)."""
    context = SignOptions().context()  # remote fetching and OCSP off: read back offline
    try:
        reader = c2pa.Reader("application/c2pa", io.BytesIO(store), context=context)
        try:
            return reader.json()
        finally:
            reader.close()
    except c2pa.C2paError as exc:  # pragma: no cover - c2pa-rs cannot read what it just wrote
        raise SigningError(f"c2pa could not read back the manifest it signed: {exc}") from None
    finally:
        context.close()


def _check_paths(src: Path, dst: Path, *, force: bool) -> str:
    if not src.exists():
        raise SigningError(f"{src}: no such file")
    if not src.is_file():
        raise SigningError(f"{src}: not a regular file")
    if src.stat().st_size == 0:
        raise SigningError(f"{src}: empty file")
    fmt = mime_for(src)
    if fmt is None:
        raise SigningError(
            f"{src}: unsupported format {src.suffix or '(none)'}; C2PA signing supports MP4, MOV and M4V"
        )
    if not dst.parent.is_dir():
        raise OutputError(f"{dst}: folder {dst.parent} does not exist")
    if dst.exists() and not force and dst.resolve() != src.resolve():
        raise OutputExistsError(f"{dst} exists; pass force=True (--force) to replace it")
    return fmt


@dataclass(frozen=True)
class SignOptions:
    """c2pa-rs settings for one signing.

    ``verify_after_sign`` re-reads and re-hashes the whole output inside c2pa-rs (about a
    third more time on large files); off by default because the output is written atomically
    and its manifest is parsed back anyway. ``trust_anchors_pem`` lets the validation recorded
    for ingredients say ``trusted`` instead of ``untrusted``. ``output_sha256=False`` skips
    hashing the signed file where that costs a read of its own (``file_sha256`` is then None).
    """

    verify_after_sign: bool = False
    trust_anchors_pem: str | None = None
    output_sha256: bool = True
    # c2pa-rs's whole ``trust`` table (anchors, allowed list, EKUs: ``TrustConfig.c2pa_settings()``),
    # so an ingredient from another issuer is validated as the verifier would; wins over the PEM.
    trust: Mapping[str, Any] | None = None

    def context(self, signer: c2pa.Signer | None = None) -> c2pa.Context:
        """The c2pa-rs Context; ``signer`` (consumed) is for the embeddable calls, which take it
        from the Context rather than as an argument."""
        config: dict[str, Any] = {
            "verify": {
                "verify_after_sign": self.verify_after_sign,
                "ocsp_fetch": False,
                "remote_manifest_fetch": False,
            },
            "core": {"allowed_network_hosts": []},  # offline: no DID, OCSP or manifest look-ups
        }
        if self.trust:
            config["trust"] = dict(self.trust)
        elif self.trust_anchors_pem:
            config["trust"] = {"trust_anchors": self.trust_anchors_pem}
        try:
            return c2pa.Context.from_dict(config, signer=signer)
        except c2pa.C2paError as exc:
            raise SigningError(f"c2pa rejected the signing settings (malformed trust anchors?): {exc}") from None


def _builder(
    spec: ManifestSpec, fmt: str, options: SignOptions, context: c2pa.Context | None = None
) -> tuple[c2pa.Builder, list[Any]]:
    ingredients = spec.ingredient_list()
    ids = [f"ingredient-{i}" for i in range(len(ingredients))]
    context = context or options.context()
    try:
        builder = c2pa.Builder(build_definition(spec, fmt=fmt, ingredient_ids=ids), context=context)
    except c2pa.C2paError as exc:
        raise SigningError(f"c2pa rejected the manifest definition: {exc}") from None
    handles = []
    for ident, ing in zip(ids, ingredients, strict=True):
        ing_fmt = ing.media_type or mime_for(ing.path)
        if ing_fmt is None or not ing.path.is_file():
            builder.close()
            raise SigningError(f"ingredient {ing.path}: missing or unsupported format")
        handle = open(ing.path, "rb")  # noqa: SIM115 (read while the builder signs; closed after)
        handles.append(handle)
        digest = sha256_file(ing.path)
        if ing.sha256 is not None and digest != ing.sha256:
            # the caller checked other bytes (a reference replaced after its checks): cite nothing
            for h in handles:
                h.close()
            builder.close()
            raise SigningError(
                f"ingredient {ing.path.name} changed after it was checked (sha256 {digest[:16]}…, "
                f"expected {ing.sha256[:16]}…)"
            )
        try:
            builder.add_ingredient(
                {
                    "title": ing.title or ing.path.name,
                    "relationship": ing.relationship,
                    "label": ident,
                    "metadata": {INGREDIENT_SHA256_KEY: digest},
                },
                ing_fmt,
                handle,
            )
        except c2pa.C2paError as exc:
            for h in handles:
                h.close()
            builder.close()
            raise SigningError(f"ingredient {ing.path}: {exc}") from None
    return builder, handles


@contextlib.contextmanager
def _signing_errors(src: Path) -> Iterator[None]:
    """c2pa-rs failures (either path) and an unreadable source as SigningError naming the file."""
    try:
        yield
    except (c2pa.C2paError, SigningError) as exc:
        raise SigningError(f"signing {src.name} failed: {exc}") from None
    except PermissionError:
        raise SigningError(f"{src}: cannot read (permission denied)") from None


def _sign_to(
    spec: ManifestSpec, identity: SigningIdentity, src: Path, fmt: str, dest: Any, *, embed: bool, options: SignOptions
) -> bytes:
    identity.check_valid()
    builder, handles = _builder(spec, fmt, options)
    signer = identity.c2pa_signer()
    try:
        if not embed:
            builder.set_no_embed()
        with _signing_errors(src), open(src, "rb") as source:
            return builder.sign(signer, fmt, HugePageReads(source), dest)
    finally:
        signer.close()
        builder.close()
        for h in handles:
            h.close()


def _embeddable_layout(src: Path, options: SignOptions) -> _embeddable.Layout | None:
    """The source's layout when the embeddable path can reproduce it, else None (a cheap scan:
    box headers plus the moov / moof / mfra bodies)."""
    if options.verify_after_sign:  # only Builder.sign re-reads and verifies its output
        return None
    try:
        return _embeddable.scan(src)
    except _embeddable.Unsupported:
        return None


def _sign_embeddable(
    spec: ManifestSpec,
    identity: SigningIdentity,
    src: Path,
    fmt: str,
    layout: _embeddable.Layout,
    out_fd: int,
    *,
    options: SignOptions,
) -> bytes | None:
    """The manifest store, signed and embedded into ``out_fd`` the fast way; None (nothing
    written) when ``_embeddable`` cannot take this file after all."""
    identity.check_valid()
    signer = identity.c2pa_signer()
    try:
        context = options.context(signer=signer)  # consumes the signer
    except BaseException:
        signer.close()
        raise
    try:
        builder, handles = _builder(spec, fmt, options, context)
    except BaseException:
        context.close()
        raise
    try:
        try:
            plan = _embeddable.prepare(builder._handle, fmt, layout)
        except _embeddable.Unsupported:
            return None
        with _signing_errors(src), open(src, "rb") as source:
            # The scan, the copy and c2pa-rs's hash must all see one unchanged file.
            if _embeddable.file_identity(os.fstat(source.fileno())) != layout.identity:
                raise SigningError(f"{src} changed after it was scanned")
            box = _embeddable.write_and_sign(builder._handle, fmt, plan, source.fileno(), out_fd)
            if _embeddable.file_identity(os.fstat(source.fileno())) != layout.identity:
                raise SigningError(f"{src} changed while it was being signed")
            return _embeddable.manifest_store(box)
    finally:
        builder.close()
        context.close()
        for h in handles:
            h.close()


def _atomic_output(dst: Path) -> tuple[Any, Path]:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    except OSError as exc:
        raise OutputError(f"{dst}: cannot write here ({exc.strerror})") from None
    return os.fdopen(fd, "w+b"), Path(tmp)


def sign_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    spec: ManifestSpec,
    identity: SigningIdentity,
    force: bool = True,
    options: SignOptions | None = None,
) -> SignedAsset:
    """Embed a signed manifest for ``spec`` into a copy of ``src`` at ``dst`` (atomic).

    The embeddable path runs when ``_embeddable.scan`` accepts the source and the library
    offers it; anything else (and ``verify_after_sign``, which only ``Builder.sign`` does) takes
    ``Builder.sign``. Signing errors raise SigningError on either path: there is no retry.
    """
    src, dst = Path(src), Path(dst)
    fmt = _check_paths(src, dst, force=force)
    if fmt not in EMBEDDABLE:
        raise SigningError(f"{src}: {fmt} cannot carry an embedded manifest here; use sign_sidecar")
    options = options or SignOptions()
    layout = _embeddable_layout(src, options)
    handle, tmp = _atomic_output(dst)
    try:
        with handle:
            store = None
            if layout is not None:
                store = _sign_embeddable(spec, identity, src, fmt, layout, handle.fileno(), options=options)
            writer = None
            if store is None:  # the embeddable path declined before writing: the temp file is empty
                writer = HashingWriter(handle)
                store = _sign_to(spec, identity, src, fmt, writer, embed=True, options=options)
            handle.flush()
            os.fsync(handle.fileno())
        file_sha: str | None
        if writer is not None:
            file_sha = writer.hexdigest(tmp)
        else:  # the embeddable path wrote the manifest last, at the front: one more read
            file_sha = sha256_file(tmp) if options.output_sha256 else None
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{dst}: write failed ({exc.strerror})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return SignedAsset(
        path=dst,
        manifest_digest=hashlib.sha256(store).hexdigest(),
        manifest_label=active_label(store),
        file_sha256=file_sha,
        signer=identity.signer,
        manifest_json=_store_json(store),
        manifest_bytes=store,
        method="builder" if writer else "embeddable",
    )


def sign_sidecar(
    src: str | os.PathLike[str],
    sidecar: str | os.PathLike[str] | None = None,
    *,
    spec: ManifestSpec,
    identity: SigningIdentity,
    options: SignOptions | None = None,
) -> SignedAsset:
    """Write the manifest store for ``src`` to a ``.c2pa`` sidecar; ``src`` is left untouched.

    The hard binding still covers ``src``'s bytes, so the sidecar verifies only beside them.
    """
    src = Path(src)
    out = Path(sidecar) if sidecar else src.with_suffix(".c2pa")
    fmt = _check_paths(src, out, force=True)
    # c2pa-rs writes a full copy of the asset even without embedding; send it to a scratch file.
    scratch, scratch_path = _atomic_output(out)
    try:
        with scratch:
            store = _sign_to(spec, identity, src, fmt, scratch, embed=False, options=options or SignOptions())
    finally:
        scratch_path.unlink(missing_ok=True)
    try:
        write_secret_file(out, store)
        out.chmod(0o644)
    except OSError as exc:
        raise OutputError(f"{out}: write failed ({exc.strerror})") from None
    return SignedAsset(
        path=out,
        manifest_digest=hashlib.sha256(store).hexdigest(),
        manifest_label=active_label(store),
        file_sha256=sha256_file(src),
        signer=identity.signer,
        manifest_json=_store_json(store),
        manifest_bytes=store,
        sidecar=out,
    )
