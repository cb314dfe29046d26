#!/usr/bin/env python3
"""Generate single_include/mote/mote.hpp: mote as one header.

Starts from include/mote/mote.hpp and replaces every `#include "mote/..."` (or <mote/...>, or a
quoted include that resolves to a file under include/mote/) with that file's text, recursively and
once per file, so files appear in dependency order. `#pragma once` lines of inlined files are
dropped (the output has one); system and third-party includes are kept where they are, except
that a <header> already included outside any #if is not repeated. The output
depends only on the headers and the version in CMakeLists.txt (no dates, no commit ids), so it is
deterministic.

Files named `*-inl.hpp` have no `#pragma once` and are expanded at every include (mote's SIMD
kernels are compiled once per target that way).

A header first reached inside an #if/#ifdef block is wrapped in a guard macro and inlined again at
its next include, so a later unconditional include still finds it.

Usage:
  python3 tools/amalgamate.py            # (re)write single_include/mote/mote.hpp
  python3 tools/amalgamate.py --check    # exit 1 if the committed file is stale
Python 3 standard library only.
"""

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE_DIR = ROOT / "include"
ENTRY = INCLUDE_DIR / "mote" / "mote.hpp"
DEFAULT_OUTPUT = ROOT / "single_include" / "mote" / "mote.hpp"

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*(["<])([^">]+)[">]')
PRAGMA_ONCE_RE = re.compile(r"^\s*#\s*pragma\s+once\b")
DIRECTIVE_RE = re.compile(r"^\s*#\s*(\w+)\s*(\w*)")


class AmalgamateError(Exception):
    pass


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    match = re.search(r"project\s*\(\s*mote\b[^)]*?\bVERSION\s+([0-9][0-9.]*)", text)
    if not match:
        raise AmalgamateError("cannot find `project(mote VERSION x.y.z)` in CMakeLists.txt")
    return match.group(1)


def include_guard_lines(lines):
    """Indices of a classic include guard's `#ifndef X` and its `#endif`, else an empty set."""
    directives = []  # (index, keyword, argument)
    for index, line in enumerate(lines):
        match = DIRECTIVE_RE.match(line)
        if match:
            directives.append((index, match.group(1), match.group(2)))
    if len(directives) < 3:
        return set()
    (first, kw0, name0), (_, kw1, name1) = directives[0], directives[1]
    if kw0 != "ifndef" or kw1 != "define" or name0 != name1:
        return set()
    depth = 0
    for position, (index, keyword, _) in enumerate(directives):
        if keyword in ("if", "ifdef", "ifndef"):
            depth += 1
        elif keyword == "endif":
            depth -= 1
            if depth == 0:
                # The guard's #endif must be the file's last directive.
                return {first, index} if position == len(directives) - 1 else set()
    return set()


class Amalgamator:
    def __init__(self, include_dir):
        self.include_dir = include_dir.resolve()
        self.mote_dir = self.include_dir / "mote"
        self.unconditional = set()  # inlined where it is always compiled: never again
        self.guarded = set()  # inlined inside an #if at least once: every copy is guarded
        self.inlined = []  # every header, in first-inlined order
        self.stack = []  # headers being expanded (an include cycle is a no-op, as #pragma once)
        self.system_seen = set()  # <header>s already included outside any #if: drop repeats
        self.out = []

    def rel(self, path):
        return path.relative_to(self.include_dir).as_posix()

    def resolve(self, spelled, delimiter, including_file):
        candidates = []
        if delimiter == '"':
            candidates.append(including_file.parent / spelled)
        candidates.append(self.include_dir / spelled)
        for candidate in candidates:
            if candidate.is_file():
                candidate = candidate.resolve()
                if self.mote_dir in candidate.parents:
                    return candidate
                return None
        if spelled.startswith("mote/"):
            raise AmalgamateError(
                f"{self.rel(including_file)}: #include of {spelled}, which is not under include/")
        return None

    def expand(self, path, conditional):
        """Append `path`'s text to self.out; `conditional`: reached inside an #if block."""
        # `*-inl.hpp` files are meant to be included several times (once per SIMD target, in a
        # different namespace and target region): every include is expanded, unguarded.
        reincludable = path.name.endswith("-inl.hpp")
        if path in self.stack or (path in self.unconditional and not reincludable):
            return
        name = self.rel(path)
        if path not in self.inlined:
            self.inlined.append(path)
        if not conditional and not reincludable:
            self.unconditional.add(path)
        guard = None
        if not reincludable and (conditional or path in self.guarded):
            self.guarded.add(path)
            guard = "MOTE_SINGLE_INCLUDE_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "_"
        lines = path.read_text(encoding="utf-8").splitlines()
        guard_lines = include_guard_lines(lines)

        self.stack.append(path)
        self.out.append(f"// ----- begin {name} -----")
        if guard:
            self.out += [f"#ifndef {guard}", f"#define {guard}"]
        depth = 0
        for index, line in enumerate(lines):
            if PRAGMA_ONCE_RE.match(line):
                continue
            directive = DIRECTIVE_RE.match(line)
            if directive and index not in guard_lines:
                keyword = directive.group(1)
                if keyword in ("if", "ifdef", "ifndef"):
                    depth += 1
                elif keyword == "endif":
                    depth -= 1
            include = INCLUDE_RE.match(line)
            if include:
                target = self.resolve(include.group(2), include.group(1), path)
                if target is not None:
                    self.expand(target, conditional or depth > 0)
                    continue
                if include.group(1) == "<" and not conditional and depth == 0:
                    if include.group(2) in self.system_seen:
                        continue
                    self.system_seen.add(include.group(2))
            self.out.append(line.rstrip("\r"))
        if guard:
            self.out.append(f"#endif  // {guard}")
        self.out.append(f"// ----- end {name} -----")
        self.stack.pop()


def generate():
    if not ENTRY.is_file():
        raise AmalgamateError(f"{ENTRY.relative_to(ROOT)} does not exist")
    version = project_version()
    amalgamator = Amalgamator(INCLUDE_DIR)
    amalgamator.expand(ENTRY.resolve(), conditional=False)
    banner = [
        f"// mote {version}: the whole library in one header (include/mote/mote.hpp and every",
        "// header it includes from include/mote/, in dependency order).",
        "//",
        "// GENERATED FILE, DO NOT EDIT. Change the headers under include/ and run",
        "//   python3 tools/amalgamate.py",
        "// CTest's single_include.fresh fails while this file is out of date.",
        "#pragma once",
        "",
    ]
    text = "\n".join(banner + amalgamator.out) + "\n"
    all_headers = {p.resolve() for p in (INCLUDE_DIR / "mote").rglob("*") if p.is_file()
                   and p.suffix in (".hpp", ".h")}
    unreached = sorted(amalgamator.rel(p) for p in all_headers - set(amalgamator.inlined))
    return text, len(amalgamator.inlined), unreached


def display(path):
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the output file differs from what would be "
                             "generated")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="output file (default: single_include/mote/mote.hpp)")
    args = parser.parse_args(argv)

    try:
        text, count, unreached = generate()
    except AmalgamateError as error:
        print(f"amalgamate.py: error: {error}", file=sys.stderr)
        return 2
    if unreached:
        print("amalgamate.py: note: not included by mote/mote.hpp, so not in the single header: "
              + ", ".join(unreached), file=sys.stderr)

    output = args.output
    if args.check:
        current = output.read_bytes().decode("utf-8", "replace") if output.is_file() else None
        if current == text:
            print(f"{display(output)} is up to date ({count} headers)")
            return 0
        if current is None:
            print(f"{display(output)} does not exist.", file=sys.stderr)
        else:
            print(f"{display(output)} is STALE: it differs from the headers under include/.",
                  file=sys.stderr)
            diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(),
                                             "committed", "generated", lineterm="", n=1))
            shown = diff[:40]
            print("\n".join(shown), file=sys.stderr)
            if len(diff) > len(shown):
                print(f"... ({len(diff) - len(shown)} more diff lines)", file=sys.stderr)
        print("Regenerate it with: python3 tools/amalgamate.py", file=sys.stderr)
        return 1

    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
    print(f"wrote {display(output)} ({count} headers, {text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
