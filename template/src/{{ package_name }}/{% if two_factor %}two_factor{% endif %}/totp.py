"""TOTP as authenticator apps speak it (RFC 6238): 6 digits, 30-second steps, SHA-1."""

import hmac
from datetime import datetime

import pyotp
import segno

#: Codes of the step before and after the current one are accepted, for clocks that drift
#: and codes typed at the turn of a step; no more.
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits, base32: what apps expect."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The `otpauth://` URI an app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The URI as a QR code, an SVG `data:` URI that an `<img>` shows as it is."""
    return segno.make(uri, error="m").svg_data_uri(scale=4)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is, within the drift allowed around `now`; None when the
    code matches none."""
    totp = pyotp.TOTP(secret)
    code = code.replace(" ", "")
    if len(code) != totp.digits or not code.isascii() or not code.isdigit():
        return None
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
