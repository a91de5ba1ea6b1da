#!/usr/bin/env python3
"""Sums JUnit XML reports (ctest, pytest, node --test) into per-file and total counts.

With --count, prints only "<passed> <failed>" for the shell to read.
"""
import os
import sys
import xml.etree.ElementTree as ET


def count(path):
    passed = failed = skipped = 0
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return 0, 1, 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(argv):
    only_count = argv and argv[0] == "--count"
    paths = argv[1:] if only_count else argv
    tp = tf = ts = 0
    for p in paths:
        if not os.path.exists(p):  # an unmatched shell glob: no reports yet
            continue
        a, b, c = count(p)
        tp, tf, ts = tp + a, tf + b, ts + c
        if not only_count:
            print(f"  {p.rsplit('/', 1)[-1]}: {a} passed, {b} failed, {c} skipped")
    if only_count:
        print(tp, tf)


if __name__ == "__main__":
    main(sys.argv[1:])
