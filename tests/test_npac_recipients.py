"""Who hears of each subscription-version change, checked against the IIS flows (05-iis-flows-a.md
§6.4, seed L31776-34016) rather than against the machine: old SP then new SP where the flow draws
both, the current SP alone where it draws only the current SOA. Machine-level: the Notify effects of
`step_tn` (the outbox keeps their order, `test_npac_notifier`)."""
from __future__ import annotations

import dataclasses

from appliance.npac.effects import Notify
from appliance.npac.events import (
    NPAC_PERSONNEL, Activate, BroadcastComplete, Cancel, Disconnect, Modify, Resend, SetConflict, Superseded,
)
from appliance.npac.model import LnpType
from appliance.npac.timers import TimerKind
from appliance.npac.versions import _data_audience, audience
from tests.test_npac_versions import (
    D, H, LRN_NEW, LSMS, NEW, OLD, T0, THIRD, Port, active, new_create, old_create, pending, soa,
)


def told(port: Port) -> list[tuple[str, int, tuple[str, ...]]]:
    return [(n.notification.value, n.version_id, n.recipients) for n in port.of(Notify)]


BOTH = (OLD, NEW)  # the old SP's SOA first, then the new SP's (05 §A.2)


def test_6_4_1_1_old_sp_create_objectcreation_to_old_then_new():
    port = Port()
    port.do(old_create(True))
    assert told(port) == [("objectCreation", 1, BOTH)]


def test_6_4_1_3_new_sp_joins_old_then_new_told_of_the_new_due_date():
    """f: the old SOA hears when subscriptionNewSP-DueDate changes value; h: the new SOA hears of every
    attribute updated."""
    port = Port()
    port.do(old_create(True))
    port.do(new_create(), at=T0 + H)
    assert told(port) == [("attributeValueChange", 1, BOTH)]


def test_6_4_1_3_old_sp_not_told_when_the_new_due_date_did_not_change():
    """6.4.1.3 f is conditional: a join that leaves subscriptionNewSP-DueDate as it was is the new SP's
    news alone."""
    port = Port()
    port.do(old_create(True))
    before = port.v()
    after = dataclasses.replace(before, new_sp_creation_ms=T0 + H, lrn=LRN_NEW)
    assert _data_audience(before, after, BOTH) == (NEW,)
    assert _data_audience(before, dataclasses.replace(after, new_sp_due_date_ms=T0 + D), BOTH) == BOTH


def test_6_4_1_4_old_sp_joins_both_told():
    port = Port()
    port.do(new_create())
    port.do(old_create(True), at=T0 + H)
    assert told(port) == [("attributeValueChange", 1, BOTH)]


def test_6_4_1_5_and_6_4_1_6_activation_status_to_both():
    port = pending()
    port.do(Activate(soa(NEW)), at=T0 + D)
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 1, BOTH)]
    port.do(BroadcastComplete(LSMS, ()))
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 1, BOTH)]


def test_6_4_1_8_concurrence_request_to_the_silent_sp_only():
    port = Port()
    port.do(new_create())
    port.expire(TimerKind.INITIAL_CONCURRENCE)
    assert told(port) == [("subscriptionVersionOldSP-ConcurrenceRequest", 1, (OLD,))]


def test_6_4_2_partial_failure_with_the_failed_list_to_both():
    port = pending()
    port.do(Activate(soa(NEW)), at=T0 + D)
    port.do(BroadcastComplete((OLD, NEW), (THIRD,)))
    [notice] = port.of(Notify)
    assert (notice.recipients, notice.failed_sps) == (BOTH, (THIRD,))


def test_6_4_3_1_modify_of_the_active_version_told_to_the_current_sp_alone():
    """f, h, o: "NPAC -> current SOA" at every step; the retired version (T22) likewise."""
    port = active()
    port.do(Modify(soa(NEW), {"lrn": LRN_NEW, "cnam_ssn": 7}), at=T0 + 2 * D)
    assert told(port) == [("objectCreation", 2, (NEW,))]
    port.do(BroadcastComplete(LSMS, ()))
    assert sorted(told(port)) == [("subscriptionVersionStatusAttributeValueChange", 1, (NEW,)),
                                  ("subscriptionVersionStatusAttributeValueChange", 2, (NEW,))]


def test_6_4_3_1_failed_modify_and_its_resend_stay_with_the_current_sp():
    port = active()
    port.do(Modify(soa(NEW), {"cnam_ssn": 7}), at=T0 + 2 * D)
    port.do(BroadcastComplete((), LSMS))
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 2, (NEW,))]
    port.do(Resend(NPAC_PERSONNEL, LSMS))
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 2, (NEW,))]


def test_6_4_4_modify_before_activation_status_then_data_to_both():
    """f-i the status change "if appropriate", then j-m the changed data, each old SOA first."""
    port = pending()
    port.do(Modify(soa(OLD), {"old_sp_authorization": False}), at=T0 + 2 * H)
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 1, BOTH),
                          ("attributeValueChange", 1, BOTH)]
    port = pending()
    port.do(Modify(soa(NEW), {"cnam_ssn": 9}), at=T0 + 2 * H)
    assert told(port) == [("attributeValueChange", 1, BOTH)]


def test_6_4_5_1_cancel_to_both():
    port = pending()
    port.do(Cancel(soa(OLD)), at=T0 + 2 * H)
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 1, BOTH)]


def test_6_4_6_1_immediate_disconnect_told_to_the_current_sp_alone():
    """f, l, s: "NPAC -> SOA" (the flow's actors: the current SP's SOA and the donor's); the donor hears
    through its own notice (h)."""
    port = active()
    port.do(Disconnect(soa(NEW), T0 + 2 * D), at=T0 + 2 * D)
    assert [n for n in told(port) if n[0].startswith("subscriptionVersionStatus")] == [
        ("subscriptionVersionStatusAttributeValueChange", 1, (NEW,))]
    port.do(BroadcastComplete(LSMS, ()))
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 1, (NEW,))]


def test_6_4_6_2_deferred_disconnect_told_to_the_current_sp_alone():
    port = active()
    port.do(Disconnect(soa(NEW), T0 + 2 * D, T0 + 5 * D), at=T0 + 2 * D)
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 1, (NEW,))]
    port.expire(TimerKind.DEFERRED_DISCONNECT)
    assert [n for n in told(port) if n[0].startswith("subscriptionVersionStatus")] == [
        ("subscriptionVersionStatusAttributeValueChange", 1, (NEW,))]


def test_6_4_7_1_conflict_by_the_npac_to_both():
    port = pending()
    port.do(SetConflict(NPAC_PERSONNEL), at=T0 + 2 * H)
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 1, BOTH)]


def test_6_4_10_intra_sp_port_to_the_one_sp():
    """f: the creation notice to that SOA; then status changes "only to the new SP"."""
    port = active()
    port.do(new_create(old=NEW, new=NEW, due=T0 + 3 * D, lnp_type=LnpType.LISP), at=T0 + 2 * D)
    assert told(port) == [("objectCreation", 2, (NEW,))]
    port.do(Activate(soa(NEW)), at=T0 + 3 * D)
    assert told(port) == [("subscriptionVersionStatusAttributeValueChange", 2, (NEW,))]


def test_a_new_port_superseding_the_active_version_keeps_both_parties_L36500():
    """T22 after a different port's activation is no flow's step: the retired version's own SPs hear."""
    port = active()
    port.do(new_create(old=NEW, new=THIRD, due=T0 + 3 * D), at=T0 + 2 * D)
    port.do(old_create(True, old=NEW, new=THIRD, due=T0 + 3 * D))
    port.do(Activate(soa(THIRD)), at=T0 + 3 * D)
    port.do(BroadcastComplete(LSMS, ()))
    assert ("subscriptionVersionStatusAttributeValueChange", 1, BOTH) in told(port)
    assert audience(port.v(1), port.v(1), Superseded()) == BOTH
    assert audience(port.v(1), port.v(1), Superseded(by_modify=True)) == (NEW,)
