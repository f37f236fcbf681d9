"""Prints the translation units of a unity tree that hold the given sources (tools/lint.sh).

Usage: lint_units.py COMPILE_COMMANDS ROOT SOURCE...  A source with a compile command of its
own is its own unit; the others are found in the unity files that #include them. A source with
no unit (not compiled on this machine: neon.cpp on x86) is named on stderr.
"""
import json
import os
import re
import sys


def main():
    db, root, sources = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    units = set()
    with open(db, encoding="utf-8") as f:
        entries = json.load(f)
    for entry in entries:
        path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        rel = os.path.relpath(path, root)
        if rel in sources:
            units.add(path)
            sources.discard(rel)
        elif "/Unity/" in rel:
            with open(path, encoding="utf-8") as unity:
                for line in unity:
                    m = re.match(r'#include "(.*)"', line)
                    if m and os.path.relpath(m.group(1), root) in sources:
                        units.add(path)
                        sources.discard(os.path.relpath(m.group(1), root))
    for source in sorted(sources):
        print("lint: not compiled on this machine, not checked: " + source, file=sys.stderr)
    print("\n".join(sorted(units)))


main()
