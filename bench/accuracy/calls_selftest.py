#!/usr/bin/env python3
"""Self-test of the CALLS comparison on a hand-made case (no rustc needed).

testdata/calls_crate/ is a tiny crate with calls of every shape the MIR oracle
handles (inherent and trait methods, generic and dyn receivers, a closure, `?`
and `for` desugarings, a macro_rules body, a nested fn, a method chain over
three lines, a derived Clone, cfg-off and #[test] code). Its files:
  calls.tsv     mir_calls.py's table for it (made from rustc's MIR; --regen
                makes it again and checks that it has not changed)
  export.jsonl  ferrograph's export of it, with its CALLS edges edited by hand
                into known cases: a missing edge (line 66), an edge to the
                trait declaration where the compiler calls the impl method (67),
                a name_only edge given as a "props" JSON text (71), an edge
                from the wrong fn (73: from `caller`, the call is in the nested
                `inner`), an edge on a line without a call (68), an edge to a
                fn the line does not call (75), an edge to a struct (69), and
                two edges to external nodes (65 right, 66 wrong)

Usage: calls_selftest.py [--regen]   (exit status 0 when every check passes)
"""

import argparse
import difflib
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import compare  # noqa: E402

FIXTURE = os.path.join(here, "testdata", "calls_crate")

EXPECTED = {
    "recall: total": 12,                 # keep calls to crate fns, callee not macro-made
    "recall: found": 9,
    "recall: resolved": 8,               # 71 is found through a name_only edge only
    "recall: found as name_only": 1,
    "recall miss: an edge to another fn": 1,                                          # 66
    "recall miss: an edge to the trait's declaration, MIR calls an impl's method": 1,  # 67
    "recall miss: right callee, src does not hold the caller": 1,                    # 73
    "recall (callee made by a macro): total": 1,   # the derived clone() (69)
    "excluded: macro_rules body": 1,               # Regex::new inside make!'s body (60)
    "precision: counted": 13,
    "precision: right": 8,
    "precision: trait declaration for the impl method": 1,
    "precision wrong (exact): no MIR call on this line": 1,            # 68
    "precision wrong (exact): src does not hold the MIR caller": 1,    # 73
    "precision wrong (import): MIR calls another crate fn here": 1,    # 75
    "precision wrong (method): the trait's declaration, MIR calls an impl's method": 1,  # 67
    "precision wrong: dst is not a fn": 1,                             # 69
    "resolved edges from code the compiler did not build (cfg off, cfg(test), #[test])": 2,
    "name_only edges (compiled code)": 1,
    "name_only sites whose candidates hold the MIR callee": 1,
    "external: counted": 2,
    "external: exact": 1,
    "external wrong: MIR calls a crate fn here": 1,
}


def regen():
    """Makes calls.tsv again from rustc (cargo offline) and diffs it."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CARGO_TARGET_DIR=tmp, RUSTC_BOOTSTRAP="1")
        subprocess.run(["cargo", "rustdoc", "--lib", "-q", "--offline", "--", "-Z", "unstable-options",
                        "--output-format", "json", "--document-private-items", "--document-hidden-items",
                        "--cap-lints=allow"], cwd=FIXTURE, env=env, check=True)
        mir = os.path.join(tmp, "fixture.mir")
        with open(mir, "w") as f:
            subprocess.run(["cargo", "rustc", "--lib", "-q", "--offline", "--", "-Zunpretty=mir",
                            "-Zmir-include-spans=yes", "-Ztrim-diagnostic-paths=no", "-Zmir-opt-level=0",
                            "--cap-lints=allow"], cwd=FIXTURE, env=env, check=True, stdout=f)
        out = os.path.join(tmp, "calls.tsv")
        subprocess.run([sys.executable, os.path.join(here, "mir_calls.py"), "--mir", mir, "--rustdoc",
                        os.path.join(tmp, "doc", "calls_fixture.json"), "--src", FIXTURE, "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            new = f.readlines()
        with open(os.path.join(FIXTURE, "calls.tsv")) as f:
            old = f.readlines()
        if new != old:
            sys.stdout.writelines(difflib.unified_diff(old, new, "calls.tsv (committed)", "calls.tsv (rustc now)"))
            return False
        print("calls.tsv: rustc's MIR gives the committed table")
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--regen", action="store_true", help="also rebuild calls.tsv with rustc and compare")
    a = ap.parse_args()
    ok = True
    if a.regen:
        ok = regen()
    r = compare.calls_compare(os.path.join(FIXTURE, "calls.tsv"), os.path.join(FIXTURE, "export.jsonl"),
                              "calls_fixture", 6, FIXTURE, None)
    st = r["stats"]
    for k, want in EXPECTED.items():
        got = st.get(k, 0)
        if got != want:
            print("FAIL %s: %d, expected %d" % (k, got, want))
            ok = False
    lines = []
    compare.calls_report([{"label": "calls_fixture", "calls": r}], lines)
    if not any(l.startswith("| **all** | 12 | 9 | 75.0% | 8 |") for l in lines):
        print("FAIL report row: %s" % [l for l in lines if l.startswith("| **all**")])
        ok = False
    print("calls self-test: %s (%d checks)" % ("ok" if ok else "FAILED", len(EXPECTED) + 1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
