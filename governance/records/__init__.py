"""What ReelGuard remembers: storage and migrations, the audit log, consent, the registry store.
Imports only ``governance.core`` (and the leaf packages)."""
