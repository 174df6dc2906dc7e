"""Paths that more than one domain names: where the API lives, and where to sign in."""

API_PREFIX = "/api/v1"
#: The OAuth2 password flow's token URL, which OpenAPI clients sign in with.
LOGIN_URL = f"{API_PREFIX}/auth/login"
