"""C2PA manifests for ReelGuard outputs: what goes in (``ManifestSpec``) and signing.

from governance.provenance.signing import ManifestSpec, SignedAsset, sign_video
signed = sign_video(src, dst, spec=spec, identity=identity)   # atomic write of dst
"""

from governance.provenance.signing.manifest import (
    AIGC_LABEL,
    GENERATION_LABEL,
    INGREDIENT_SHA256_KEY,
    SB942_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    TRAINING_MINING_LABEL,
    Ingredient,
    ManifestSpec,
    build_definition,
    policy_digest,
)
from governance.provenance.signing.sign import SignedAsset, SignOptions, active_label, sign_sidecar, sign_video

__all__ = [
    "ManifestSpec",
    "Ingredient",
    "INGREDIENT_SHA256_KEY",
    "SignedAsset",
    "SignOptions",
    "sign_video",
    "sign_sidecar",
    "build_definition",
    "policy_digest",
    "active_label",
    "GENERATION_LABEL",
    "AIGC_LABEL",
    "SB942_LABEL",
    "TRAINING_MINING_LABEL",
    "TRAINED_ALGORITHMIC_MEDIA",
]
