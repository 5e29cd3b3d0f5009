#!/usr/bin/env python3
"""Checks that an FFI declarations file says what membrane.h says, with the
C compiler as judge rather than by comparing text.

Usage: check_declarations.py HEADER CDEF [CC]

Both ways:
  - everything the file declares matches the header: a C file that includes
    HEADER asserts, at compile time, that each function's type is the file's
    prototype (__builtin_types_compatible_p), that each constant has the
    file's value, and that each struct the file defines has the header's
    size and, field by field, the same offset and type;
  - everything the header declares is in the file: the functions GCC lists
    for HEADER (-aux-info), its integer macros (-dM) and the enumerators left
    in its preprocessed text are each declared by the file.

Prints what differs and exits 1; prints a one-line summary and exits 0 when
nothing does. Needs GCC (for -aux-info and __builtin_types_compatible_p).
"""
import os
import re
import subprocess
import sys
import tempfile

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def parse_cdef(text):
    """The file's declarations: constants {name: value}, functions
    {name: (return type, parameters)}, structs [(tag, typedef name, fields
    [(declaration, field name)])], and the other typedefs, verbatim."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    if "#" in text:
        raise ValueError("the file has a preprocessor line")
    constants, functions, structs, typedefs = {}, {}, [], []
    for statement in (" ".join(s.split()) for s in text.split(";")):
        if not statement or statement == "}":
            continue
        m = re.fullmatch(r"enum\s*(?:" + IDENT + r")?\s*\{(.*)\}", statement)
        if m:
            for item in m.group(1).split(","):
                name, value = (x.strip() for x in item.split("="))
                constants[name] = int(value)
            continue
        m = re.fullmatch(rf"typedef struct ({IDENT}) \{{ (.*)", statement)
        if m:  # the struct's fields arrive one statement each, up to "} name"
            structs.append([m.group(1), None, [m.group(2)]])
            continue
        if structs and structs[-1][1] is None:
            m = re.fullmatch(rf"\}} ({IDENT})", statement)
            if m:
                structs[-1][1] = m.group(1)
            else:
                structs[-1][2].append(statement)
            continue
        if statement.startswith("typedef "):
            typedefs.append(statement + ";")
            continue
        m = re.fullmatch(rf"(.*?)\b(membrane_\w+)\s*\((.*)\)", statement)
        if not m:
            raise ValueError(f"cannot read the declaration: {statement}")
        functions[m.group(2)] = (m.group(1).strip(), m.group(3))
    parsed_structs = []
    for tag, name, fields in structs:
        if name is None:
            raise ValueError(f"struct {tag} is not closed")
        named = []
        for field in fields:
            m = re.fullmatch(rf".*?\b({IDENT})\s*(\[\s*\d+\s*\])?", field)
            if not m:
                raise ValueError(f"cannot read the field {field} of struct {tag}")
            named.append((field, m.group(1)))
        parsed_structs.append((tag, name, named))
    return constants, functions, parsed_structs, typedefs


def assertions(constants, functions, structs, typedefs):
    """The C file: the header, then one _Static_assert per claim."""
    lines = ["#include <stddef.h>", "#include <membrane.h>"]
    lines += typedefs  # identical typedefs may be repeated (C11)
    for name, value in constants.items():
        lines.append(f'_Static_assert({name} == {value}, "constant {name}: not {value} in the header");')
    for name, (result, parameters) in functions.items():
        lines.append(
            f"_Static_assert(__builtin_types_compatible_p(__typeof__(&{name}), {result} (*)({parameters})), "
            f'"function {name}: its prototype differs from the header");')
    for tag, name, fields in structs:
        copy = f"cdef_{tag}"
        lines.append(f"struct {copy} {{ " + " ".join(f + ";" for f, _ in fields) + " };")
        lines.append(f'_Static_assert(sizeof(struct {copy}) == sizeof({name}), "struct {name}: its size differs");')
        for _, field in fields:
            lines.append(
                f"_Static_assert(offsetof(struct {copy}, {field}) == offsetof({name}, {field}), "
                f'"struct {name}: field {field} is at another offset");')
            lines.append(
                f"_Static_assert(__builtin_types_compatible_p(__typeof__(((struct {copy} *)0)->{field}), "
                f'__typeof__((({name} *)0)->{field})), "struct {name}: field {field} has another type");')
    return "\n".join(lines) + "\n"


def header_names(cc, header_dir, header, work):
    """What the header itself declares: functions, integer macros and
    enumerators (the MEMBRANE_ names left after preprocessing)."""
    source = os.path.join(work, "names.c")
    with open(source, "w") as f:
        f.write("#include <membrane.h>\n")
    aux = os.path.join(work, "aux-info.txt")
    subprocess.run([cc, "-std=c99", "-I", header_dir, "-aux-info", aux, "-c", source,
                    "-o", os.path.join(work, "names.o")], check=True)
    functions = set()
    for line in open(aux):
        m = re.match(r"/\* (.*?):\d+:\w+ \*/ .*?\b(\w+) \(", line)
        if m and os.path.realpath(m.group(1)) == os.path.realpath(header):
            functions.add(m.group(2))

    macros = set()
    defines = subprocess.run([cc, "-std=c99", "-I", header_dir, "-dM", "-E", source],
                             check=True, capture_output=True, text=True).stdout
    for line in defines.splitlines():
        m = re.match(r"#define (MEMBRANE_\w+)(\(?)\s*(.*)", line)
        if m and not m.group(2) and m.group(3) and not m.group(3).startswith('"'):
            macros.add(m.group(1))

    enumerators, in_header = set(), False
    expanded = subprocess.run([cc, "-std=c99", "-I", header_dir, "-E", source],
                              check=True, capture_output=True, text=True).stdout
    for line in expanded.splitlines():
        marker = re.match(r'# \d+ "(.*?)"', line)
        if marker:
            in_header = os.path.realpath(marker.group(1)) == os.path.realpath(header)
        elif in_header:
            enumerators.update(re.findall(r"\bMEMBRANE_[A-Z0-9_]+\b", line))
    return functions, macros | enumerators


def main(argv):
    if len(argv) not in (3, 4):
        print(f"usage: {argv[0]} HEADER CDEF [CC]", file=sys.stderr)
        return 2
    header, cdef = os.path.abspath(argv[1]), argv[2]
    cc = argv[3] if len(argv) == 4 else "gcc"
    header_dir = os.path.dirname(header)
    if os.path.basename(header) != "membrane.h":
        print(f"{argv[0]}: HEADER must be named membrane.h", file=sys.stderr)
        return 2
    try:
        constants, functions, structs, typedefs = parse_cdef(open(cdef).read())
    except ValueError as e:
        print(f"{cdef}: {e}")
        return 1
    problems = []
    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, "assertions.c")
        with open(source, "w") as f:
            f.write(assertions(constants, functions, structs, typedefs))
        compiled = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", header_dir,
                                   "-fsyntax-only", source], capture_output=True, text=True)
        if compiled.returncode != 0:
            failed = re.findall(r'static assertion failed: "(.*?)"', compiled.stderr)
            problems += failed or ["the declarations do not compile beside the header:\n"
                                   + compiled.stderr.strip()]
        try:
            header_functions, header_constants = header_names(cc, header_dir, header, work)
        except subprocess.CalledProcessError as e:
            print(f"{argv[0]}: {cc} failed on {header}: {e}")
            return 1
    problems += [f"function {name}: in the header, not in the file"
                 for name in sorted(header_functions - functions.keys())]
    problems += [f"constant {name}: in the header, not in the file"
                 for name in sorted(header_constants - constants.keys())]
    if not header_functions or not header_constants:
        problems.append("found no functions or no constants in the header: the check itself is broken")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{len(functions)} functions, {len(constants)} constants and "
          f"{sum(len(fields) for _, _, fields in structs)} struct fields match {header}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
