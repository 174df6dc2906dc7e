"""Your own domains, plugged into the API beside the template's: their routers, and the sections
they add to GET /users/me.

The template writes this file when the service is made and never changes it afterwards, so what
you list here never meets an update's changes; `api.py`, which the features make up, changes
whenever a feature is turned on or off.
"""

from fastapi import APIRouter

from .users.profile import ProfileSection

#: Mounted under the API prefix, after the template's routers.
ROUTERS: tuple[APIRouter, ...] = ()

#: Shown on GET /users/me (and in its schema) after the template's sections.
PROFILE_SECTIONS: tuple[ProfileSection, ...] = ()
