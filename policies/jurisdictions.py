"""Jurisdiction profiles: what the pipeline must add to an allowed generation, per market.

Obligations use a small fixed vocabulary the flows act on:
``c2pa`` (signed manifest), ``watermark`` (invisible mark), ``visible-label`` (text burned into
the video), ``gb45438-implicit`` (China GB 45438-2025 implicit metadata), ``sb942-latent``
(California SB 942 latent disclosure fields), ``deepfake-disclosure`` (a real person is shown).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.errors import PolicyError

__all__ = ["JurisdictionProfile", "VisibleLabelSpec", "PROFILES", "OBLIGATIONS", "get_profile"]

OBLIGATIONS = ("c2pa", "watermark", "visible-label", "gb45438-implicit", "sb942-latent", "deepfake-disclosure")


@dataclass(frozen=True, slots=True)
class VisibleLabelSpec:
    """A label burned into the frames: height as a share of the shorter side, shown from the start."""

    text: str
    min_height_ratio: float
    min_seconds: float
    position: str = "start"


@dataclass(frozen=True, slots=True)
class JurisdictionProfile:
    code: str
    name: str
    laws: tuple[str, ...]
    obligations: tuple[str, ...]
    # Added when the video shows a real person (licensed likeness) or a rule asks for disclosure.
    disclosure_obligations: tuple[str, ...] = ("deepfake-disclosure",)
    visible_label: VisibleLabelSpec | None = None
    metadata_fields: tuple[str, ...] = field(default=())

    def obligations_for(self, *, disclosure: bool) -> tuple[str, ...]:
        extra = self.disclosure_obligations if disclosure else ()
        return tuple(dict.fromkeys(self.obligations + extra))

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "laws": list(self.laws),
            "obligations": list(self.obligations),
            "disclosure_obligations": list(self.disclosure_obligations),
            "visible_label": None
            if self.visible_label is None
            else {
                "text": self.visible_label.text,
                "min_height_ratio": self.visible_label.min_height_ratio,
                "min_seconds": self.visible_label.min_seconds,
                "position": self.visible_label.position,
            },
            "metadata_fields": list(self.metadata_fields),
        }


PROFILES: dict[str, JurisdictionProfile] = {
    "eu": JurisdictionProfile(
        code="eu",
        name="European Union",
        laws=("EU AI Act Art. 50(2) machine-readable marking", "Art. 50(4) deepfake disclosure"),
        obligations=("c2pa", "watermark"),
    ),
    "cn": JurisdictionProfile(
        code="cn",
        name="China",
        laws=("Measures for Labeling AI-Generated Synthetic Content (2025)", "GB 45438-2025"),
        obligations=("c2pa", "watermark", "visible-label", "gb45438-implicit"),
        visible_label=VisibleLabelSpec(text="AI生成", min_height_ratio=0.05, min_seconds=2.0),
        metadata_fields=(
            "AIGC.Label",
            "AIGC.ContentProducer",
            "AIGC.ProduceID",
            "AIGC.ContentPropagator",
            "AIGC.PropagateID",
        ),
    ),
    "us-ca": JurisdictionProfile(
        code="us-ca",
        name="California, United States",
        laws=("SB 942 California AI Transparency Act",),
        obligations=("c2pa", "watermark", "sb942-latent"),
        metadata_fields=("provider_name", "system_name_version", "created_at", "unique_id"),
    ),
    "none": JurisdictionProfile(
        code="none",
        name="No jurisdiction (provenance only)",
        laws=(),
        obligations=("c2pa", "watermark"),
    ),
}


def get_profile(code: str) -> JurisdictionProfile:
    """The profile for ``code`` (``eu``, ``cn``, ``us-ca``, ``none``)."""
    try:
        return PROFILES[code.strip().lower()]
    except (KeyError, AttributeError):
        raise PolicyError(f"unknown jurisdiction {code!r}; choose one of {', '.join(PROFILES)}") from None
