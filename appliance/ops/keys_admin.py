"""Key lists at the console (FRS R7-107..R7-111; IIS §5.2; Exhibit K key exchange and error 4500;
contract Exhibit A step 1 "NPAC encryption key generation and exchange").

- generate: a new list of up to 1000 RSA keys (R7-110.1) for the NPAC or a provider, with its public
  list and the MD5 hash file (R7-108.2); the public half is usable by this node at once;
- import: a provider's public list, checked against the MD5 hash file it came with, then used to
  verify that provider's signatures;
- retire: keys no longer accepted (R7-111.2: a message signed with one is refused);
- list: every list the node verifies with, its active and retired keys and warnings: fewer than 100
  keys left (Exhibit K 4500) and a list in use for a year or more must be changed (R7-111.4).

Files live under <data_dir>/keys/<systemId>/; the store's meta table records each list this console
generated or imported (journaled), and `restore_key_lists` loads them again when the node starts.
"""
from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from appliance.lnp.keys import (
    MAX_KEYS_PER_LIST, MIN_GENERATED_BITS, KeyList, KeyListError, format_key_list, generate_key_list,
    hash_file_text, load_key_list, write_key_list,
)
from appliance.lnp.security import Directory, Party
from appliance.ops import personnel_args as arg
from appliance.ops.commands import Command, CommandError
from appliance.store.network import SERVICE_PROVIDERS
from appliance.store.store import Tx

LOW_KEYS = 100  # Exhibit K 4500 (L89780): warn when fewer than 100 keys remain
YEAR_DAYS = 365  # R7-111.4: keys are changed after one year of use
WARN_DAYS = 30
DAY_MS = 86_400_000
_META = "keylist:"
_SYSTEM_ID = re.compile(r"^[\x20-\x7e]{1,60}$")
_TYPES = {0: {0}, 1: {1}, 2: {0, 1, 2}}  # SystemType -> the types a Party may associate as
_LIST_FILE = re.compile(r"^(?P<sid>.+)-list(?P<list>\d+)\.(pub|key)\.pem$")


def _system_id(value: Any) -> str:
    text = str(arg.required(value, "system id"))
    if not _SYSTEM_ID.match(text) or "/" in text or text.startswith("."):
        raise CommandError(f"system id {text!r} must be 1-60 printable characters without '/'")
    return text


def _list_id(value: Any) -> int:
    return arg.integer(value, "list id", 1, 65535)


def keys_dir(ctx: Any, system_id: str) -> Path:
    return ctx.data_dir / "keys" / system_id


def _registry(ctx: Any) -> dict[tuple[str, int], dict[str, Any]]:
    return registered_lists(ctx.store)


def registered_lists(reader: Any) -> dict[tuple[str, int], dict[str, Any]]:
    """(system id, list id) -> what the console recorded of a list it generated, imported or retired."""
    out = {}
    for row in reader.select("meta", "key LIKE ?", [_META + "%"]):
        value = row["value"] or {}
        out[(value["system_id"], int(value["list_id"]))] = value
    return out


def _party(ctx: Any, system_id: str, create: bool) -> Party | None:
    directory = ctx.services.agent.directory
    party = directory.get(system_id)
    if party is None and create:
        sp = SERVICE_PROVIDERS.get(ctx.store, system_id)
        if sp is None or sp["deleted_ms"] is not None:
            return None
        party = Party(system_id, frozenset(_TYPES.get(sp["system_type"], {0, 1})))
        directory.add(party)
    return party


def _config_paths(ctx: Any) -> dict[tuple[str, int], Path]:
    """Lists named in the node configuration, by the file naming `npac-keys generate` uses."""
    paths: dict[tuple[str, int], Path] = {}
    for carrier in ctx.config.carriers:
        for path in carrier.key_lists:
            m = _LIST_FILE.match(Path(path).name)
            if m:
                paths[(carrier.system_id, int(m["list"]))] = Path(path)
    return paths


async def _register(ctx: Any, kl: KeyList, path: Path, source: str, created_ms: int | None = None) -> None:
    """Record the list; its creation time is kept from the first record (the one-year clock of
    R7-111.4 runs from when the list was made, not from its last change)."""
    entry = {"system_id": kl.system_id, "list_id": kl.list_id, "path": str(path), "source": source,
             "retired": sorted(kl.retired)}

    def write(tx: Tx) -> None:
        old = tx.get("meta", f"{_META}{kl.system_id}:{kl.list_id}")
        created = (old["value"] or {}).get("created_ms") if old else None
        tx.upsert("meta", {"key": f"{_META}{kl.system_id}:{kl.list_id}",
                           "value": {**entry, "created_ms": created or created_ms or tx.now_ms}})
    await ctx.services.writer.run(f"key list {kl.list_id} of {kl.system_id}: {source}", write)


def _use(ctx: Any, kl: KeyList) -> bool:
    party = _party(ctx, kl.system_id, create=True)
    if party is None:
        return False
    party.add_key_list(kl.public_only())
    return True


def restore_key_lists(reader: Any, directory: Directory) -> list[str]:
    """At node start: the lists this console generated or imported are verified with again, and the
    keys it retired stay retired. Only parties the node already knows (from its configuration) or
    lists of known parties are touched; returns one line per list that could not be loaded."""
    problems = []
    for (system_id, list_id), entry in sorted(registered_lists(reader).items()):
        party = directory.get(system_id)
        if party is None:
            sp = SERVICE_PROVIDERS.get(reader, system_id)
            if sp is None or sp["deleted_ms"] is not None:
                continue
            party = Party(system_id, frozenset(_TYPES.get(sp["system_type"], {0, 1})))
            directory.add(party)
        if list_id not in party.key_lists:
            try:
                party.add_key_list(load_key_list(entry["path"]).public_only())
            except (KeyListError, ValueError) as exc:
                problems.append(str(exc))
                continue
        party.key_lists[list_id].retired.update(entry.get("retired", []))
    return problems


async def keys_generate(ctx: Any, session: Any, system_id: Any = None, list_id: Any = None, count: Any = None,
                        bits: Any = None) -> dict[str, Any]:
    """R7-110.1: 1..1000 keys; generated keys have at least 1024 bits (DECISIONS)."""
    sid, lid = _system_id(system_id), _list_id(list_id)
    n = arg.integer(count, "count", 1, MAX_KEYS_PER_LIST) if count is not None else MAX_KEYS_PER_LIST
    size = arg.integer(bits, "bits", MIN_GENERATED_BITS, 4096) if bits is not None else MIN_GENERATED_BITS
    party = ctx.services.agent.directory.get(sid)
    if (party is not None and lid in party.key_lists) or (sid, lid) in _registry(ctx):
        raise CommandError(f"{sid} already has key list {lid}; choose another list id")
    directory = keys_dir(ctx, sid)
    if (directory / f"{sid}-list{lid}.pub.pem").exists():
        raise CommandError(f"{directory / f'{sid}-list{lid}.pub.pem'} exists; choose another list id")
    # the keys take seconds to make: off the event loop, so the node keeps answering carriers
    kl = await asyncio.to_thread(generate_key_list, sid, lid, n, size)
    try:
        paths = write_key_list(kl, directory)
    except OSError as exc:
        raise CommandError(f"cannot write {directory}: {exc.strerror or exc}") from None
    await _register(ctx, kl, paths["public"], "generated")
    used = _use(ctx, kl)
    return {"system_id": sid, "list_id": lid, "keys": n, "bits": size, "in_use": used,
            **{kind: str(path) for kind, path in paths.items()}}


def _compare_hashes(kl: KeyList, hash_text: str, origin: str) -> None:
    """R7-108.2: each key's MD5 and the whole list's must be what the sender's hash file says."""
    expected = {}
    for line in hash_text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            expected[parts[0]] = parts[1].lower()
    ours = {}
    for line in hash_file_text(kl).splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            ours[parts[0]] = parts[1]
    if not expected:
        raise CommandError(f"{origin}: no MD5 hashes in the file")
    for key, digest in ours.items():
        if expected.get(key) != digest:
            label = "the whole list" if key == "list" else f"key {key}"
            raise CommandError(f"{origin}: MD5 of {label} does not match the hash file (R7-108.2)")
    extra = sorted(set(expected) - set(ours))
    if extra:
        raise CommandError(f"{origin}: the hash file names keys the list lacks: {', '.join(extra[:5])}")


async def keys_import(ctx: Any, session: Any, system_id: Any = None, path: Any = None, md5: Any = None
                      ) -> dict[str, Any]:
    """A provider's public list (Exhibit K key exchange), accepted only with its MD5 hash file."""
    sid = _system_id(system_id)
    source = Path(str(arg.required(path, "key list file")))
    hash_path = Path(str(arg.required(md5, "MD5 hash file (R7-108.2)")))
    try:
        kl = await asyncio.to_thread(load_key_list, source)
        hash_text = hash_path.read_text(encoding="ascii")
    except KeyListError as exc:
        raise CommandError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{hash_path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if kl.system_id != sid:
        raise CommandError(f"{source} is a key list of {kl.system_id}, not {sid}")
    if kl.private:
        raise CommandError(f"{source} holds private keys: a provider gives only its public list")
    _compare_hashes(kl, hash_text, str(source))
    party = _party(ctx, sid, create=True)
    if party is None:
        raise CommandError(f"no service provider {sid}: create it first")
    if kl.list_id in party.key_lists:
        raise CommandError(f"{sid} already has key list {kl.list_id}; retire its keys and import a new list id")
    directory = keys_dir(ctx, sid)
    target = directory / f"{sid}-list{kl.list_id}.pub.pem"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target.write_text(format_key_list(kl, private=False))
        (directory / f"{sid}-list{kl.list_id}.md5").write_text(hash_file_text(kl))
    except OSError as exc:
        raise CommandError(f"cannot write {directory}: {exc.strerror or exc}") from None
    await _register(ctx, kl, target, "imported")
    party.add_key_list(kl)
    return {"system_id": sid, "list_id": kl.list_id, "keys": len(kl.public), "retired": len(kl.retired),
            "path": str(target)}


async def keys_retire(ctx: Any, session: Any, system_id: Any = None, list_id: Any = None, key_ids: Any = None
                      ) -> dict[str, Any]:
    """R7-111.2, R7-111.3: the keys are refused from now on; the list file says so too."""
    sid, lid = _system_id(system_id), _list_id(list_id)
    if isinstance(key_ids, (int, str)):
        key_ids = [key_ids]
    ids = sorted({arg.integer(k, "key id", 1, MAX_KEYS_PER_LIST) for k in key_ids or []})
    if not ids:
        raise CommandError("name the key ids to retire")
    party = ctx.services.agent.directory.get(sid)
    kl = party.key_lists.get(lid) if party is not None else None
    if kl is None:
        raise CommandError(f"{sid} has no key list {lid} on this node")
    missing = [k for k in ids if k not in kl.public]
    if missing:
        raise CommandError(f"list {lid} of {sid} has no key {missing[0]}")
    kl.retired.update(ids)
    entry = _registry(ctx).get((sid, lid))
    path = Path(entry["path"]) if entry else _config_paths(ctx).get((sid, lid))
    made = _file_ms(path) if entry is None else None  # a configured list: its age is its file's
    if path is not None and path.exists():
        try:
            on_disk = await asyncio.to_thread(load_key_list, path)
            on_disk.retired.update(ids)
            path.write_text(format_key_list(on_disk, private=bool(on_disk.private)))
        except (KeyListError, OSError) as exc:
            raise CommandError(f"retired in the running node, but {path} was not updated: {exc}") from None
    record = KeyList(sid, lid, dict(kl.public), {}, set(kl.retired))
    await _register(ctx, record, path or keys_dir(ctx, sid) / f"{sid}-list{lid}.pub.pem",
                    entry["source"] if entry else "configured", made)
    return {"system_id": sid, "list_id": lid, "retired": sorted(kl.retired), "active": len(kl.active_ids())}


def _file_ms(path: Path | None) -> int | None:
    try:
        return int(path.stat().st_mtime * 1000) if path is not None else None
    except OSError:
        return None


def _warnings(active: int, age_days: float | None) -> list[str]:
    out = []
    if active == 0:
        out.append("no active key left")
    elif active < LOW_KEYS:
        out.append(f"only {active} keys remain (Exhibit K 4500: fewer than {LOW_KEYS})")
    if age_days is not None:
        if age_days >= YEAR_DAYS:
            out.append(f"in use {int(age_days)} days: change keys now (R7-111.4, one year)")
        elif age_days >= YEAR_DAYS - WARN_DAYS:
            out.append(f"expires in {int(YEAR_DAYS - age_days)} days (R7-111.4, one year)")
    return out


async def keys_list(ctx: Any, session: Any, system_id: Any = None) -> list[dict[str, Any]]:
    wanted = _system_id(system_id) if system_id else None
    now = ctx.clock_ms()
    registry = _registry(ctx)
    configured = _config_paths(ctx)
    own = ctx.services.agent.identity
    parties = [(own.system_id, {own.key_list.list_id: own.key_list}, "own")]
    parties += [(p.system_id, p.key_lists, "peer") for p in ctx.services.agent.directory
                if p.system_id != own.system_id]
    out = []
    for sid, lists, role in parties:
        if wanted is not None and sid != wanted:
            continue
        for lid, kl in sorted(lists.items()):
            entry = registry.get((sid, lid))
            created = entry.get("created_ms") if entry else None
            if created is None:
                created = _file_ms(configured.get((sid, lid)) or (ctx.config.private_list if role == "own" else None))
            age = (now - created) / DAY_MS if created is not None else None
            active = len([k for k in kl.public if k not in kl.retired])
            out.append({"system_id": sid, "list_id": lid, "role": role, "keys": len(kl.public), "active": active,
                        "retired": len(kl.retired), "source": entry["source"] if entry else "configured",
                        "created": arg.iso(created), "expires": arg.iso(created + YEAR_DAYS * DAY_MS) if created else None,
                        "warnings": _warnings(active, age)})
    if wanted is not None and not out:
        raise CommandError(f"no key lists of {wanted} on this node")
    return out


def commands() -> list[Command]:
    return [
        Command("keys.list", keys_list, "read", "key lists with expiry warnings"),
        Command("keys.generate", keys_generate, "administer", "generate a key list (R7-110)"),
        Command("keys.import", keys_import, "administer", "import a provider's public key list"),
        Command("keys.retire", keys_retire, "administer", "retire keys (R7-111.2)"),
    ]
