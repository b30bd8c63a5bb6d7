"""Console passwords: the FRS §7.2.1 structure rules, one-way storage and the generator.

Rules (FRS Exhibit B): non-null (R7-20); at least six case-sensitive characters drawn from letters,
digits and punctuation, with at least one letter and at least one digit or punctuation mark
(R7-26.1); never containing the userid (R7-26.2; compared ignoring case, since "JSmith1" contains
"jsmith" for anyone guessing). Blanks and control characters are refused because a console cannot
show the user what was typed (R7-18 blots it out).

Storage is one-way (R7-15): scrypt with a random per-password salt, written as
`scrypt$N$r$p$salt$hash` so a later release can raise the cost without invalidating stored hashes.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from typing import Any

MIN_LENGTH = 6   # R7-26.1
MAX_LENGTH = 128  # bounds the hashing work a single login can ask for
LETTERS = frozenset(string.ascii_letters)
DIGITS = frozenset(string.digits)
PUNCTUATION = frozenset(string.punctuation)
ALLOWED = LETTERS | DIGITS | PUNCTUATION


Random = Any  # random.Random or secrets.SystemRandom: choice() and randbytes()


def password_problem(user_id: str, password: str) -> str | None:
    """Why `password` breaks the FRS rules for `user_id`, or None when it is acceptable."""
    if not password:
        return "password is empty (R7-20)"
    if len(password) < MIN_LENGTH:
        return f"password has fewer than {MIN_LENGTH} characters (R7-26.1)"
    if len(password) > MAX_LENGTH:
        return f"password has more than {MAX_LENGTH} characters"
    if not set(password) <= ALLOWED:
        return "password may hold only letters, digits and punctuation (R7-26.1)"
    if not set(password) & LETTERS:
        return "password needs at least one letter (R7-26.1)"
    if not set(password) & (DIGITS | PUNCTUATION):
        return "password needs at least one digit or punctuation mark (R7-26.1)"
    if user_id and user_id.lower() in password.lower():
        return "password must not contain the userid (R7-26.2)"
    return None


@dataclass(frozen=True)
class Hasher:
    """scrypt cost parameters; the defaults take tens of milliseconds per password on the appliance."""

    n: int = 2 ** 14
    r: int = 8
    p: int = 1
    length: int = 32

    def hash(self, password: str, salt: bytes) -> str:
        digest = _scrypt(password, salt, self.n, self.r, self.p, self.length)
        return "$".join(("scrypt", str(self.n), str(self.r), str(self.p), _b64(salt), _b64(digest)))

    def new_hash(self, password: str, rng: Random) -> str:
        return self.hash(password, rng.randbytes(16))

    def verify(self, password: str, encoded: str | None) -> bool:
        """Whether `password` is the one `encoded` was made from. A missing or malformed hash still
        costs one hash computation, so a wrong userid takes as long as a wrong password (R7-37)."""
        params = _parse(encoded) if encoded else None
        if params is None:
            _scrypt(password, b"\0" * 16, self.n, self.r, self.p, self.length)
            return False
        n, r, p, salt, digest = params
        return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(digest)), digest)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=256 * n * r + (1 << 20))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, digest = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    if not 2 <= n <= 2 ** 20 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16 or not 16 <= len(digest) <= 64:
        return None
    return n, r, p, salt, digest


GENERATED_LENGTH = 14
_ALPHABET = "".join(sorted(ALLOWED - set("\"'`\\")))  # no quotes: the password is read aloud or pasted


def generate_password(user_id: str, rng: Random | None = None) -> str:
    """A random password that meets the rules (R7-27.1-27.3): 14 characters from 90 symbols,
    about 90 bits, far beyond guessing at any login rate the lockout allows."""
    chooser = rng or secrets.SystemRandom()
    while True:
        candidate = "".join(chooser.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))
        if password_problem(user_id, candidate) is None:
            return candidate
