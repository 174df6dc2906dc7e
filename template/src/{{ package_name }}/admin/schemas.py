"""What superusers read of the audit trail."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    occurred_at: datetime
    event: str
    user_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    ip_address: str | None
    user_agent: str | None
    detail: str | None
