"""Whom the verifier trusts: bundled official lists, the operator's additions, the install's own CA.

    from governance.provenance.trust import TrustStore
    store = TrustStore(settings)
    store.config()            # detectors.provenance.TrustConfig for read_provenance
    store.sources()           # what is loaded, from where, how many certificates
    store.add(pem, kind="anchor") / store.add_eku("1.3.6.1.4.1.311.76.59.1.9")
    store.update("c2pa", data, origin="https://...")   # a newer copy of a bundled list

Verification trust is kept apart from the signing identity: nothing here changes who
ReelGuard signs as, and ``keys export-trust`` exports only the install's own chain.
"""

from governance.provenance.trust.lists import BUNDLED, ListSpec, parse_certificates
from governance.provenance.trust.store import TrustedCertificate, TrustSource, TrustStore

__all__ = ["TrustStore", "TrustSource", "TrustedCertificate", "BUNDLED", "ListSpec", "parse_certificates"]
