"""Real LNP values for association-level tests: one NewSP-Create (the new SP's M-ACTION) and the
VersionNewSP-CreateRequest notification the NPAC sends the old SP, built with the LNP-ASN1 types.

Seed lines ("L42882") point into shared/seeds/003_143becf4141144f2.txt.
"""
from __future__ import annotations

import datetime as dt

from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.osi import cmip
from tests.support.lnp_rig import graphic, npac_dn, rdn

ACTION = "subscriptionVersionNewSP-Create"  # GDMO L41106
NOTIFICATION = "subscriptionVersionNewSP-CreateRequest"  # GDMO L41814
NEW_SP, OLD_SP, OTHER_NEW_SP = "0001", "0002", "0003"
PORTED_TN, NOTIFIED_TN = "3035551234", "3035550001"
VERSION_ID = 42
DUE = dt.datetime(2025, 3, 4, 12, 0, tzinfo=dt.timezone.utc)


def generalized_time(when: dt.datetime) -> str:
    return when.strftime("%Y%m%d%H%M%SZ")


def subscriptions_dn() -> tuple:
    return npac_dn() + (rdn("lnpSubscriptionsName", graphic("lnpSubscriptions")),)


def version_dn(version_id: int = VERSION_ID) -> tuple:
    value = asn1.encode(asn1.type_class("SubscriptionVersionId")(version_id))
    return subscriptions_dn() + (rdn("subscriptionVersionId", value),)


def new_sp_create() -> bytes:
    """NewSP-CreateAction = NewSP-CreateData (L42882): the new SP ports one TN from the old SP."""
    data = OIDS.syntax_class(OIDS.action(ACTION))()
    data["chc1"]["subscription-version-tn"] = PORTED_TN
    data["subscription-lrn"] = b"30355"
    data["subscription-new-current-sp"] = NEW_SP
    data["subscription-old-sp"] = OLD_SP
    data["subscription-new-sp-due-date"] = generalized_time(DUE)
    data["subscription-lnp-type"] = "lspp"
    data["subscription-porting-to-original-sp-switch"] = False
    return asn1.encode(data)


def new_sp_create_handler(ctx) -> cmip.ActionResult:
    """The NPAC's side of the action: decode the LNP information, answer NewSP-CreateReply."""
    action = OIDS.action(ACTION)
    data = asn1.decode(OIDS.syntax_class(action), ctx.request.action_info)
    reply = OIDS.syntax_class(action, reply=True)()
    reply["status"] = "success"
    reply["invalid-data"] = data
    return cmip.ActionResult(action_type=ctx.request.action_type, reply_info=asn1.encode(reply))


def new_sp_create_request(access_control_tlv: bytes) -> bytes:
    """VersionNewSP-CreateRequest (L43452), the build_info of NpacAgent.send_event: its access
    control sits one level down, in version-create-request (VersionCreateConcurrenceRequest,
    L43398)."""
    info = OIDS.syntax_class(OIDS.notification(NOTIFICATION))()
    request = info["version-create-request"]
    request["tn"] = NOTIFIED_TN
    request["version-id"] = VERSION_ID
    request["service-prov-id"] = OTHER_NEW_SP
    request["service-prov-due-date"] = generalized_time(DUE)
    request["service-prov-authorization-time-stamp"] = generalized_time(DUE - dt.timedelta(days=3))
    asn1.set_component(request, "access-control", asn1.decode("LnpAccessControl", access_control_tlv))
    info["service-prov-old-authorization"] = True
    return asn1.encode(info)
