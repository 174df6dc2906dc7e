"""What the /auth routes check before their handlers run: the rate limits of each door."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form

from ..core.config import Settings
from ..core.dependencies import SettingsDep, ThrottleDep
from ..users.dependencies import password_guess
from ..users.identity import account_key
from .schemas import EmailAddress, LoginForm, Registration
from .service import InvalidCredentialsError


async def login_attempt(
    form: Annotated[LoginForm, Form()],
    settings: SettingsDep,
    throttle: ThrottleDep,
) -> AsyncIterator[LoginForm]:
    """A sign-in, counted per client, and per account while the password is checked: it stays
    counted there when the email or password was wrong."""
    await throttle.per_ip(settings.rate_limit_login_per_ip, "login")
    async with password_guess(settings, throttle, form.username, InvalidCredentialsError):
        yield form


async def code_attempt(settings: SettingsDep, throttle: ThrottleDep) -> None:
    """A try at an emailed code, counted per client: each code allows few tries, and this keeps
    one address from spreading its guesses over many accounts' codes."""
    await throttle.per_ip(settings.rate_limit_code_per_ip, "code-attempts")


@dataclass(frozen=True, slots=True)
class RegistrationAttempt:
    registration: Registration
    #: Whether the owner of a taken address may be told once more; the answer stays 202, so
    #: that flooding someone's inbox through registrations tells nothing either.
    may_notify_owner: bool


async def registration_attempt(
    registration: Registration, settings: SettingsDep, throttle: ThrottleDep
) -> RegistrationAttempt:
    await throttle.per_ip(settings.rate_limit_register_per_ip, "register")
    may_notify_owner = await throttle.allows(
        settings.rate_limit_verification_resend_per_email,
        "registration-notice",
        account_key(registration.email),
    )
    return RegistrationAttempt(registration, may_notify_owner)


def _limited_per_email(
    action: str, limit: Callable[[Settings], str]
) -> Callable[..., Awaitable[EmailAddress]]:
    """A request that names an email, counted against that account's limit for `action`."""

    async def dependency(
        body: EmailAddress, settings: SettingsDep, throttle: ThrottleDep
    ) -> EmailAddress:
        await throttle.per_key(limit(settings), action, account_key(body.email))
        return body

    return dependency


#: The function scope gives a right password's guess back before the answer is sent.
LoginAttempt = Annotated[LoginForm, Depends(login_attempt, scope="function")]
RegistrationAttemptDep = Annotated[RegistrationAttempt, Depends(registration_attempt)]
VerificationResend = Annotated[
    EmailAddress,
    Depends(
        _limited_per_email(
            "verification-resend",
            lambda settings: settings.rate_limit_verification_resend_per_email,
        )
    ),
]
PasswordForgotten = Annotated[
    EmailAddress,
    Depends(
        _limited_per_email(
            "password-forgot", lambda settings: settings.rate_limit_password_forgot_per_email
        )
    ),
]
