"""ReelGuard prompt policy: versioned YAML packs, evasion-proof matching, explained decisions.

    from policies import PolicyEngine
    engine = PolicyEngine.load()                      # bundled packs; semantic=False skips MiniLM
    decision = engine.check("Mickey Mouse skiing", jurisdiction="eu")
    decision.action, decision.allowed, decision.reason, decision.pack_digest

This package imports only the standard library and third-party code, never ``governance``.
"""

from policies.base import Action, ConsentLookup, PolicyDecision, RuleHit
from policies.engine import DEFAULT_SCOPE, ExampleResult, PolicyEngine
from policies.errors import PolicyError, PolicyPackError, PromptError
from policies.jurisdictions import PROFILES, JurisdictionProfile, VisibleLabelSpec, get_profile
from policies.normalize import MAX_PROMPT_BYTES, normalize, tokenize
from policies.schema import PackSource

__all__ = [
    "Action",
    "ConsentLookup",
    "DEFAULT_SCOPE",
    "ExampleResult",
    "JurisdictionProfile",
    "MAX_PROMPT_BYTES",
    "PROFILES",
    "PackSource",
    "PolicyDecision",
    "PolicyEngine",
    "PolicyError",
    "PolicyPackError",
    "PromptError",
    "RuleHit",
    "VisibleLabelSpec",
    "get_profile",
    "normalize",
    "tokenize",
]
