"""What a step asks the caller to do once the new state is committed (ARCHITECTURE: notifications
and broadcasts are derived from committed changes, never sent before commit)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.npac.model import BroadcastOp, Status, SubscriptionVersion
from appliance.npac.timers import Timer


class Notification(StrEnum):
    """GDMO notification names (subscriptionVersionNPAC-Pkg, seed L36246-36262; DECISIONS: GDMO
    spelling wins, so the flows' `subscriptionVersionNoConcurrence` is the two requests below)."""

    OBJECT_CREATION = "objectCreation"
    ATTRIBUTE_VALUE_CHANGE = "attributeValueChange"
    STATUS_CHANGE = "subscriptionVersionStatusAttributeValueChange"
    NEW_SP_CREATE_REQUEST = "subscriptionVersionNewSP-CreateRequest"
    OLD_SP_CONCURRENCE_REQUEST = "subscriptionVersionOldSP-ConcurrenceRequest"
    CONFLICT_RESOLUTION_ACK_REQUEST = "subscriptionVersionConflictResolutionAcknowledgeRequest"
    CANCELLATION_ACK_REQUEST = "subscriptionVersionCancellationAcknowledgeRequest"
    DONOR_CUSTOMER_DISCONNECT_DATE = "subscriptionVersionDonorSP-CustomerDisconnectDate"
    NEW_NPA_NXX = "subscriptionVersionNewNPA-NXX"


@dataclass(frozen=True)
class Notify:
    """An M-EVENT-REPORT to the SOAs of `recipients` (SP ids)."""

    notification: Notification
    version_id: int
    recipients: tuple[str, ...]
    failed_sps: tuple[str, ...] = ()  # VersionStatusAttributeValueChange failed-service-provs


@dataclass(frozen=True)
class NotifyDonor:
    """RR5-25.2: just before the disconnect goes out, the donor SOA (owner of the NPA-NXX) hears the
    customer disconnect and effective release dates. The caller resolves the donor."""

    version_id: int
    tn: str
    customer_disconnect_date_ms: int | None
    effective_release_date_ms: int | None


@dataclass(frozen=True)
class AnnounceNpaNxx:
    """RR5-3: the first activation in an NPA-NXX is announced to every LSMS (NewNPA-NXX)."""

    version_id: int
    npa_nxx: str


@dataclass(frozen=True)
class AlertAdministrator:
    """R5-60.10, R5-61.2, R5-67.2, R5-68.8: the NPAC SMS administrator hears of failed LSMSs."""

    version_id: int
    reason: str
    lsms: tuple[str, ...]


@dataclass(frozen=True)
class Broadcast:
    """Send the version to LSMSs; `lsms` None = all LSMSs accepting downloads (R5-55)."""

    version_id: int
    operation: BroadcastOp
    lsms: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StartTimer:
    timer: Timer


@dataclass(frozen=True)
class CancelTimer:
    timer: Timer


@dataclass(frozen=True)
class StatusChanged:
    """For the transaction log (R5-6) and reports: which FRS transition moved which version."""

    version_id: int
    tn: str
    before: Status | None
    after: Status
    transition: str


@dataclass(frozen=True)
class Purge:
    """Housekeeping: the retention of an old or canceled version ran out (R5-2, R5-3)."""

    version_id: int


# Effects on sibling versions of the same TN; `step_tn` resolves them, callers of `step` see them.
@dataclass(frozen=True)
class CreateVersion:
    version: SubscriptionVersion


@dataclass(frozen=True)
class SupersedeActive:
    """Transition 22: the previously active version of the TN becomes old."""

    tn: str
    by_version_id: int


@dataclass(frozen=True)
class ConflictUnauthorizedPending:
    """Transition 7C2 / R5-64.6: an immediate disconnect puts the unauthorized pending version in conflict."""

    tn: str
    by_version_id: int


Effect = (Notify | NotifyDonor | AnnounceNpaNxx | AlertAdministrator | Broadcast | StartTimer
          | CancelTimer | StatusChanged | Purge | CreateVersion | SupersedeActive
          | ConflictUnauthorizedPending)
SIBLING_EFFECTS = (CreateVersion, SupersedeActive, ConflictUnauthorizedPending)
