"""Likeness registry: enrolled people's face descriptors (never photos), sealed at rest.

    from governance.records.likeness import LikenessStore
    store = LikenessStore(engine, passphrase=settings.key_passphrase, audit=audit)
    store.enroll(person_id="jane-doe", descriptors=[...], embedder="dlib-resnet-v1", name="Jane Doe")
    store.gallery(embedder="dlib-resnet-v1")   # GalleryRows: person ids + opened descriptors
    store.remove(person_id="jane-doe")         # erases the descriptors; the audit log keeps the fact

Descriptors are computed by ``detectors.faces`` in the flows (``governance.flows.likeness``);
this layer only stores them.
"""

from governance.records.likeness.events import (
    LIKENESS_EVENT_TYPES,
    LikenessEnrolledEvent,
    LikenessLicenseUsedEvent,
    LikenessRefusalEvent,
    LikenessRemovedEvent,
    LikenessScanEvent,
)
from governance.records.likeness.models import LikenessDescriptor, LikenessKeyring, LikenessPerson
from governance.records.likeness.store import (
    EnrolledPerson,
    GalleryRows,
    LikenessError,
    LikenessStore,
    PersonNotEnrolled,
    check_person_id,
)

__all__ = [
    "LikenessStore",
    "LikenessError",
    "PersonNotEnrolled",
    "EnrolledPerson",
    "GalleryRows",
    "check_person_id",
    "LikenessPerson",
    "LikenessDescriptor",
    "LikenessKeyring",
    "LikenessEnrolledEvent",
    "LikenessRemovedEvent",
    "LikenessScanEvent",
    "LikenessRefusalEvent",
    "LikenessLicenseUsedEvent",
    "LIKENESS_EVENT_TYPES",
]
