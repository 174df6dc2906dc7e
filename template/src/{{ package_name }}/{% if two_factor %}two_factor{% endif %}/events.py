"""Two-factor's events in the audit trail."""

from enum import StrEnum


class TwoFactorEvent(StrEnum):
    ENABLED = "two_factor_enabled"
    DISABLED = "two_factor_disabled"
    #: An operator (by the CLI) or a superuser (`actor_id`) removed it for account recovery.
    REMOVED = "two_factor_removed"
    #: A wrong code at any door; `detail` says which.
    CODE_REFUSED = "two_factor_code_refused"
    #: A sign-in's second step ran out of tries: someone knows the password.
    CHALLENGE_EXHAUSTED = "two_factor_challenge_exhausted"
    BACKUP_CODE_USED = "two_factor_backup_code_used"
    BACKUP_CODES_REGENERATED = "two_factor_backup_codes_regenerated"
