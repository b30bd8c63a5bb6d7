"""Registry of the LNP GDMO registrations (NANC IIS chapter 7) and the standard ones the MOCS uses.

`gdmo.json` (next to this file) holds the GDMO catalogue: 21 managed object classes, 15 name
bindings, 100 attributes, 14 actions, 11 notifications, 24 registered packages and 1 parameter,
each with its arc number under the LNP-OIDS category (lnp-net = 2.16.840.1.4: attribute(1)
objectClass(2) nameBinding(3) notification(4) action(5) package(6) parameter(7)), its syntax as
printed in the GDMO, and its seed line; plus the X.721 / M.3100 items the conformance statements
(iis-conformance.json) name. The category arcs themselves come from the parsed LNP-OIDS module.

Where the MOCS and the GDMO disagree (swapped or mistyped OIDs), the GDMO wins (DECISIONS.md §2).
Syntax references are normalised: `LNP-ASN1.X`, `LNP-ASN1-1.X` and a bare `X` all name type X of
LNP-ASN1; `Attribute-ASN1Module.AttributeValueChangeInfo` (attribute 98) is the type LNP-ASN1
imports from Notification-ASN1Module.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from appliance.lnp.asn1 import IMPORTED_FROM, IMPORTED_TYPES, OID_VALUES, STANDARD_FROM, STANDARD_TYPES, TYPES

LNP_MODULE = "LNP-ASN1"
KINDS = ("attribute", "objectClass", "nameBinding", "notification", "action", "package", "parameter")
_ARCS = {kind: f"lnp-{kind}" for kind in KINDS}
# Section of gdmo.json per kind (the LNP ones; "standard" holds the rest).
_SECTIONS = {
    "attribute": "attributes", "objectClass": "object_classes", "nameBinding": "name_bindings",
    "notification": "notifications", "action": "actions", "package": "packages",
    "parameter": "parameters",
}
_LNP_PREFIXES = ("LNP-ASN1.", "LNP-ASN1-1.")
ROOT = "root"  # the X.660 root, superior of the two MIB roots (lnpNPAC-SMS, lnpLocalSMS)


@dataclass(frozen=True)
class Oid:
    """One registration. `asn1_type` is the attribute / parameter syntax, an action's information
    syntax or a notification's information syntax, in module `module`; `reply_type` is an
    action's reply syntax."""

    name: str
    oid: str
    kind: str
    asn1_type: str | None = None
    reply_type: str | None = None
    module: str | None = None
    printed_syntax: str | None = None
    standard: bool = False
    seed_line: int | None = None


@dataclass(frozen=True)
class NameBinding:
    name: str
    oid: str
    subordinate: str
    superior: str
    naming_attribute: str
    subordinate_and_subclasses: bool
    superior_and_subclasses: bool
    create_with_reference_object: bool
    create_with_automatic_naming: bool
    delete_only_if_no_contained_objects: bool
    # False for the nine containers: "create/delete through the interface is not supported".
    create_delete_through_interface: bool
    standard: bool = False


@dataclass(frozen=True)
class PackageUse:
    name: str
    mandatory: bool
    condition: str


@dataclass(frozen=True)
class ObjectClass:
    name: str
    oid: str
    derived_from: str
    packages: tuple[PackageUse, ...]
    actions: tuple[str, ...]
    notifications: tuple[str, ...]
    seed_line: int


def _split_syntax(printed: str | None) -> tuple[str | None, str | None]:
    """(module, type) of a printed GDMO syntax reference."""
    if printed is None:
        return None, None
    for prefix in _LNP_PREFIXES:
        if printed.startswith(prefix):
            return LNP_MODULE, printed[len(prefix):]
    if "." not in printed:
        return LNP_MODULE, printed
    module, name = printed.rsplit(".", 1)
    if name in IMPORTED_TYPES:
        # Attribute 98 names the wrong X.721 module; the type is the one LNP-ASN1 imports.
        return IMPORTED_FROM[name], name
    return module, name


class Registry:
    def __init__(self, data: dict, arcs: dict[str, str]):
        self._by_kind: dict[str, dict[str, Oid]] = {kind: {} for kind in KINDS}
        self._by_oid: dict[str, Oid] = {}
        self._bindings: dict[str, NameBinding] = {}
        self._classes: dict[str, ObjectClass] = {}
        for kind, section in _SECTIONS.items():
            for entry in data[section]:
                self._add_entry(kind, entry, f"{arcs[_ARCS[kind]]}.{entry['n']}", standard=False)
        for kind, section in _SECTIONS.items():
            for entry in data["standard"].get(section, ()):
                self._add_entry(kind, entry, entry["oid"], standard=True)

    def _add_entry(self, kind: str, entry: dict, oid: str, standard: bool) -> None:
        printed = entry.get("syntax") or entry.get("information")
        module, asn1_type = _split_syntax(printed)
        _, reply = _split_syntax(entry.get("reply"))
        record = Oid(
            name=entry["name"], oid=oid, kind=kind, asn1_type=asn1_type, reply_type=reply,
            module=module, printed_syntax=printed, standard=standard, seed_line=entry.get("seed_line"),
        )
        if record.name in self._by_kind[kind]:
            raise ValueError(f"gdmo.json: {kind} {record.name} registered twice")
        if oid in self._by_oid:
            clash = self._by_oid[oid].name
            raise ValueError(f"gdmo.json: OID {oid} of {record.name} already used by {clash}")
        self._by_kind[kind][record.name] = record
        self._by_oid[oid] = record
        if kind == "nameBinding":
            fields = {k: entry[k] for k in NameBinding.__dataclass_fields__ if k in entry and k != "oid"}
            self._bindings[record.name] = NameBinding(oid=oid, standard=standard, **fields)
        elif kind == "objectClass":
            self._classes[record.name] = ObjectClass(
                name=record.name, oid=oid, derived_from=entry["derived_from"],
                packages=tuple(PackageUse(**p) for p in entry["packages"]),
                actions=tuple(entry["actions"]), notifications=tuple(entry["notifications"]),
                seed_line=entry["seed_line"],
            )

    # -- lookups by name and by OID ----------------------------------------------------------------
    def get(self, kind: str, name: str) -> Oid:
        try:
            return self._by_kind[kind][name]
        except KeyError:
            raise KeyError(f"no {kind} named {name!r}") from None

    def attribute(self, name: str) -> Oid:
        return self.get("attribute", name)

    def object_class(self, name: str) -> Oid:
        return self.get("objectClass", name)

    def action(self, name: str) -> Oid:
        return self.get("action", name)

    def notification(self, name: str) -> Oid:
        return self.get("notification", name)

    def package(self, name: str) -> Oid:
        return self.get("package", name)

    def parameter(self, name: str) -> Oid:
        return self.get("parameter", name)

    def by_oid(self, oid: str) -> Oid:
        try:
            return self._by_oid[oid]
        except KeyError:
            raise KeyError(f"no registration with OID {oid}") from None

    def find(self, oid: str) -> Oid | None:
        return self._by_oid.get(oid)

    def all(self, kind: str | None = None) -> list[Oid]:
        if kind is None:
            return list(self._by_oid.values())
        return list(self._by_kind[kind].values())

    # -- syntaxes --------------------------------------------------------------------------------
    def attribute_type(self, name: str) -> str:
        return self.attribute(name).asn1_type

    def action_info_type(self, name: str) -> str:
        return self.action(name).asn1_type

    def action_reply_type(self, name: str) -> str:
        return self.action(name).reply_type

    def notification_type(self, name: str) -> str:
        return self.notification(name).asn1_type

    def syntax_class(self, record: Oid, reply: bool = False) -> type | None:
        """The pyasn1 class of a record's syntax; None for standard types not defined here."""
        type_name = record.reply_type if reply else record.asn1_type
        if type_name is None:
            return None
        if record.module == LNP_MODULE:
            return TYPES[type_name]
        if IMPORTED_FROM.get(type_name) == record.module:
            return IMPORTED_TYPES[type_name]
        if STANDARD_FROM.get(type_name) == record.module:
            return STANDARD_TYPES[type_name]
        return None

    # -- classes and containment --------------------------------------------------------------
    def class_info(self, name: str) -> ObjectClass:
        try:
            return self._classes[name]
        except KeyError:
            raise KeyError(f"no LNP object class named {name!r}") from None

    def superclasses(self, name: str) -> list[str]:
        """The DERIVED FROM chain of an LNP class, nearest first (stops at a non-LNP class)."""
        chain: list[str] = []
        while name in self._classes:
            name = self._classes[name].derived_from
            chain.append(name)
        return chain

    def is_a(self, name: str, ancestor: str) -> bool:
        return name == ancestor or ancestor in self.superclasses(name)

    def name_binding(self, name_or_oid: str) -> NameBinding:
        if name_or_oid in self._bindings:
            return self._bindings[name_or_oid]
        record = self._by_oid.get(name_or_oid)
        if record is not None and record.kind == "nameBinding":
            return self._bindings[record.name]
        raise KeyError(f"no name binding {name_or_oid!r}")

    def name_bindings(self) -> list[NameBinding]:
        return list(self._bindings.values())

    def bindings_for(self, subordinate: str, superior: str | None = None) -> list[NameBinding]:
        """Bindings that may name an instance of `subordinate` (under `superior`, if given),
        honouring AND SUBCLASSES on either side."""
        def matches(name: str, bound: str, and_subclasses: bool) -> bool:
            return name == bound or (and_subclasses and self.is_a(name, bound))

        return [
            nb for nb in self._bindings.values()
            if matches(subordinate, nb.subordinate, nb.subordinate_and_subclasses)
            and (superior is None or matches(superior, nb.superior, nb.superior_and_subclasses))
        ]

    def naming_attribute(self, subordinate: str, superior: str) -> str:
        bindings = self.bindings_for(subordinate, superior)
        if not bindings:
            raise KeyError(f"no name binding puts {subordinate} under {superior}")
        names = {nb.naming_attribute for nb in bindings}
        if len(names) != 1:
            raise ValueError(f"{subordinate} under {superior}: ambiguous naming attributes {sorted(names)}")
        return names.pop()

    def children(self, superior: str) -> list[str]:
        """LNP classes that may be named directly under an instance of `superior`."""
        out = []
        for cls in self._classes:
            if cls not in out and self.bindings_for(cls, superior):
                out.append(cls)
        return out


def _load() -> Registry:
    text = resources.files(__package__).joinpath("gdmo.json").read_text(encoding="utf-8")
    return Registry(json.loads(text), OID_VALUES)


OIDS = _load()
