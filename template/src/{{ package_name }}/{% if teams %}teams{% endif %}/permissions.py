"""Who may do what in a team: one capability table, role -> permissions.

Routes ask for a permission (`dependencies.require_permission`), never for a role, so this table
is the one place that decides. To add a permission, name it in `Permission` and add it to the
line of each role that has it; to add a role, name it in `Role` and give it one line here.
"""

from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Permission(StrEnum):
    VIEW_TEAM = "view_team"  # the team, its members; make it the current team
    UPDATE_TEAM = "update_team"  # rename it
    DELETE_TEAM = "delete_team"
    MANAGE_MEMBERS = "manage_members"  # change a member's role, remove a member
    MANAGE_INVITATIONS = "manage_invitations"  # invite, list and revoke invitations
    TRANSFER_OWNERSHIP = "transfer_ownership"


CAPABILITIES: Mapping[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission) - {Permission.DELETE_TEAM, Permission.TRANSFER_OWNERSHIP},
    Role.MEMBER: frozenset({Permission.VIEW_TEAM}),
}

#: The roles a member can be given (by invitation or a role change): a team has one owner,
#: and ownership moves only by a transfer.
ASSIGNABLE_ROLES = frozenset(Role) - {Role.OWNER}


def can(role: Role, permission: Permission) -> bool:
    return permission in CAPABILITIES[role]
