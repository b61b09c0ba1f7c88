#!/usr/bin/env python3
"""Turns rustc's MIR of a crate into a table of resolved calls (the CALLS oracle).

Input: the output of
  RUSTC_BOOTSTRAP=1 cargo rustc --lib -- -Zunpretty=mir -Zmir-include-spans=yes \
      -Ztrim-diagnostic-paths=no -Zmir-opt-level=0
(mir_truth.sh runs it), the crate's rustdoc JSON and its source tree.
Python 3 standard library only.

Usage:
  mir_calls.py --mir CRATE.mir[.gz] --rustdoc CRATE.json --src DIR --out CRATE.tsv

What is read from the MIR
  * every body: `fn NAME(..)`, `const NAME: ..`, `static NAME: ..`. A fn body's
    anchor is its return place's span (`let mut _0: T; // return place in scope
    0 at FILE:L:C`), which lies in the fn's signature.
  * every Call terminator `[DEST = ]CALLEE(ARGS) -> [..]; // scope N at SPAN`:
    SPAN is the call expression (a method call's starts at its receiver); the
    `// + span:` of the first `mir::ConstOperand` that follows, when its value
    is CALLEE, is the callee operand (the method name, the path of a path
    call). CALLEE is printed as rustc's def path with generic args: items of
    the crate itself without the crate name (`compile::Compiler::new`),
    everything else with it (`std::result::Result::<T, E>::unwrap`), trait
    methods as `<SelfTy as Trait>::m`.

Caller: the innermost *fn* body. Closures, coroutines (async), anon consts and
items nested in a fn body (`f::{closure#0}`, `f::{constant#0}`, `f::X`) are
attributed to the enclosing fn body, like ferrograph does.

Callee -> definition (file, line) of the crate, through the rustdoc JSON:
  * `a::b::f`                 free fn `f` of module a::b (def paths are built
                              by walking rustdoc's module tree, `use` items
                              skipped)
  * `a::T::m`, `a::T::<X>::m` the method `m` of an inherent impl of local type
                              a::T (several impls defining m: disambiguated
                              by nothing; all are kept, target "ambiguous")
  * `<S as Tr>::m`, Tr local  S a local type: the impl of Tr for S, else (the
                              impl does not define m) the trait's provided
                              method; S a generic parameter, `Self`, `dyn
                              Tr`, a projection: the trait's declaration of m
                              ("For a trait method called on a generic/dyn
                              receiver, the truth callee is the trait's
                              method declaration"); S a foreign type: the
                              impl of Tr whose self type has S's name, else a
                              blanket impl, else the declaration
  * `<S as Tr>::m`, Tr foreign, S a local type: the impl method m in the
                              crate's impl of Tr for S; if that impl does not
                              define m, the call runs the foreign default:
                              external
  * items that rustdoc does not list (fns and impls inside fn bodies): the
    MIR body with that path (`outer::inner`, or `outer::<impl at F>::m` whose
    impl header names the type), its anchor as the definition line
  * other crates (first segment std/core/alloc or an external crate of the
    rustdoc JSON): external, with a normalized path (`<S as Tr>::m` -> Tr::m,
    generic args dropped)

Each call gets a class; only `keep` calls to local callees make up the recall
target (compare.py). The classes, first that applies:
  indirect        (not written to the table) the callee is a local (fn
                  pointer, `copy _5(..)`) or the call is a Drop/Assert
  outside         the call site's span is not in the crate's source files:
                  expansions of std or dependency macros (format_args!,
                  vec!, write!, assert_eq! internals...), include!/OUT_DIR
  caller not fn   the innermost body is a const/static initializer
  derive          the caller is in an #[automatically_derived] impl
                  (#[derive(..)]: its spans point at the type's fields)
  macro_rules body  the call site lies inside a `macro_rules!` definition of
                  the crate (code written in a macro, compiled once per use;
                  ferrograph reads macro bodies as token trees)
  caller in macro the caller fn itself is produced by a macro invocation (its
                  anchor lies inside a `name!(..)` invocation or a macro_rules
                  body, or rustdoc reports it at a macro call site)
  desugared       the callee operand's source text does not end with the
                  callee's name: the compiler made the call (`?` -> Try::branch
                  / From::from, `for` -> IntoIterator::into_iter /
                  Iterator::next, `.await`, operators -> Add::add, Index::index,
                  auto-deref -> Deref::deref, calling a closure -> Fn::call,
                  Drop)
  keep            everything else
Targets: local (callee_def = file:line), ambiguous (several file:line),
external (callee = normalized path), unmapped (local-looking path the script
could not place; reported so that the mapper can be fixed).
Calls are de-duplicated on (caller, site file, site line, callee).

Output (TSV, `#` header line), one row per call:
  class        as above
  caller_file, caller_line, caller
               the caller fn body: its anchor (a line of its signature) and
               MIR name (`compile::<impl at src/compile.rs:54:1: 54:14>::c`)
  site_file, site_line   the call expression's first line
  op_line      the callee operand's line (a method call's name; differs from
               site_line in multi-line method chains)
  target       local | ambiguous | external | unmapped
  callee_defs  file:line of the definition (comma-separated when ambiguous):
               rustdoc's span begin, or a MIR body anchor (items in fn bodies)
  callee_name  the callee's name; callee: the printed/normalized path
  via          how the callee was placed (inherent impl, trait decl (generic
               receiver), impl of foreign trait, fn, mir body, ...)
  callee_in_macro  1: the callee is produced by a macro (rustdoc places it at
               the macro call)
  in_macro     1: the call site lies inside a macro invocation of the crate's
               source (`assert!(f(x))`, `vec![g()]`)
  form         method (`x.f()`) | path (`f()`, `T::f()`) | - (not known)
  trait_decl   for a method of an impl of a crate trait: file:line of the
               trait's declaration of it (compare.py reports edges that stop
               there apart)
and one `body` row per fn body of the MIR (class, caller_file, caller_line,
caller only): the fns the compiler compiled, for compare.py's precision.
"""

import argparse
import collections
import gzip
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (load_rustdoc, std_normalize)

EXTERNAL_ROOTS = {"std", "core", "alloc", "proc_macro", "test"}
PRIMITIVES = {"bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16",
              "i32", "i64", "i128", "isize", "f32", "f64", "!", "()"}

# ------------------------------------------------------------ a small lexer

IDENT_RE = re.compile(r"[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*")
RAW_STR_RE = re.compile(r'(?:b|c)?r(#*)"')
CHAR_RE = re.compile(r"(?:\\(?:u\{[0-9a-fA-F_]*\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'")
NUM_RE = re.compile(r"[0-9][\w.]*")


def scan_macros(text):
    """(macro_rules definitions, macro invocations) of a Rust source file, each
    as ((line, col), (line, col)) with 1-based lines and columns, end exclusive.
    Comments, strings, raw strings and char literals are skipped."""
    toks = []   # (kind, value, line, col)
    i, n, line, col0 = 0, len(text), 1, 0   # col0 = index where the line starts

    def pos(k):
        return line, k - col0 + 1

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            col0 = i
            continue
        if c.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth += 1
                    j += 2
                elif text.startswith("*/", j):
                    depth -= 1
                    j += 2
                else:
                    if text[j] == "\n":
                        line += 1
                        col0 = j + 1
                    j += 1
            i = j
            continue
        m = RAW_STR_RE.match(text, i) if c in "bcr" else None
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find('"' + m.group(1), m.end())
            end = n if end < 0 else end + 1 + len(m.group(1))
            line += text.count("\n", i, end)
            nl = text.rfind("\n", i, end)
            if nl >= 0:
                col0 = nl + 1
            toks.append(("lit", "", line, 0))
            i = end
            continue
        if c == '"' or (c in "bc" and text.startswith('"', i + 1)):
            j = i + (1 if c == '"' else 2)
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 1
                if j < n and text[j] == "\n":
                    line += 1
                    col0 = j + 1
                j += 1
            toks.append(("lit", "", line, 0))
            i = j + 1
            continue
        if c == "'" or (c == "b" and text.startswith("'", i + 1)):
            j = i + (1 if c == "'" else 2)
            m = CHAR_RE.match(text, j)
            if m:
                toks.append(("lit", "", line, 0))
                i = m.end()
                continue
            i = j   # a lifetime: the ident follows
            continue
        m = IDENT_RE.match(text, i)
        if m:
            toks.append(("id", m.group(0)) + pos(i))
            i = m.end()
            continue
        if c.isdigit():
            m = NUM_RE.match(text, i)
            i = m.end()
            toks.append(("lit", "", line, 0))
            continue
        toks.append(("p", c) + pos(i))
        i += 1

    defs, calls = [], []
    close = {"(": ")", "[": "]", "{": "}"}
    k = 0
    while k < len(toks):
        t = toks[k]
        if t[0] == "id" and k + 2 < len(toks) and toks[k + 1][0] == "p" and toks[k + 1][1] == "!":
            nxt = k + 2
            is_def = t[1] == "macro_rules"
            if is_def and toks[nxt][0] == "id":
                nxt += 1
            if nxt < len(toks) and toks[nxt][0] == "p" and toks[nxt][1] in close:
                # start of the whole path (a::b!): walk back over `ident ::`
                s = k
                while s >= 2 and toks[s - 1][1] == ":" and toks[s - 2][1] == ":" and s >= 3 \
                        and toks[s - 3][0] == "id":
                    s -= 3
                depth, j = 0, nxt
                while j < len(toks):
                    if toks[j][0] == "p" and toks[j][1] in "([{":
                        depth += 1
                    elif toks[j][0] == "p" and toks[j][1] in ")]}":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                if j < len(toks):
                    span = ((toks[s][2], toks[s][3]), (toks[j][2], toks[j][3] + 1))
                    (defs if is_def else calls).append(span)
                    if is_def:
                        k = j + 1   # nothing inside a macro_rules body is an invocation
                        continue
                    k = nxt + 1     # invocations nest: keep scanning inside
                    continue
        k += 1
    return defs, calls


def inside(spans, lc):
    return any(a <= lc < b for a, b in spans)


# ----------------------------------------------------- printed paths and types

def split_top(s, sep="::"):
    """Splits at sep outside <>, (), [], {} (the `>` of `->` does not close)."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c in "<([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ">" and not (i > 0 and s[i - 1] == "-"):
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            out.append(s[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    out.append(s[start:])
    return out


def find_top(s, chars, start=0):
    depth = 0
    for i in range(start, len(s)):
        c = s[i]
        if depth == 0 and c in chars:
            return i
        if c in "<([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ">" and not (i > 0 and s[i - 1] == "-"):
            depth -= 1
    return -1


def matching_angle(s, i):
    depth = 0
    for j in range(i, len(s)):
        c = s[j]
        if c in "<([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ">" and not (j > 0 and s[j - 1] == "-"):
            depth -= 1
            if depth == 0:
                return j
    return -1


def strip_generics(seg):
    """`Fsm<'_, I>` / `new::<T>` -> `Fsm` / `new`."""
    i = find_top(seg, "<") if not seg.startswith("<") else -1
    if seg.startswith("<"):
        return seg
    k = seg.find("<")
    return (seg[:k] if k >= 0 else seg).rstrip(":").strip()


def parse_path(s):
    """A printed value path -> (qself, qtrait, [segments without generic args]).
    qself/qtrait are set for `<S as T>::...` (qtrait None for `<S>::...`).
    An `<impl ...>` segment is kept as is."""
    s = s.strip()
    qself = qtrait = None
    rest = s
    if s.startswith("<"):
        j = matching_angle(s, 0)
        inner = s[1:j]
        parts = split_top(inner, " as ")
        if len(parts) > 1 or not inner.startswith("impl "):
            qself = parts[0].strip()
            qtrait = parts[1].strip() if len(parts) > 1 else None
            rest = s[j + 1:]
            if rest.startswith("::"):
                rest = rest[2:]
    segs = []
    raw = [x.strip() for x in split_top(rest)] if rest else []
    for n, seg in enumerate(raw):
        if not seg:
            continue
        if seg.startswith("<impl ") and n + 1 < len(raw):
            segs.append(seg)        # `a::<impl Type>::m` (a trailing one is `f::<impl Fn()>`)
        elif seg.startswith("<"):
            continue            # turbofish generic args
        else:
            segs.append(strip_generics(seg))
    return qself, qtrait, segs


def type_shape(t):
    """What a printed type is, for picking impls: ('path', [segments]),
    ('generic', name), ('dyn', trait path), ('prim', name), ('other', text)."""
    t = t.strip()
    while True:
        t2 = re.sub(r"^(&\s*('\w+\s+|'\{erased\}\s+)?(mut\s+)?|\*(const|mut)\s+)", "", t).strip()
        if t2.startswith("(") and t2.endswith(")") and find_top(t2[1:-1], ",") < 0 and t2 != "()":
            t2 = t2[1:-1].strip()
        if t2 == t:
            break
        t = t2
    if t.startswith("dyn "):
        first = split_top(t[4:], " + ")[0].strip()
        return "dyn", first
    if t.startswith("impl "):
        return "dyn", t[5:].strip()
    if t.startswith("<"):
        return "generic", t         # a projection <I as Iterator>::Item
    if t.startswith("[") or t.startswith("(") or t.startswith("fn(") or t.startswith("{") \
            or t.startswith("unsafe ") or t.startswith("extern ") or t.startswith("for<"):
        return "other", t
    base = strip_generics(t)
    if base in PRIMITIVES:
        return "prim", base
    segs = [strip_generics(x) for x in split_top(t) if not x.strip().startswith("<")]
    return "path", [x for x in segs if x]


def trait_args(t):
    """A printed trait's generic args, normalized: `From<std::io::Error>` -> ['Error']."""
    k = t.find("<")
    if k < 0:
        return []
    j = matching_angle(t, k)
    return [norm_type(a) for a in split_top(t[k + 1:j], ", ") if not a.strip().startswith("'")]


def args_fit(impl_args, call_args):
    """2 when an impl's trait args read as the call's, 1 when they fit with the
    impl's identifiers as wildcards (generic params), 0 when not."""
    if len(impl_args) != len(call_args):
        return 0
    if impl_args == call_args:
        return 2
    for ia, ca in zip(impl_args, call_args):
        pat = "".join(".+?" if re.match(r"\w", tok) else re.escape(tok)
                      for tok in re.findall(r"\w+|.", ia))
        if not re.fullmatch(pat, ca):
            return 0
    return 1


def narrow(cands, call_args, args_of):
    """The candidates (impl id, ...) whose trait args best fit the call's."""
    if len(cands) < 2:
        return cands
    scored = [(args_fit(args_of(c[0]), call_args), c) for c in cands]
    best = max(s for s, _ in scored)
    return [c for s, c in scored if s == best] if best > 0 else cands


def impl_fits(seg, header):
    """Does a printed impl segment (`<impl Tr<'a> for m::T>`, `<impl T>`) name the
    same trait and self type as an impl's source header (`impl<'a> Tr<'a> for T`)?"""
    inner = seg[len("<impl "):-1] if seg.startswith("<impl ") else seg
    hdr = re.sub(r"^\s*(unsafe\s+)?impl\s*", "", header or "").split("{")[0].strip()
    if hdr.startswith("<"):
        hdr = hdr[matching_angle(hdr, 0) + 1:].strip()
    hdr = re.split(r"\bwhere\b", hdr)[0].strip()

    def parts(t):
        p = split_top(t, " for ")
        return (p[0], p[1]) if len(p) > 1 else (None, p[0])
    (t1, s1), (t2, s2) = parts(inner), parts(hdr)
    if (t1 is None) != (t2 is None):
        return False
    if t1 is not None and compare.base_name(t1) != compare.base_name(t2):
        return False
    return compare.base_name(s1) == compare.base_name(s2)


NOT_FORWARDED = {"Clone", "Copy", "ToOwned", "Borrow", "BorrowMut", "Into", "From",
                 "TryFrom", "TryInto", "Any", "Default"}


def box_arg(t):
    """`std::boxed::Box<path::Path>` (references stripped) -> `path::Path`."""
    t = re.sub(r"^(&\s*('\w+\s+)?(mut\s+)?)+", "", t.strip())
    k = t.find("<")
    if k < 0:
        return None
    j = matching_angle(t, k)
    args = split_top(t[k + 1:j], ", ")
    return args[0].strip() if args else None


def wild_key(segs):
    return tuple("<impl>" if x.startswith("<impl ") else x for x in segs)


def render_full(t):
    """compare.render_type with the generic args of paths."""
    if isinstance(t, dict) and "resolved_path" in t:
        v = t["resolved_path"]
        args = ((v.get("args") or {}).get("angle_bracketed") or {}).get("args", [])
        tys = [render_full(a["type"]) for a in args if isinstance(a, dict) and "type" in a]
        return v["path"] + ("<%s>" % ", ".join(tys) if tys else "")
    if isinstance(t, dict) and "borrowed_ref" in t:
        v = t["borrowed_ref"]
        return "&" + ("mut " if v.get("is_mutable") else "") + render_full(v["type"])
    if isinstance(t, dict) and "tuple" in t:
        return "(" + ", ".join(render_full(x) for x in t["tuple"]) + ")"
    if isinstance(t, dict) and "slice" in t:
        return "[" + render_full(t["slice"]) + "]"
    return compare.render_type(t)


def norm_type(t):
    t = re.sub(r"'\w+|'\{erased\}", "", t)
    t = re.sub(r"\b\w+::", "", t)
    t = re.sub(r"\bdyn\b|\s+", "", t)
    return t.replace("<>", "").replace("<,", "<").replace(",>", ">")


def ref_shape(t):
    return re.match(r"^[&*\s]*(?:mut\s+|const\s+)?", re.sub(r"'\w+", "", t)).group(0).replace(" ", "")


# -------------------------------------------------------------- rustdoc tables

class Crate:
    """The crate's items by def path, its impls, its traits (rustdoc JSON)."""

    def __init__(self, doc, ritems):
        self.doc = doc
        idx = doc["index"]
        self.idx = idx
        self.ritem = {r.id: r for r in ritems}
        self.ext_crates = {c["name"] for c in doc.get("external_crates", {}).values()}
        root = str(doc["root"])
        self.crate_name = idx[root]["name"]
        self.by_path = collections.defaultdict(list)   # "a::b::T" -> ids (crate name not included)
        self.root_names = set()
        self.extern_crates = set()  # paths of `extern crate x;` items: "x", "lazy::std"

        def walk(mid, prefix, depth=0):
            if depth > 60:
                return
            for c in idx[mid]["inner"]["module"].get("items", []):
                c = str(c)
                it = idx.get(c)
                if it is None or it.get("crate_id") != 0:
                    continue
                (k, inner) , = it["inner"].items()
                if k == "extern_crate":
                    self.extern_crates.add("::".join(prefix + [compare.strip_raw(it["name"])]))
                    continue
                if k in ("use", "impl") or not it.get("name"):
                    continue
                name = compare.strip_raw(it["name"])
                p = prefix + [name]
                self.by_path["::".join(p)].append(c)
                if not prefix and k != "macro":
                    self.root_names.add(name)
                if k == "module":
                    walk(c, p, depth + 1)
        walk(root, [])
        self.impls_of_type = collections.defaultdict(list)   # type id -> impl ids
        self.impls_of_trait = collections.defaultdict(list)  # trait id -> impl ids
        self.impls = {}
        for iid, it in idx.items():
            if it.get("crate_id") != 0:
                continue
            (k, inner), = it["inner"].items()
            if k != "impl" or inner.get("is_synthetic") or inner.get("blanket_impl") is not None:
                continue
            self.impls[iid] = it
            f = inner.get("for")
            if isinstance(f, dict) and "resolved_path" in f:
                self.impls_of_type[str(f["resolved_path"]["id"])].append(iid)
            tr = inner.get("trait")
            if tr:
                self.impls_of_trait[str(tr["id"])].append(iid)

    def kind(self, iid):
        it = self.idx.get(iid)
        if it is None:
            return None
        (k, _), = it["inner"].items()
        return k

    def member(self, container, name):
        """The item `name` of an impl or trait."""
        it = self.idx.get(container)
        if it is None:
            return None
        (k, inner), = it["inner"].items()
        for c in inner.get("items", []):
            ci = self.idx.get(str(c))
            if ci is not None and compare.strip_raw(ci.get("name")) == name:
                return str(c)
        return None

    def trait_path(self, impl_id):
        tr = self.impls[impl_id]["inner"]["impl"].get("trait")
        if not tr:
            return None
        p = self.doc.get("paths", {}).get(str(tr["id"]))
        if p:
            return "::".join(p["path"])
        return tr["path"]

    def impl_trait_args(self, impl_id):
        tr = self.impls[impl_id]["inner"]["impl"].get("trait")
        out = []
        args = (tr or {}).get("args") or {}
        for a in (args.get("angle_bracketed") or {}).get("args", []):
            if isinstance(a, dict) and "type" in a:
                out.append(norm_type(render_full(a["type"])))
        return out

    def lookup(self, segs, kinds=None):
        for iid in self.by_path.get("::".join(segs), []):
            if kinds is None or self.kind(iid) in kinds:
                return iid
        return None


class Body:
    __slots__ = ("name", "kind", "segs", "anchor", "calls")


def read_mir(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read().split("\n")


LOC_RE = re.compile(r"(\S.*?):(\d+):(\d+): (\d+):(\d+)$")
SCOPE_RE = re.compile(r"^(\s+)(.*); +// scope \d+ at (.*)$")
ARROW_RE = re.compile(r" -> (?:\[|unwind |unreachable)")
TERMINATORS = {"drop", "assert", "switchInt", "yield", "falseEdge", "falseUnwind", "goto",
               "return", "resume", "abort", "unreachable", "coroutine_drop", "tailcall"}


def parse_loc(s):
    m = LOC_RE.match(s.strip())
    if not m:
        return None
    return m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))


def body_header(line):
    m = re.match(r"^(fn|const|static(?: mut)?) ", line)
    if not m:
        return None
    kind = "fn" if m.group(1) == "fn" else m.group(1).split()[0]
    rest = line[m.end():]
    if kind == "fn":
        k = find_top(rest, "(")
    else:
        k = -1
        depth = 0
        for i, c in enumerate(rest):
            if c in "<([{":
                depth += 1
            elif c in ")]}" or (c == ">" and rest[i - 1:i] != "-"):
                depth -= 1
            elif c == ":" and depth == 0 and rest[i + 1:i + 2] == " " and rest[i - 1:i] != ":":
                k = i
                break
    if k < 0:
        return None
    return kind, rest[:k].strip()


def parse_bodies(lines):
    bodies = []
    cur = None
    i = 0
    while i < len(lines):
        line = lines[i]
        h = body_header(line) if line and not line[0].isspace() else None
        if h:
            cur = Body()
            cur.kind, cur.name = h
            cur.segs = split_top(cur.name)
            cur.anchor = None
            cur.calls = []
            bodies.append(cur)
            i += 1
            continue
        if cur is None:
            i += 1
            continue
        if cur.anchor is None and "// return place in scope 0 at " in line:
            cur.anchor = parse_loc(line.split("// return place in scope 0 at ", 1)[1])
        m = SCOPE_RE.match(line)
        if m and ARROW_RE.search(m.group(2)):
            stmt = m.group(2)
            site = parse_loc(m.group(3))
            a = list(ARROW_RE.finditer(stmt))[-1]
            call = stmt[:a.start()]
            eq = find_top(call, "=")
            if eq > 0 and call[eq - 1] == " " and call[eq + 1:eq + 2] == " ":
                call = call[eq + 2:]
            call = call.strip()
            k = find_top(call, "(")
            callee = call[:k].strip() if k >= 0 else ""
            # the callee operand's span (first ConstOperand comment whose value is the callee)
            op = None
            j = i + 1
            while j < len(lines) and lines[j].lstrip().startswith("// "):
                t = lines[j].strip()
                if t.startswith("// + span: ") and op is None:
                    cand = parse_loc(t[len("// + span: "):])
                    k = j + 1      # this operand's `+ const_:` (after `+ user_ty:` ...)
                    while k < len(lines) and lines[k].lstrip().startswith("// + ") \
                            and "+ const_: " not in lines[k]:
                        k += 1
                    v = lines[k] if k < len(lines) and "+ const_: " in lines[k] else ""
                    if callee and ("val: Value(" + callee + ")" in v or ("{" + callee + "}") in v):
                        op = cand
                    else:
                        op = False   # the first ConstOperand is not the callee
                j += 1
            # `drop(_5) -> ..`, `assert(..) -> ..` are terminators, unless a fn
            # item constant (a crate fn named `drop` or `abort`) is the callee
            if callee and not re.match(r"^(copy|move) |^_\d|^\(", callee) \
                    and (callee not in TERMINATORS or op) and site is not None:
                cur.calls.append((callee, site, op or None))
            i = j
            continue
        i += 1
    return bodies


# ------------------------------------------------------------------- resolver

class Resolver:
    def __init__(self, crate, bodies, sources):
        self.c = crate
        self.sources = sources
        self.fn_bodies = {}
        for b in bodies:
            if b.kind == "fn":
                self.fn_bodies.setdefault(b.name, b)
        self.wild_bodies = collections.defaultdict(list)   # segs, impls wild -> [body]
        self.tail_bodies = collections.defaultdict(list)   # segs after the last impl -> [(header, body)]
        for b in bodies:
            if b.kind == "fn" and any(x.startswith("<impl ") for x in b.segs):
                self.wild_bodies[wild_key(b.segs)].append(b)
                k = max(i for i, x in enumerate(b.segs) if x.startswith("<impl "))
                loc = parse_loc(b.segs[k][len("<impl at "):-1]) if b.segs[k].startswith("<impl at ") else None
                self.tail_bodies[tuple(b.segs[k + 1:])].append((self.impl_header(loc), b))
        # the same bodies under the path a call prints: `a::<impl at F>::m::inner`
        # is called as `a::Type::m::inner`
        for b in bodies:
            if b.kind == "fn" and any(s.startswith("<impl at ") for s in b.segs):
                alt = []
                for s in b.segs:
                    if s.startswith("<impl at "):
                        hdr = self.impl_header(parse_loc(s[len("<impl at "):-1]))
                        if " for " in hdr:
                            alt = None
                            break
                        alt.append(compare.base_name(re.sub(r"^\s*(unsafe\s+)?impl\s*(<.*?>)?", "", hdr).split("{")[0]))
                    else:
                        alt.append(s)
                if alt:
                    self.fn_bodies.setdefault("::".join(alt), b)
        # impl bodies: "prefix::<impl at F:L:C: ..>::m" -> body, for the fallback
        self.impl_bodies = collections.defaultdict(list)   # (prefix, m) -> [(impl header text, body)]
        for b in bodies:
            if b.kind != "fn" or len(b.segs) < 2 or not b.segs[-2].startswith("<impl at "):
                continue
            loc = parse_loc(b.segs[-2][len("<impl at "):-1])
            header = self.impl_header(loc)
            self.impl_bodies[("::".join(b.segs[:-2]), b.segs[-1])].append((header, b))

    def impl_header(self, loc):
        if loc is None:
            return ""
        f, l1, c1, l2, c2 = loc
        return self.sources.text({"filename": f, "begin": [l1, c1], "end": [l2, c2]}) or ""

    def is_external_root(self, seg):
        return (seg in EXTERNAL_ROOTS or seg in self.c.ext_crates) and seg not in self.c.root_names

    def extern_prefix(self, segs):
        """Where an `extern crate` item starts the path (`lazy::std::sync::Once`), the
        path from that crate on."""
        for k in range(1, len(segs)):
            if "::".join(segs[:k]) in self.c.extern_crates:
                return segs[k - 1:]
            # a private `extern crate std;` in module m (rustdoc does not list it)
            if ((segs[k] in EXTERNAL_ROOTS or segs[k] in self.c.ext_crates)
                    and self.c.lookup(segs[:k + 1]) is None
                    and self.c.lookup(segs[:k], ("module",)) is not None):
                return segs[k:]
        return None

    def item_def(self, iid, via):
        r = self.c.ritem.get(iid)
        if r is None:
            return None
        return {"defs": [(r.file, r.line)], "name": r.name, "via": via,
                "macro": r.excluded in ("macro", "derive")}

    def body_def(self, b, via):
        if b.anchor is None:
            return None
        f = os.path.normpath(b.anchor[0])
        return {"defs": [(f, b.anchor[1])], "name": b.segs[-1], "via": via, "macro": None}

    def resolve_type(self, segs):
        """Local type id for printed path segments (crate-relative), or None."""
        return self.c.lookup(segs, ("struct", "enum", "union", "trait", "type_alias"))

    def local(self, res, path):
        res.update({"target": "local", "callee": path})
        return res

    def external(self, path, note=""):
        return {"target": "external", "callee": path, "defs": [], "name": path.split("::")[-1],
                "via": note, "macro": None}

    def unmapped(self, callee, why):
        return {"target": "unmapped", "callee": callee, "defs": [], "name": callee.split("::")[-1],
                "via": why, "macro": None}

    def pick(self, cands, callee, via):
        defs = [d for d in (self.item_def(x, via) for x in cands) if d]
        if not defs:
            return self.unmapped(callee, via + ": no span")
        out = defs[0]
        if len(defs) > 1:
            out = dict(out)
            out["defs"] = sorted({d for x in defs for d in x["defs"]})
            out["macro"] = any(x["macro"] for x in defs)
            out["target"] = "ambiguous"
            out["callee"] = callee
            return out
        return self.local(out, callee)

    def resolve(self, callee):
        qself, qtrait, segs = parse_path(callee)
        if not segs:
            return self.unmapped(callee, "no segments")
        name = compare.strip_raw(segs[-1])
        if qself is not None and len(segs) > 1:
            return self.resolve_nested_in_impl(callee, qself, qtrait, segs)
        if qself is not None:
            return self.resolve_qualified(callee, qself, qtrait, name)
        prefix = segs[:-1]
        if any(x.startswith("<impl ") for x in prefix):
            # an item inside an impl's fn (`m::<impl Tr for T>::f::inner`): the MIR
            # body of the same path, any impl in that place
            cands = self.wild_bodies.get(wild_key(segs), [])
            if len(cands) > 1:
                cands = [bb for bb in cands if all(
                    impl_fits(x, self.impl_header(parse_loc(y[len("<impl at "):-1])))
                    for x, y in zip(segs, bb.segs) if x.startswith("<impl ") and y.startswith("<impl at "))]
            if len(cands) == 1:
                d = self.body_def(cands[0], "mir body")
                if d:
                    return self.local(d, callee)
        if prefix and prefix[0].startswith("<impl "):
            return self.unmapped(callee, "impl segment")
        ext = self.extern_prefix(prefix) if prefix else None
        if ext is not None:
            segs = ext + [segs[-1]]
            prefix = segs[:-1]
        if prefix and self.is_external_root(prefix[0]):
            # `core::num::<impl u32>::from_str_radix` -> `u32::from_str_radix`
            k = max([i for i, x in enumerate(segs) if x.startswith("<impl ")], default=-1)
            if k >= 0:
                return self.external("::".join([segs[k][6:-1].split(" for ")[-1]] + segs[k + 1:]))
            return self.external(compare.std_normalize("::".join(segs)))
        if prefix and prefix[-1].startswith("<impl "):
            # an impl away from its type's module: `a::<impl T>::m`
            shape = type_shape(prefix[-1][6:-1].split(" for ")[-1])
            if shape[0] == "path":
                tid = self.resolve_type(shape[1])
                if tid:
                    return self.inherent(callee, tid, name)
            return self.unmapped(callee, "impl segment")
        tid = self.resolve_type(prefix) if prefix else None
        if tid is not None:
            r = self.inherent(callee, tid, name)
            if r["target"] != "unmapped":
                return r
        iid = self.c.lookup(segs, ("function",))
        if iid is not None:
            d = self.item_def(iid, "fn")
            if d:
                return self.local(d, callee)
        # not in rustdoc: items inside fn bodies; the MIR body of that path
        b = self.fn_bodies.get("::".join(segs))
        if b is not None:
            d = self.body_def(b, "mir body")
            if d:
                return self.local(d, callee)
        if prefix:
            tname = prefix[-1]
            cands = [bb for hdr, bb in self.impl_bodies.get(("::".join(prefix[:-1]), name), [])
                     if compare.base_name(re.sub(r"^impl\s*(<.*?>)?", "", hdr.strip()).split(" for ")[-1].split("{")[0]) == tname]
            if len(cands) == 1:
                d = self.body_def(cands[0], "mir impl body")
                if d:
                    return self.local(d, callee)
        if prefix and self.c.lookup(prefix[:1]) is None and prefix[0] not in self.c.root_names:
            return self.external(compare.std_normalize("::".join(segs)), "unknown root")
        return self.unmapped(callee, "not found")

    def inherent(self, callee, tid, name):
        cands = []
        for iid in self.c.impls_of_type.get(tid, []):
            if self.c.impls[iid]["inner"]["impl"].get("trait"):
                continue
            m = self.c.member(iid, name)
            if m:
                cands.append(m)
        if not cands:
            return self.unmapped(callee, "no inherent method")
        return self.pick(cands, callee, "inherent impl")

    def resolve_nested_in_impl(self, callee, qself, qtrait, segs):
        """`<S as Tr>::m::inner`: a fn declared in the body of an impl's method."""
        seg = "<impl %s>" % (("%s for %s" % (qtrait, qself)) if qtrait else qself)
        cands = [b for hdr, b in self.tail_bodies.get(tuple(segs), []) if impl_fits(seg, hdr)]
        if len(cands) == 1:
            d = self.body_def(cands[0], "mir body")
            if d:
                return self.local(d, callee)
        return self.unmapped(callee, "item in an impl's fn body")

    def resolve_qualified(self, callee, qself, qtrait, name):
        if qtrait is None:
            shape = type_shape(qself)
            if shape[0] == "path":
                tid = self.resolve_type(shape[1])
                if tid:
                    return self.inherent(callee, tid, name)
            return self.external("%s::%s" % (qself, name), "inherent on foreign type")
        _, _, tsegs = parse_path(qtrait)
        targs = trait_args(qtrait)
        shape = type_shape(qself)
        local_trait = None
        ext = self.extern_prefix(tsegs) if tsegs else None
        if ext is not None:
            tsegs = ext
        if tsegs and not self.is_external_root(tsegs[0]):
            local_trait = self.resolve_type(tsegs)
            if local_trait is not None and self.c.kind(local_trait) != "trait":
                local_trait = None
        if local_trait is None:
            tpath = compare.std_normalize("::".join(tsegs))
            # a foreign trait: local only when the crate's impl for a local type
            # defines m. std's (and quote's...) impls for &T, &mut T and Box<T>
            # forward to T's: `<&Path as ToTokens>::to_tokens` runs Path's
            # impl, and is placed there ("through &T" / "through Box<T>"); not
            # for the traits whose &T impl does not call T's (Clone copies the
            # reference)
            via = "impl of foreign trait"
            if ref_shape(qself):
                via += " (through &T)"
                if tsegs[-1] in NOT_FORWARDED:
                    shape = ("other", qself)
            if shape[0] == "path" and shape[1] and shape[1][-1] == "Box" and shape[1][0] in EXTERNAL_ROOTS | {"Box"}:
                inner = box_arg(qself)
                if inner:
                    shape = type_shape(inner)
                    via = "impl of foreign trait (through Box<T>)"
            if shape[0] == "path":
                tid = self.resolve_type(shape[1])
                if tid is not None:
                    cands = []
                    for iid in self.c.impls_of_type.get(tid, []):
                        tp = self.c.trait_path(iid)
                        if tp is None or tp.split("::")[-1] != tsegs[-1]:
                            continue
                        m = self.c.member(iid, name)
                        if m:
                            cands.append((iid, m))
                    cands = narrow(cands, targs, self.c.impl_trait_args)
                    if cands:
                        return self.pick([m for _, m in cands], callee, via)
            if tsegs and not self.is_external_root(tsegs[0]):
                return self.unmapped(callee, "trait not found")
            return self.external("%s::%s" % (tpath, name))
        decl = self.c.member(local_trait, name)
        impls = self.c.impls_of_trait.get(local_trait, [])
        if shape[0] in ("generic", "dyn") or (shape[0] == "path" and shape[1] == ["Self"]):
            return self.with_decl(decl, self.via_decl(callee, decl, "trait decl (generic receiver)"))
        if shape[0] == "path":
            tid = self.resolve_type(shape[1])
            if tid is not None:
                mine = [iid for iid in impls if iid in self.c.impls_of_type.get(tid, [])]
                mine = [c[0] for c in narrow([(iid,) for iid in mine], targs, self.c.impl_trait_args)]
                ms = [self.c.member(iid, name) for iid in mine]
                ms = [m for m in ms if m]
                if ms:
                    return self.with_decl(decl, self.pick(ms, callee, "impl of local trait"))
                if mine:
                    return self.with_decl(decl, self.via_decl(callee, decl, "trait provided method"))
            if len(shape[1]) == 1:      # a type parameter (`I`, `T`)
                return self.with_decl(decl, self.via_decl(callee, decl, "trait decl (generic receiver)"))
        # a foreign or unnamed self type: the impl whose self type reads the
        # same (paths and lifetimes dropped), else one with the same name and
        # the same reference shape
        want, want_base = norm_type(qself), compare.base_name(qself)
        named, same_base, blanket = [], [], []
        for iid in impls:
            f = self.c.impls[iid]["inner"]["impl"].get("for")
            m = self.c.member(iid, name)
            if not m:
                continue
            rt = compare.render_type(f)
            if isinstance(f, dict) and "generic" in f:
                blanket.append(m)
            elif norm_type(rt) == want:
                named.append(m)
            elif compare.base_name(rt) == want_base and ref_shape(rt) == ref_shape(qself):
                same_base.append(m)
        if named or same_base:
            return self.with_decl(decl, self.pick(named or same_base, callee, "impl of local trait (by self type)"))
        if blanket:
            return self.with_decl(decl, self.pick(blanket, callee, "blanket impl"))
        return self.with_decl(decl, self.via_decl(callee, decl, "trait decl"))

    def with_decl(self, decl, r):
        """Records the trait's declaration of a local trait's impl method."""
        d = self.item_def(decl, "") if decl else None
        if d and r.get("defs") and d["defs"] != r["defs"]:
            r = dict(r)
            r["decl"] = d["defs"]
        return r

    def via_decl(self, callee, decl, via):
        if decl is None:
            return self.unmapped(callee, via + ": no such trait item")
        d = self.item_def(decl, via)
        if d is None:
            return self.unmapped(callee, via + ": no span")
        return self.local(d, callee)


# ---------------------------------------------------------------------- main

CLOSURE_SEG = re.compile(r"^(\{.*\}|promoted\[\d+\])$")


def callers(bodies):
    """Body -> the fn body its calls are attributed to (None: not in a fn)."""
    fns = {b.name: b for b in bodies if b.kind == "fn"}
    out = {}
    for b in bodies:
        segs = list(b.segs)
        owner = None
        if b.kind == "fn" and not CLOSURE_SEG.match(segs[-1]):
            owner = b
        else:
            while len(segs) > 1:
                segs = segs[:-1]
                cand = fns.get("::".join(segs))
                if cand is not None and not CLOSURE_SEG.match(segs[-1]):
                    owner = cand
                    break
        out[id(b)] = owner
    return out


def normalize(mir_path, rustdoc_path, src, out_path):
    doc, ritems, _ = compare.load_rustdoc(rustdoc_path, src)
    crate = Crate(doc, ritems)
    sources = compare.SourceCache(src)
    bodies = parse_bodies(read_mir(mir_path))
    res = Resolver(crate, bodies, sources)
    owner_of = callers(bodies)

    macro_cache = {}

    def macros(rel):
        if rel not in macro_cache:
            lines = sources.lines(rel)
            macro_cache[rel] = scan_macros("\n".join(lines)) if lines is not None else ([], [])
        return macro_cache[rel]

    derive_impls = set()
    macro_items = []
    for r in ritems:
        if r.kind == "impl" and r.excluded == "derive":
            derive_impls.add((r.file, r.line))
    for r in ritems:
        if r.kind in ("function", "method") and r.excluded == "macro":
            macro_items.append(r)

    def in_source(f):
        return not os.path.isabs(f) and sources.exists(os.path.normpath(f))

    def caller_class(owner):
        """derive / caller in macro / None for a fn body."""
        for s in owner.segs:
            if s.startswith("<impl at "):
                loc = parse_loc(s[len("<impl at "):-1])
                if loc is None:
                    continue
                f = os.path.normpath(loc[0])
                if (f, loc[1]) in derive_impls:
                    return "derive"
                hdr = res.impl_header(loc).lstrip()
                if hdr and not re.match(r"^(unsafe\s+)?impl\b", hdr):
                    return "derive"
        a = owner.anchor
        if a is None or not in_source(a[0]):
            return "caller in macro"
        f = os.path.normpath(a[0])
        defs, calls = macros(f)
        if inside(defs, (a[1], a[2])) or inside(calls, (a[1], a[2])):
            return "caller in macro"
        for r in macro_items:
            if r.file == f and r.line <= a[1] <= r.end_line:
                return "caller in macro"
        return None

    resolved = {}
    rows = {}
    stats = collections.Counter()
    for b in bodies:
        owner = owner_of[id(b)]
        cclass = caller_class(owner) if owner is not None else None
        for callee, site, op in b.calls:
            stats["calls"] += 1
            if callee not in resolved:
                resolved[callee] = res.resolve(callee)
            r = resolved[callee]
            sfile = os.path.normpath(site[0])
            if not in_source(site[0]):
                cls = "outside"
            elif owner is None:
                cls = "caller not fn"
            elif cclass == "derive":
                cls = "derive"
            elif inside(macros(sfile)[0], (site[1], site[2])):
                cls = "macro_rules body"
            elif cclass:
                cls = cclass
            else:
                cls = None
                if op is not None and in_source(op[0]):
                    text = sources.text({"filename": op[0], "begin": [op[1], op[2]], "end": [op[3], op[4]]}) or ""
                else:
                    text = ""
                t = re.sub(r"\s+", "", text)
                while t.endswith(">"):
                    k = t.rfind("::<")
                    if k < 0:
                        break
                    t = t[:k]
                t = re.sub(r"^r#|(?<=[.:])r#", "", t)
                nm = r["name"] if r["target"] != "external" else parse_path(callee)[2][-1]
                if not re.search(r"(^|[^\w])" + re.escape(compare.strip_raw(nm)) + "$", t):
                    cls = "desugared"
                cls = cls or "keep"
            in_macro = 1 if in_source(site[0]) and inside(macros(sfile)[1], (site[1], site[2])) else 0
            form = "-"
            if op is not None and in_source(op[0]):
                lines = sources.lines(os.path.normpath(op[0])) or []
                before = lines[op[1] - 1][:op[2] - 1].rstrip() if op[1] <= len(lines) else ""
                k = op[1] - 1
                while not before and k > 0:
                    k -= 1
                    before = re.sub(r"//.*", "", lines[k - 1] if k >= 1 else "").rstrip()
                form = "method" if before.endswith(".") else "path"
            if owner is not None and owner.anchor is not None:
                cfile, cline, cname = os.path.normpath(owner.anchor[0]), owner.anchor[1], owner.name
            else:
                cfile, cline, cname = "", 0, b.name
            op_line = op[1] if op and os.path.normpath(op[0]) == sfile else site[1]
            defs = ",".join("%s:%d" % d for d in r["defs"])
            key = (cname, sfile, site[1], r["target"], defs or r["callee"])
            row = rows.get(key)
            if row is None or (row[0] != "keep" and cls == "keep"):
                rows[key] = [cls, cfile, str(cline), cname, sfile, str(site[1]), str(op_line),
                             r["target"], defs, r["name"] or "", r["callee"], r["via"] or "",
                             "1" if r.get("macro") else "0", str(in_macro), form,
                             ",".join("%s:%d" % d for d in r.get("decl", []))]
    header = ["class", "caller_file", "caller_line", "caller", "site_file", "site_line", "op_line",
              "target", "callee_defs", "callee_name", "callee", "via", "callee_in_macro", "in_macro", "form",
              "trait_decl"]
    # one `body` row per fn body (closures included), so that compare.py knows
    # which fns the compiler saw (cfg'd-off and test code has no MIR)
    for b in bodies:
        if b.kind == "fn" and b.anchor is not None and in_source(b.anchor[0]):
            key = ("body", b.name)
            rows[key] = ["body", os.path.normpath(b.anchor[0]), str(b.anchor[1]), b.name] + [""] * 12
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("#" + "\t".join(header) + "\n")
        for row in sorted(rows.values(), key=lambda r: (r[0] == "body", r[4], int(r[5] or 0), r[10], r[1], r[2])):
            f.write("\t".join(x.replace("\t", " ") for x in row) + "\n")
    by = collections.Counter((r[0], r[7]) for r in rows.values() if r[0] != "body")
    rows = {k: v for k, v in rows.items() if v[0] != "body"}
    return stats["calls"], len(rows), by


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mir", required=True)
    ap.add_argument("--rustdoc", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("-v", "--verbose", action="store_true", help="counts per class/target")
    a = ap.parse_args()
    n, rows, by = normalize(a.mir, a.rustdoc, a.src, a.out)
    print("%d calls (%d terminators); written in the source to crate fns: %d" % (
        rows, n, by.get(("keep", "local"), 0) + by.get(("keep", "ambiguous"), 0)))
    if a.verbose:
        print(", ".join("%s/%s %d" % (k[0], k[1], v) for k, v in sorted(by.items())))


if __name__ == "__main__":
    main()
