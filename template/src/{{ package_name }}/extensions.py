"""What plugs into the seams of the domains: sign-in steps (auth), account-life listeners
(users), and the rules of the clean-up, each domain's own.

The app, the CLI and the worker take `EXTENSIONS`; a feature adds itself here, and the domains
it plugs into never import it. A test plugs in its own with `dataclasses.replace(EXTENSIONS, ...)`.
"""

from dataclasses import dataclass, field

from .auth.repository import expired_sign_in_rows
from .auth.steps import SignInStep
from .core.audit import expired_audit_events
from .core.cleanup import ExpiryRule
from .users.lifecycle import AccountLife


@dataclass(frozen=True, slots=True)
class Extensions:
    sign_in_steps: tuple[SignInStep, ...] = ()
    account_life: AccountLife = field(default_factory=AccountLife)
    clean_up: tuple[ExpiryRule, ...] = ()


EXTENSIONS = Extensions(clean_up=(expired_sign_in_rows, expired_audit_events))
