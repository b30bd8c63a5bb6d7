"""Key lists for LNP access control (FRS §7.8.3.7, R7-107..R7-110; IIS §5.2; DECISIONS.md).

Each party signs with its own RSA private keys and gives its peers the matching public keys as a
numbered list (key ids 1..1000, R7-110.1). Lists are exchanged outside the interface, so they live in
files whose format is documented here and in the README:

    Key-List: 1
    System-Id: 0001
    Key-Id: 1
    -----BEGIN PUBLIC KEY-----            (a private list holds PRIVATE KEY blocks instead)
    ...
    -----END PUBLIC KEY-----
    Key-Id: 2 retired
    -----BEGIN PUBLIC KEY-----
    ...

The acknowledgement of a received list is the MD5 hash of each key (R7-108.2) and of the whole list
(R7-108.3); `hash_file_text` writes both so the recipient can read them back to the sender.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MAX_KEYS_PER_LIST = 1000
MIN_ACCEPTED_BITS = 600  # IIS 5.2.1.5: "modulus 600 bits"
MIN_GENERATED_BITS = 1024  # DECISIONS.md: generated keys are at least 1024 bits


class KeyListError(Exception):
    """A key list file that cannot be used; the message names the file and the problem."""


@dataclass
class KeyList:
    system_id: str
    list_id: int
    public: dict[int, rsa.RSAPublicKey] = field(default_factory=dict)
    private: dict[int, rsa.RSAPrivateKey] = field(default_factory=dict)
    retired: set[int] = field(default_factory=set)

    def public_key(self, key_id: int) -> rsa.RSAPublicKey | None:
        return self.public.get(key_id)

    def active_ids(self) -> list[int]:
        return sorted(k for k in (self.private or self.public) if k not in self.retired)

    def public_only(self) -> KeyList:
        return KeyList(self.system_id, self.list_id, dict(self.public), {}, set(self.retired))


_HEADER = re.compile(r"^(Key-List|System-Id|Key-Id):\s*(.*?)\s*$")
_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.*?-----END \1-----", re.S)


def parse_key_list(text: str, origin: str = "<key list>") -> KeyList:
    list_id: int | None = None
    system_id: str | None = None
    pending: tuple[int, bool] | None = None
    result: KeyList | None = None
    pos = 0
    lines_and_blocks: list[tuple[str, str]] = []
    for m in _BLOCK.finditer(text):
        lines_and_blocks.extend(("line", ln) for ln in text[pos : m.start()].splitlines())
        lines_and_blocks.append(("block", m.group(0)))
        pos = m.end()
    lines_and_blocks.extend(("line", ln) for ln in text[pos:].splitlines())

    for kind, chunk in lines_and_blocks:
        if kind == "line":
            if not chunk.strip() or chunk.lstrip().startswith("#"):
                continue
            m = _HEADER.match(chunk.strip())
            if not m:
                raise KeyListError(f"{origin}: unexpected line {chunk.strip()[:40]!r}")
            name, value = m.groups()
            if name == "Key-List":
                list_id = _int(value, origin, "Key-List")
            elif name == "System-Id":
                system_id = value
            else:
                parts = value.split()
                if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1] != "retired"):
                    raise KeyListError(f"{origin}: Key-Id must be 'N' or 'N retired', got {value!r}")
                pending = (_int(parts[0], origin, "Key-Id"), len(parts) == 2)
            continue
        if list_id is None or system_id is None:
            raise KeyListError(f"{origin}: Key-List and System-Id must come before the keys")
        if pending is None:
            raise KeyListError(f"{origin}: a key block without a Key-Id line")
        key_id, retired = pending
        pending = None
        if not 1 <= key_id <= MAX_KEYS_PER_LIST:
            raise KeyListError(f"{origin}: key id {key_id} is outside 1..{MAX_KEYS_PER_LIST}")
        result = result or KeyList(system_id, list_id)
        if key_id in result.public:
            raise KeyListError(f"{origin}: key id {key_id} appears twice")
        _load_block(result, key_id, chunk.encode(), origin)
        if retired:
            result.retired.add(key_id)
    if result is None:
        if list_id is None or system_id is None:
            raise KeyListError(f"{origin}: no Key-List / System-Id header")
        raise KeyListError(f"{origin}: the list holds no keys")
    if pending is not None:
        raise KeyListError(f"{origin}: Key-Id {pending[0]} has no key block")
    return result


def _int(value: str, origin: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise KeyListError(f"{origin}: {what} must be a number, got {value!r}") from None


def _load_block(kl: KeyList, key_id: int, pem: bytes, origin: str) -> None:
    try:
        if b"PRIVATE KEY" in pem.split(b"\n", 1)[0]:
            key = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise KeyListError(f"{origin}: key {key_id} is not an RSA key")
            kl.private[key_id] = key
            pub = key.public_key()
        else:
            pub = serialization.load_pem_public_key(pem)
            if not isinstance(pub, rsa.RSAPublicKey):
                raise KeyListError(f"{origin}: key {key_id} is not an RSA key")
    except (ValueError, TypeError) as exc:
        raise KeyListError(f"{origin}: key {key_id} cannot be read ({exc})") from None
    if pub.key_size < MIN_ACCEPTED_BITS:
        raise KeyListError(f"{origin}: key {key_id} has {pub.key_size} bits, fewer than {MIN_ACCEPTED_BITS}")
    kl.public[key_id] = pub


def load_key_list(path: str | os.PathLike) -> KeyList:
    p = Path(path)
    try:
        text = p.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyListError(f"{p}: cannot read ({exc})") from None
    return parse_key_list(text, str(p))


def format_key_list(kl: KeyList, *, private: bool) -> str:
    out = [f"Key-List: {kl.list_id}", f"System-Id: {kl.system_id}"]
    source = kl.private if private else kl.public
    for key_id in sorted(source):
        out.append(f"Key-Id: {key_id}" + (" retired" if key_id in kl.retired else ""))
        key = source[key_id]
        if private:
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        else:
            pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        out.append(pem.decode().rstrip("\n"))
    return "\n".join(out) + "\n"


def key_md5(key: rsa.RSAPublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.md5(der).hexdigest()


def hash_file_text(kl: KeyList) -> str:
    """Per-key MD5s (R7-108.2) and the MD5 of the whole public list file (R7-108.3)."""
    lines = [f"# MD5 hashes of the public keys of list {kl.list_id} of {kl.system_id}"]
    lines += [f"{key_id} {key_md5(kl.public[key_id])}" for key_id in sorted(kl.public)]
    whole = hashlib.md5(format_key_list(kl.public_only(), private=False).encode()).hexdigest()
    lines.append(f"list {whole}")
    return "\n".join(lines) + "\n"


def generate_key_list(system_id: str, list_id: int, count: int = MAX_KEYS_PER_LIST, bits: int = 1024) -> KeyList:
    if not 1 <= count <= MAX_KEYS_PER_LIST:
        raise KeyListError(f"a key list holds 1 to {MAX_KEYS_PER_LIST} keys, not {count}")
    if bits < MIN_GENERATED_BITS:
        raise KeyListError(f"generated keys have at least {MIN_GENERATED_BITS} bits, not {bits}")
    kl = KeyList(system_id, list_id)
    for key_id in range(1, count + 1):
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        kl.private[key_id] = key
        kl.public[key_id] = key.public_key()
    return kl


def write_key_list(kl: KeyList, directory: str | os.PathLike) -> dict[str, Path]:
    """Write the private list (mode 0600), the public list for peers and its MD5 hash file."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    stem = f"{kl.system_id}-list{kl.list_id}"
    paths = {"private": d / f"{stem}.key.pem", "public": d / f"{stem}.pub.pem", "md5": d / f"{stem}.md5"}
    if kl.private:
        fd = os.open(paths["private"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(format_key_list(kl, private=True))
    else:
        del paths["private"]
    paths["public"].write_text(format_key_list(kl.public_only(), private=False))
    paths["md5"].write_text(hash_file_text(kl))
    return paths
