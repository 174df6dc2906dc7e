"""Two-factor sign-in: TOTP apps, backup codes, and the second step of sign-in."""
