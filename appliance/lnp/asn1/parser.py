"""A parser for the subset of X.680 ASN.1 that the LNP modules use.

The LNP types are built from `LNP-ASN1.asn` at import time rather than hand-translated, so that
nothing in the 122 assignments can be missed or mistyped. The subset is exactly what IIS chapter 8
needs: SEQUENCE / SET / CHOICE (with OPTIONAL and DEFAULT), SEQUENCE OF / SET OF, ENUMERATED,
INTEGER, BOOLEAN, NULL, OCTET STRING, BIT STRING, OBJECT IDENTIFIER, the character and time types,
ANY, context tags, and SIZE / FROM / range / single-value constraints, plus OBJECT IDENTIFIER value
assignments (module LNP-OIDS). Anything outside the subset is a parse error, never silently skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Built-in types the builder knows; multi-word names are joined by the tokenizer-level parser.
BUILTINS = frozenset({
    "BOOLEAN", "NULL", "INTEGER", "ENUMERATED", "OCTET STRING", "BIT STRING", "OBJECT IDENTIFIER",
    "GraphicString", "VisibleString", "IA5String", "PrintableString", "NumericString",
    "GeneralizedTime", "UTCTime", "ANY", "SEQUENCE", "SET", "CHOICE", "SEQUENCE OF", "SET OF",
})
_SIMPLE_BUILTINS = frozenset({
    "BOOLEAN", "NULL", "GraphicString", "VisibleString", "IA5String", "PrintableString",
    "NumericString", "GeneralizedTime", "UTCTime", "ANY",
})
# Root arcs that may open an OBJECT IDENTIFIER value without a number (X.660).
_OID_ROOTS = {"itu-t": 0, "ccitt": 0, "iso": 1, "joint-iso-itu-t": 2, "joint-iso-ccitt": 2}


class Asn1SyntaxError(Exception):
    """The module text is outside the supported subset or malformed (a build-time defect)."""


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "number", "string", "symbol"
    text: str
    line: int


@dataclass
class Constraint:
    """One constraint element: size(...), from(...), range lo..hi, a single value, or a union."""

    kind: str  # "size", "from", "range", "single", "union"
    lo: int | str | None = None
    hi: int | str | None = None
    value: int | str | None = None
    items: list[Constraint] = field(default_factory=list)


@dataclass
class Tag:
    cls: str  # "CONTEXT", "APPLICATION", "PRIVATE", "UNIVERSAL"
    number: int
    mode: str | None  # "IMPLICIT", "EXPLICIT" or None for the module default


@dataclass
class TypeNode:
    kind: str  # a BUILTINS name, or "ref"
    line: int
    ref: str | None = None
    tag: Tag | None = None
    components: list[Component] = field(default_factory=list)
    element: TypeNode | None = None
    named: list[tuple[str, int]] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)


@dataclass
class Component:
    name: str
    type: TypeNode
    optional: bool = False
    default: object = None


@dataclass
class Module:
    name: str
    oid: tuple[int, ...] | None
    tag_default: str  # "EXPLICIT" or "IMPLICIT"
    imports: dict[str, str] = field(default_factory=dict)  # symbol -> module name
    types: dict[str, TypeNode] = field(default_factory=dict)
    values: dict[str, tuple[int, ...]] = field(default_factory=dict)  # OBJECT IDENTIFIER values


_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
      | (?P<name>[A-Za-z](?:-?[A-Za-z0-9])*)
      | (?P<number>\d+)
      | (?P<string>"[^"]*")
      | (?P<symbol>::=|\.\.|[{}()\[\],|;.\-])""",
    re.VERBOSE,
)


def _strip_comments(text: str) -> str:
    # X.680: a comment runs from "--" to the next "--" or the end of the line.
    out = []
    for line in text.split("\n"):
        parts = line.split('"')
        kept: list[str] = []
        in_comment = False
        for i, part in enumerate(parts):
            if i % 2 == 1 and not in_comment:
                kept.append('"' + part + '"')
                continue
            pieces = part.split("--")
            for j, piece in enumerate(pieces):
                if j > 0:
                    in_comment = not in_comment
                if not in_comment:
                    kept.append(piece)
        out.append("".join(kept))
    return "\n".join(out)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos, line = 0, 1
    text = _strip_comments(text)
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise Asn1SyntaxError(f"line {line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind != "ws":
            tokens.append(Token(kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.toks = tokens
        self.i = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def at(self, *texts: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text in texts

    def take(self, text: str | None = None, kind: str | None = None) -> Token:
        tok = self.peek()
        if tok is None:
            raise Asn1SyntaxError(f"unexpected end of text, expected {text or kind}")
        if (text is not None and tok.text != text) or (kind is not None and tok.kind != kind):
            raise Asn1SyntaxError(f"line {tok.line}: expected {text or kind}, got {tok.text!r}")
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.i += 1
            return True
        return False

    # -- modules -------------------------------------------------------------------------------
    def modules(self) -> list[Module]:
        mods = []
        while self.peek() is not None:
            mods.append(self.module())
        return mods

    def module(self) -> Module:
        name = self.take(kind="name").text
        oid = self.oid_value({}) if self.at("{") else None
        self.take("DEFINITIONS")
        tag_default = "EXPLICIT"
        if self.at("IMPLICIT", "EXPLICIT", "AUTOMATIC"):
            tag_default = self.take().text
            self.take("TAGS")
        if tag_default == "AUTOMATIC":
            raise Asn1SyntaxError(f"module {name}: AUTOMATIC TAGS is outside the supported subset")
        self.take("::=")
        self.take("BEGIN")
        mod = Module(name, oid, tag_default)
        if self.accept("EXPORTS"):
            while not self.accept(";"):
                self.take()
        if self.accept("IMPORTS"):
            self.imports(mod)
        while not self.accept("END"):
            self.assignment(mod)
        return mod

    def imports(self, mod: Module) -> None:
        symbols: list[str] = []
        while not self.accept(";"):
            if self.accept("FROM"):
                source = self.take(kind="name").text
                if self.at("{"):
                    self.oid_value(mod.values)
                for sym in symbols:
                    mod.imports[sym] = source
                symbols = []
            elif not self.accept(","):
                symbols.append(self.take(kind="name").text)
        if symbols:
            raise Asn1SyntaxError(f"module {mod.name}: imported symbols {symbols} have no FROM")

    def assignment(self, mod: Module) -> None:
        tok = self.take(kind="name")
        if tok.text[0].isupper():
            self.take("::=")
            if tok.text in mod.types:
                raise Asn1SyntaxError(f"line {tok.line}: {tok.text} assigned twice")
            mod.types[tok.text] = self.type()
            return
        # Only OBJECT IDENTIFIER values occur (LNP-OIDS); anything else is out of the subset.
        self.take("OBJECT")
        self.take("IDENTIFIER")
        self.take("::=")
        mod.values[tok.text] = self.oid_value(mod.values)

    def oid_value(self, known: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
        start = self.take("{")
        arcs: list[int] = []
        while not self.accept("}"):
            tok = self.take()
            if tok.kind == "number":
                arcs.append(int(tok.text))
            elif tok.kind == "name" and self.accept("("):
                arcs.append(int(self.take(kind="number").text))
                self.take(")")
            elif tok.kind == "name" and not arcs and tok.text in known:
                arcs.extend(known[tok.text])
            elif tok.kind == "name" and not arcs and tok.text in _OID_ROOTS:
                arcs.append(_OID_ROOTS[tok.text])
            else:
                raise Asn1SyntaxError(f"line {start.line}: cannot resolve OID component {tok.text!r}")
        return tuple(arcs)

    # -- types ---------------------------------------------------------------------------------
    def type(self) -> TypeNode:
        tag = self.tag() if self.at("[") else None
        node = self.untagged_type()
        node.tag = tag
        while self.at("("):
            node.constraints.append(self.constraint())
        return node

    def tag(self) -> Tag:
        self.take("[")
        cls = "CONTEXT"
        if self.at("UNIVERSAL", "APPLICATION", "PRIVATE"):
            cls = self.take().text
        number = int(self.take(kind="number").text)
        self.take("]")
        mode = self.take().text if self.at("IMPLICIT", "EXPLICIT") else None
        return Tag(cls, number, mode)

    def untagged_type(self) -> TypeNode:
        tok = self.take(kind="name")
        line = tok.line
        word = tok.text
        if word in ("OCTET", "BIT"):
            self.take("STRING")
            word += " STRING"
        elif word == "OBJECT":
            self.take("IDENTIFIER")
            word = "OBJECT IDENTIFIER"
        if word in ("SEQUENCE", "SET"):
            size = self.list_size()
            if self.accept("OF"):
                node = TypeNode(word + " OF", line, element=self.type())
                if size is not None:
                    node.constraints.append(size)
                return node
            if size is not None:
                raise Asn1SyntaxError(f"line {line}: SIZE on {word} without OF")
            return TypeNode(word, line, components=self.components(allow_optional=True))
        if word == "CHOICE":
            return TypeNode(word, line, components=self.components(allow_optional=False))
        if word in ("ENUMERATED", "INTEGER", "BIT STRING"):
            node = TypeNode(word, line)
            if self.at("{"):
                node.named = self.named_numbers(word == "ENUMERATED")
            elif word == "ENUMERATED":
                raise Asn1SyntaxError(f"line {line}: ENUMERATED without items")
            return node
        if word in _SIMPLE_BUILTINS or word == "OBJECT IDENTIFIER" or word == "OCTET STRING":
            return TypeNode(word, line)
        if word[0].isupper() and word not in BUILTINS:
            return TypeNode("ref", line, ref=word)
        raise Asn1SyntaxError(f"line {line}: unsupported type {word!r}")

    def list_size(self) -> Constraint | None:
        # X.680 allows both "SET SIZE (...) OF" and "SET (SIZE (...)) OF".
        if self.accept("SIZE"):
            return Constraint("size", items=[self.constraint()])
        after = self.peek(1)
        if self.at("(") and after is not None and after.text == "SIZE":
            return self.constraint()
        return None

    def components(self, allow_optional: bool) -> list[Component]:
        self.take("{")
        comps: list[Component] = []
        while True:
            tok = self.take(kind="name")
            if not tok.text[0].islower():
                raise Asn1SyntaxError(f"line {tok.line}: component without identifier ({tok.text})")
            comp = Component(tok.text, self.type())
            if self.accept("OPTIONAL"):
                comp.optional = True
            elif self.accept("DEFAULT"):
                comp.default = self.default_value()
            if (comp.optional or comp.default is not None) and not allow_optional:
                raise Asn1SyntaxError(f"line {tok.line}: OPTIONAL/DEFAULT inside CHOICE")
            if any(c.name == comp.name for c in comps):
                raise Asn1SyntaxError(f"line {tok.line}: duplicate component {comp.name}")
            comps.append(comp)
            if self.accept("}"):
                return comps
            self.take(",")

    def default_value(self) -> object:
        tok = self.take()
        if tok.kind == "number":
            return int(tok.text)
        if tok.text in ("TRUE", "FALSE"):
            return tok.text == "TRUE"
        if tok.kind == "name" and tok.text[0].islower():
            return tok.text  # an enumeration / named-number identifier
        raise Asn1SyntaxError(f"line {tok.line}: unsupported DEFAULT value {tok.text!r}")

    def named_numbers(self, enumerated: bool) -> list[tuple[str, int]]:
        self.take("{")
        items: list[tuple[str, int]] = []
        while True:
            tok = self.take(kind="name")
            if self.accept("("):
                sign = -1 if self.accept("-") else 1
                number = sign * int(self.take(kind="number").text)
                self.take(")")
            elif enumerated:
                # X.680 automatic numbering: the lowest value not already used.
                used = {v for _, v in items}
                number = next(n for n in range(len(items) + 1) if n not in used)
            else:
                raise Asn1SyntaxError(f"line {tok.line}: named number {tok.text} without value")
            if any(n == tok.text or v == number for n, v in items):
                raise Asn1SyntaxError(f"line {tok.line}: duplicate named number {tok.text}({number})")
            items.append((tok.text, number))
            if self.accept("}"):
                return items
            self.take(",")

    # -- constraints ---------------------------------------------------------------------------
    def constraint(self) -> Constraint:
        self.take("(")
        result = self.constraint_union()
        self.take(")")
        return result

    def constraint_union(self) -> Constraint:
        items = [self.constraint_element()]
        while self.accept("|"):
            items.append(self.constraint_element())
        return items[0] if len(items) == 1 else Constraint("union", items=items)

    def constraint_element(self) -> Constraint:
        if self.accept("SIZE"):
            return Constraint("size", items=[self.constraint()])
        if self.accept("FROM"):
            return Constraint("from", items=[self.constraint()])
        if self.at("("):
            return self.constraint()
        lo = self.bound()
        if self.accept(".."):
            return Constraint("range", lo=lo, hi=self.bound())
        if lo in ("MIN", "MAX"):
            raise Asn1SyntaxError(f"{lo} outside a range")
        return Constraint("single", value=lo)

    def bound(self) -> int | str:
        tok = self.take()
        if tok.kind == "number":
            return int(tok.text)
        if tok.text == "-":
            return -int(self.take(kind="number").text)
        if tok.kind == "string":
            return tok.text[1:-1]
        if tok.text in ("MIN", "MAX"):
            return tok.text
        raise Asn1SyntaxError(f"line {tok.line}: unsupported constraint value {tok.text!r}")


def parse(text: str) -> list[Module]:
    """Parse every module in `text` (in order)."""
    return _Parser(tokenize(text)).modules()
