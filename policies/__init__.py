"""ReelGuard prompt policy: versioned YAML packs, evasion-proof matching, explained decisions.

    from policies import PolicyEngine
    engine = PolicyEngine.load()                      # bundled packs; semantic=False skips the model
    engine = PolicyEngine.shared()                    # the same, loaded once per process (warm path)
    decision = engine.check("Mickey Mouse skiing", jurisdiction="eu")
    decision.action, decision.allowed, decision.reason, decision.pack_digest

Names are matched in 12 languages (``policies.scripts`` for kana, Hangul, Cyrillic, Arabic and
Devanagari), indirect references through entity ``aliases``, meaning through a multilingual
sentence encoder (``policies.multilingual``; ``semantic_model="minilm"`` for the English one), and
context (negation, documentary framing) through ``policies.context``. Importing this package
loads no model. It imports only the standard library and third-party code, never ``governance``.
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
