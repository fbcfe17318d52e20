"""Who ReelGuard signs as and whom it trusts: keys, signing, time-stamps, the manifest store and
the verification trust store. Imports only ``governance.core`` (and the leaf packages)."""
