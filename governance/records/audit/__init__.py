"""The tamper-evident audit log (RFC 9162 Merkle tree, C2SP signed checkpoints) and its reports.

from governance.records.audit import AuditLog
log = AuditLog(engine)
entry = log.append(session, event, actor="cli")   # in the caller's transaction
entry.leaf_index, entry.event_id, entry.leaf_hash
log.prove(entry.event_id).verify(); log.verify()  # -> VerifyResult
"""

from governance.records.audit.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    load_checkpoint,
    load_or_create_signer,
    load_verifier,
    sign_checkpoint,
)
from governance.records.audit.log import (
    AuditLog,
    ConsistencyProof,
    InclusionProof,
    VerifyFailure,
    VerifyResult,
    WitnessCheck,
)
from governance.records.audit.models import AuditEntry, AuditEntryPublic
from governance.records.audit.witness import DirectoryWitness, HttpWitness, witness_for

__all__ = [
    "AuditLog",
    "AuditEntry",
    "AuditEntryPublic",
    "InclusionProof",
    "ConsistencyProof",
    "VerifyResult",
    "VerifyFailure",
    "WitnessCheck",
    "DirectoryWitness",
    "HttpWitness",
    "witness_for",
    "Checkpoint",
    "NoteSigner",
    "NoteVerifier",
    "load_checkpoint",
    "load_or_create_signer",
    "load_verifier",
    "sign_checkpoint",
]
