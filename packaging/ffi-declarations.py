#!/usr/bin/env python3
"""Writes libmembrane's FFI declarations file from Include/membrane.h.

Usage: ffi-declarations.py HEADER OUTPUT

Python cffi's ffi.cdef(), LuaJIT's ffi.cdef and Ruby fiddle take plain C
declarations only: no preprocessor lines, no extern "C", and nothing from
jansson's or libc's headers. This reads the hand-written header and writes
what it declares, in the header's order:

  - `typedef struct json_t json_t;` (jansson's type, opaque to an FFI);
  - every #define with an integer value, and every enumerator, as an enum
    value with an explicit number (`NAME = N`: readable without a C parser);
  - the typedefs (structs, opaque types, function pointers) and the function
    prototypes, comments dropped, one per line.

String macros (MEMBRANE_VERSION_STRING) cannot be enum values; the version is
named in the file's first comment, and membrane_version() gives it at run
time. Function-like macros are not declarations and are left out.

It stops with an error on anything it cannot translate faithfully (an #if it
cannot decide, a function body, an attribute, a constant that is not an
integer expression), so a change to the header never yields a wrong file
silently. Python 3 standard library only.
"""
import ast
import os
import re
import sys

INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


class HeaderError(Exception):
    pass


def strip_comments(text):
    """Replaces each comment by one space (as C does), leaving string and
    character literals alone."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise HeaderError("unterminated comment")
            out.append(" ")
            i = end + 2
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def evaluate(expr, constants):
    """The value of a C integer constant expression over integer literals,
    earlier constants and + - * / % << >> & | ^ ~ ( )."""
    def literal(m):
        digits = m.group(1)
        if re.fullmatch(r"0[0-7]+", digits):
            return str(int(digits, 8))
        return str(int(digits, 0))
    python = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", literal, expr)
    try:
        tree = ast.parse(python.strip(), mode="eval").body
    except SyntaxError:
        raise HeaderError(f"not an integer expression: {expr.strip()}")

    def value(node):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in constants:
                raise HeaderError(f"unknown name {node.id} in {expr.strip()}")
            return constants[node.id]
        if isinstance(node, ast.UnaryOp):
            v = value(node.operand)
            ops = {ast.USub: lambda: -v, ast.UAdd: lambda: v, ast.Invert: lambda: ~v}
            if type(node.op) in ops:
                return ops[type(node.op)]()
        if isinstance(node, ast.BinOp):
            a, b = value(node.left), value(node.right)
            if isinstance(node.op, (ast.Div, ast.Mod)):
                if b == 0:
                    raise HeaderError(f"division by zero in {expr.strip()}")
                q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # C truncates
                return q if isinstance(node.op, ast.Div) else a - q * b
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.LShift: lambda: a << b, ast.RShift: lambda: a >> b,
                   ast.BitAnd: lambda: a & b, ast.BitOr: lambda: a | b, ast.BitXor: lambda: a ^ b}
            if type(node.op) in ops and not (isinstance(node.op, (ast.LShift, ast.RShift)) and b < 0):
                return ops[type(node.op)]()
        raise HeaderError(f"not an integer expression this script understands: {expr.strip()}")

    return value(tree)


def as_enum_value(name, v):
    if not INT_MIN <= v <= INT_MAX:
        raise HeaderError(f"{name} = {v} does not fit an int, so cannot be an enum value")
    return v


def preprocess(text):
    """Follows the header's directives as a C compiler would (and __cplusplus
    undefined). Returns the C text left and the #define constants with their
    offsets in that text: [(offset, name, expression)]."""
    text = text.replace("\\\n", "")
    defined = set()
    active = [True]  # one entry per open conditional, plus the file itself
    code, defines = [], []
    length = 0
    for line in strip_comments(text).split("\n"):
        directive = re.match(r"\s*#\s*(\w*)\s*(.*?)\s*$", line)
        if not directive:
            if all(active):
                code.append(line + "\n")
                length += len(line) + 1
            continue
        word, rest = directive.groups()
        if word in ("ifdef", "ifndef", "if"):
            if not all(active):
                active.append(False)
                continue
            if word == "if":  # only `#if defined(X)` and `#if !defined(X)`
                m = re.fullmatch(rf"(!?)\s*defined\s*\(?\s*({IDENT})\s*\)?", rest)
            else:
                m = re.fullmatch(rf"()({IDENT})", rest)
            if not m:
                raise HeaderError(f"cannot decide #{word} {rest}")
            negated = m.group(1) == "!" or word == "ifndef"
            name = m.group(2)
            if name not in defined and name != "__cplusplus":
                if not (word == "ifndef" and name == "MEMBRANE_H"):  # the include guard
                    raise HeaderError(f"cannot decide #{word} {rest}: {name} is not defined in the header")
            active.append((name in defined) != negated)
        elif word == "else":
            active[-1] = not active[-1] if all(active[:-1]) else False
        elif word == "endif":
            if len(active) == 1:
                raise HeaderError("#endif without #if")
            active.pop()
        elif not all(active):
            continue
        elif word == "include":
            continue  # stddef.h and jansson.h: an FFI knows size_t; json_t is declared opaque
        elif word == "define":
            m = re.match(rf"({IDENT})(\()?\s*(.*)", rest)
            if not m:
                raise HeaderError(f"cannot read #define {rest}")
            name, function_like, value = m.groups()
            defined.add(name)
            if not function_like and value:
                defines.append((length, name, value))
        else:
            raise HeaderError(f"unexpected directive #{word} {rest}")
    if len(active) != 1:
        raise HeaderError("unterminated #if")
    return "".join(code), defines


def statements(code):
    """Splits the C text into top-level declarations: [(offset, text)]."""
    result, depth, start = [], 0, 0
    for i, c in enumerate(code):
        if c in "\"'":
            raise HeaderError(f"a literal outside the preprocessor lines: {code[start:i + 20].strip()}")
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                raise HeaderError("unbalanced }")
            if depth == 0 and not re.match(r"\s*(typedef\s+)?(enum|struct|union)\b", code[start:i]):
                raise HeaderError(f"a function body or block in the header: {code[start:i].strip()[:60]}")
        elif c == ";" and depth == 0:
            text = " ".join(code[start:i].split())
            if text:  # its offset: where its first word is
                result.append((start + len(code[start:i]) - len(code[start:i].lstrip()), text))
            start = i + 1
    if depth or code[start:].strip():
        raise HeaderError(f"an unterminated declaration: {code[start:].strip()[:60]}")
    return result


def enum_body(body, constants):
    """`A = 1, B, C = 4` -> ["A = 1", "B = 2", "C = 4"], recording each value."""
    items, following = [], 0
    for item in [x.strip() for x in body.split(",")]:
        if not item:
            continue  # a trailing comma
        m = re.fullmatch(rf"({IDENT})\s*(?:=\s*(.+))?", item)
        if not m:
            raise HeaderError(f"cannot read the enumerator {item}")
        name, expr = m.groups()
        v = as_enum_value(name, evaluate(expr, constants) if expr else following)
        constants[name] = v
        items.append(f"{name} = {v}")
        following = v + 1
    return commas(items)


def commas(items):
    return [item + "," for item in items[:-1]] + items[-1:]


def block(head, lines, tail):
    return head + " {\n" + "".join(f"    {line}\n" for line in lines) + "}" + tail + ";"


def declaration(text, constants):
    """One top-level declaration as the file writes it."""
    if re.search(r"__attribute__|__declspec|\bextern\s*\"|\binline\b|\bstatic\b", text):
        raise HeaderError(f"an FFI cannot take this declaration: {text[:80]}")
    m = re.fullmatch(r"(.*?\benum\b[^{]*?)\s*\{(.*)\}(.*)", text)
    if m:
        head, body, tail = m.groups()
        return block(head, enum_body(body, constants), tail.rstrip() and " " + tail.strip())
    m = re.fullmatch(r"(.*?\b(?:struct|union)\b[^{]*?)\s*\{([^{}]*)\}(.*)", text)
    if m:
        head, body, tail = m.groups()
        fields = [f.strip() + ";" for f in body.split(";") if f.strip()]
        return block(head, fields, tail.rstrip() and " " + tail.strip())
    return re.sub(r"^extern\s+", "", text) + ";"


def generate(header_text):
    code, defines = preprocess(header_text)
    constants = {}
    version = None
    items = []  # (offset, kind, payload), in header order
    for offset, name, value in defines:
        if re.fullmatch(r'"[^"\\]*"', value):
            if name == "MEMBRANE_VERSION_STRING":
                version = value.strip('"')
            continue
        items.append((offset, 0, (name, value)))
    for offset, text in statements(code):
        items.append((offset, 1, text))
    items.sort(key=lambda item: (item[0], item[1]))

    out = [
        "/* membrane.cdef: the declarations of libmembrane"
        + (f" {version}" if version else "")
        + ", for FFIs (Python cffi's",
        "   ffi.cdef(), LuaJIT's ffi.cdef, Ruby fiddle): plain C, no preprocessor lines,",
        "   every constant an enum value. Generated from membrane.h by",
        "   packaging/ffi-declarations.py; do not edit. The documentation is in",
        "   membrane.h. Read each char array of membrane_error up to its first NUL",
        "   byte. */",
        "typedef struct json_t json_t;",
    ]
    pending = []  # consecutive #define constants, written as one enum

    def flush():
        if pending:
            out.append(block("enum", commas(pending), ""))
            pending.clear()

    # Function-pointer typedefs, spelled out where a prototype uses them:
    # Ruby fiddle's extern knows no typedef names, so every prototype line
    # stands on its own (the typedef stays, for cffi and LuaJIT users).
    function_types = {}

    for _, kind, payload in items:
        if kind == 0:
            name, value = payload
            v = as_enum_value(name, evaluate(value, constants))
            constants[name] = v
            pending.append(f"{name} = {v}")
        else:
            flush()
            text = declaration(payload, constants)
            m = re.fullmatch(r"typedef\s+(.+?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\);", text)
            if m:
                function_types[m.group(2)] = (m.group(1).strip(), m.group(3).strip())
            elif not text.startswith("typedef"):
                for alias, (result, parameters) in function_types.items():
                    text = re.sub(rf"\b{alias}\s+(\w+)", rf"{result} (*\1)({parameters})", text)
            out.append(text)
    flush()
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} HEADER OUTPUT", file=sys.stderr)
        return 2
    header, output = argv[1], argv[2]
    try:
        with open(header, encoding="utf-8") as f:
            text = generate(f.read())
    except (HeaderError, OSError) as e:
        print(f"{argv[0]}: {header}: {e}", file=sys.stderr)
        return 1
    # Written beside and renamed, so a failed run never leaves half a file.
    temporary = output + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
