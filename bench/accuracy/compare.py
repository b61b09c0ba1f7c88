#!/usr/bin/env python3
"""Compares ferrograph's item graph with the compiler's (rustdoc JSON).

The oracle is `cargo rustdoc -- -Z unstable-options --output-format json
--document-private-items --document-hidden-items` on the same crate source that
ferrograph indexed (see rustdoc_truth.sh). Python 3 standard library only.

Usage:
  compare.py --rustdoc R.json --export E.jsonl --src DIR [--cfg CFG.txt] [--label NAME]
  compare.py --cache DIR CRATE...   # DIR/{json/CRATE.json,export/CRATE.jsonl,src/CRATE,cfg/CRATE.txt}
Options:
  --markdown FILE   write the markdown report there (default: stdout)
  --json FILE       write the JSON summary there
  --examples N      examples kept per class (default 6)

Recall (rustdoc item -> ferrograph node)
  * rustdoc side: items of the local crate (crate_id 0) with a span; synthetic
    (auto-trait) and blanket impls are skipped.
  * Excluded as compiler-generated, and counted:
      derive  -- #[automatically_derived] impls and everything inside them
      macro   -- the span text is a macro call (`name!(..)`/`name!{..}`), or
                 lacks the item's name or keyword (fn, struct, impl, ...):
                 rustdoc reports the outermost call site for what a macro
                 produced. Judged per item: a field that a macro passed
                 through keeps its own span and is compared normally.
      outside -- the span file is not a file of the crate (include!, OUT_DIR)
    For macro-produced items the report also says how many have a ferrograph
    node marked `in_macro` of the same kind and name inside the call, and
    which macros produce the most items.
  * kinds: function -> method when its first input is `self`, else function;
    struct_field -> field; constant/assoc_const -> const;
    type_alias/assoc_type -> type_alias; module -> module (crate root -> crate);
    struct, enum, variant, union, trait, impl, static, macro, use as is;
    extern_crate -> use.
  * a match: same file (relative to the crate root), same name (leading r#
    ignored), ferrograph line <= rustdoc start line <= ferrograph end_line
    (ferrograph's span includes docs and attributes), same kind. With all but
    the kind equal it is a "kind mismatch" miss. Special cases:
      crate   -- the ferrograph crate node
      module  -- an out-of-line module's rustdoc span lies in its own file: the
                 ferrograph module node (at `mod x;`) matches when that file
                 holds one of its children or is <dir>/x.rs or <dir>/x/mod.rs
      use     -- rustdoc lists only `pub use`, one item per imported leaf; a
                 ferrograph use node (one per declaration, named by its tree)
                 matches when its span holds the line and its text has the leaf
      impl    -- by file + line (impls are unnamed); the trait's last segment
                 and the self type's name are then compared with ferrograph's
                 `impl Trait for Type` rendering
    For matched items the report also gives how often the end lines agree
    exactly (a stricter span check), and for derive impls whether the type
    node's `derive` list names the trait (StructuralPartialEq and TrivialClone
    count as PartialEq and Clone).

Resolved impl edges (export's IMPLEMENTS / IMPL_FOR edges)
  * per impl matched above: IMPLEMENTS (impl node -> trait, not derive) must
    reach rustdoc's `trait`; IMPL_FOR (impl node -> self type) rustdoc's `for`
    when that is a resolved_path (generics, primitives, references, slices,
    tuples, arrays... are skipped and counted).
  * a local target (rustdoc id of crate 0) is right when the edge's dst is the
    ferrograph node matched to that rustdoc item ("local"), or, when the item
    is unmatched, a node whose span holds its line ("local by span").
  * an external target (rustdoc `paths` entry, crate renamed per
    external_crates) is "exact" when the paths agree after core::/alloc:: ->
    std:: and STD_REEXPORTS (private std modules dropped:
    core::iter::traits::iterator::Iterator == std::iter::Iterator), "lenient"
    when only the crate family (std/core/alloc as one) and the last segment
    agree (quote::to_tokens::ToTokens vs quote::ToTokens), else "wrong".
    No such edge: "no edge". Misses get a cause (local target matched or
    not, std target resolved to another crate, external target).
  * derive: each rustdoc #[automatically_derived] impl whose type node was
    found needs an IMPLEMENTS edge with derive=true from that type node to the
    same trait (marker impls StructuralPartialEq/StructuralEq/TrivialClone
    skipped); and the other way, derive edges from type nodes matched to
    rustdoc types are checked for a rustdoc derive impl of that trait.

CALLS (export's CALLS edges against the MIR calls table of mir_calls.py)
  * the truth: every call rustc's MIR has in a fn body of the library, the
    callee placed at its definition (file, line); classes and mapping rules
    are in mir_calls.py. Calls are keyed by caller fn, call-site file and
    line, callee.
  * an edge matches a MIR call when: edge file == call-site file; edge line ==
    the call expression's first line or the callee operand's line (a method
    name on its own line in a chain); the dst node is a function/method with
    the callee's name whose span holds the callee's definition line (one of
    them when the callee is ambiguous: several impls define it); and the src
    node's span holds the caller's anchor (a line of the caller's signature;
    calls in closures belong to the enclosing fn, as in ferrograph).
  * recall: MIR calls of class `keep` (written in the source, in a fn the
    crate wrote: not desugared, derived, in a macro_rules body, in an
    expansion of another crate's macro, in a const initializer) whose callee
    is a crate fn that no macro produced; found = any edge matches (name_only
    included); resolved recall = an edge not marked name_only matches. Calls
    to macro-produced fns are reported apart. Miss classes: no CALLS edge at
    the call site / edges at the site, none to the callee / right callee but
    src does not hold the caller; and by how the compiler resolved the callee
    (via) and by form (method call, path call).
  * precision: edges not marked name_only whose dst is a function/method node
    of the crate and whose src is a node of the crate (not a tests/examples
    target) lying in code the compiler built (its span holds a MIR fn body's
    anchor: cfg-off and cfg(test) code, #[test] fns have no MIR and are left
    out, counted). Right = matches a MIR call of any class (a correct edge
    for a desugared call is still correct). Every other such edge counts as
    wrong, with a class: no MIR call on this line (a constructor, a call
    removed by #[cfg] on a statement, ...), MIR calls another fn of that name
    (e.g. the trait declaration instead of the impl method, or another
    impl's), MIR calls another crate fn here, MIR calls an external fn here,
    src does not hold the MIR caller. CALLS edges whose dst is not a fn
    (struct, variant, ...) count as wrong too. Per resolution kind (exact,
    import, method).
  * name_only: edges counted apart; per call site in compiled code, whether
    the MIR calls a crate fn there (and the candidates hold it, with the mean
    number of candidates), only external fns (a std method call given the
    crate's fns of that name), or nothing.
  * edges (not name_only) to external nodes from compiled fns: compared with
    the MIR's external callees on that line by path_agreement (exact /
    lenient), reported apart (not part of the precision target).

Precision (ferrograph node -> rustdoc item)
  * nodes of the indexed crate whose kind is in KINDS (not generic_param or
    external); `use` only when `pub` (rustdoc lists no other imports).
  * a true positive: a same-kind match above, or an `in_macro` node matching a
    macro-produced rustdoc item.
  * unmatched nodes are classified, first class that applies:
      cfg(test)          -- a #[cfg] on the node or an ancestor is false and
                            mentions test
      cfg off            -- a #[cfg] on the node or an ancestor is false for the
                            cfg set rustdoc ran with (target cfgs, `doc`,
                            enabled features, build-script cfgs; cfg/CRATE.txt)
      inner #![cfg] off  -- a false `#![cfg(..)]` at the top of the module's
                            file (the export does not carry inner attributes)
      cfg not evaluated  -- a predicate this script cannot parse
      #[test] fn, const _ (rustdoc omits), impl for dyn Trait (rustdoc omits),
      in fn body (rustdoc does not list items inside function bodies),
      kind mismatch, in macro call (not produced), other
    "adj. precision" = true / (true + kind mismatch + in macro call + other +
    cfg not evaluated): the nodes the compiler saw with these settings.
"""

import argparse
import collections
import json
import os
import re
import sys

KINDS = ["crate", "module", "function", "method", "struct", "enum", "variant",
         "union", "field", "trait", "impl", "const", "static", "type_alias",
         "macro", "use"]
COMPARABLE = set(KINDS)

NAMED_CHECK = {"function", "method", "struct", "enum", "variant", "union",
               "trait", "const", "static", "type_alias", "macro", "field"}

# What the span text of a hand-written item must contain; without it the span
# is a macro call site (or a derive) that produced the item.
KEYWORD_RE = {
    "function": re.compile(r"\bfn\b"), "method": re.compile(r"\bfn\b"),
    "struct": re.compile(r"\bstruct\b"), "enum": re.compile(r"\benum\b"),
    "union": re.compile(r"\bunion\b"), "trait": re.compile(r"\btrait\b"),
    "impl": re.compile(r"\bimpl\b"), "const": re.compile(r"\bconst\b"),
    "static": re.compile(r"\bstatic\b"), "type_alias": re.compile(r"\btype\b"),
    "macro": re.compile(r"^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?(?:macro_rules\s*!|macro\b)"),
}

# Marker impls the compiler adds for some derives, and the derive behind each.
DERIVE_MARKERS = {"StructuralPartialEq": "PartialEq", "StructuralEq": "Eq", "TrivialClone": "Clone"}

MACRO_CALL_RE = re.compile(r"^\s*((?:::)?[A-Za-z_][\w]*(?:\s*::\s*[A-Za-z_]\w*)*)\s*!\s*[\(\[\{]")


def read_jsonl(path):
    """The JSON objects of a JSON Lines file, blank lines skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def strip_raw(name):
    if name and name.startswith("r#"):
        return name[2:]
    return name


# ----------------------------------------------------------------- rustdoc side

class SourceCache:
    def __init__(self, root):
        self.root = root
        self.files = {}

    def lines(self, rel):
        if rel not in self.files:
            path = os.path.join(self.root, rel)
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    self.files[rel] = f.read().split("\n")
            except OSError:
                self.files[rel] = None
        return self.files[rel]

    def exists(self, rel):
        return self.lines(rel) is not None

    def text(self, span):
        lines = self.lines(os.path.normpath(span["filename"]))
        if lines is None:
            return None
        (bl, bc), (el, ec) = span["begin"], span["end"]
        if bl < 1 or el > len(lines):
            return None
        if bl == el:
            return lines[bl - 1][bc - 1:ec - 1]
        parts = [lines[bl - 1][bc - 1:]]
        parts.extend(lines[bl:el - 1])
        parts.append(lines[el - 1][:ec - 1])
        return "\n".join(parts)


def render_type(t):
    """A short textual form of a rustdoc Type (enough to name the self type)."""
    if t is None:
        return "?"
    if isinstance(t, str):
        return t
    (k, v), = t.items()
    if k == "resolved_path":
        return v["path"]
    if k == "primitive":
        return v
    if k == "generic":
        return v
    if k == "borrowed_ref":
        return "&" + ("mut " if v.get("is_mutable") else "") + render_type(v["type"])
    if k == "raw_pointer":
        return "*" + ("mut " if v.get("is_mutable") else "const ") + render_type(v["type"])
    if k == "slice":
        return "[" + render_type(v) + "]"
    if k == "array":
        return "[" + render_type(v["type"]) + "; " + str(v.get("len")) + "]"
    if k == "tuple":
        return "(" + ", ".join(render_type(x) for x in v) + ")"
    if k == "dyn_trait":
        return "dyn " + " + ".join(tr["trait"]["path"] for tr in v.get("traits", []))
    if k == "function_pointer":
        return "fn(..)"
    if k == "qualified_path":
        tr = v.get("trait")
        return "<%s as %s>::%s" % (render_type(v.get("self_type")),
                                   tr["path"] if tr else "?", v.get("name", "?"))
    if k == "impl_trait":
        return "impl .."
    return k


def base_name(type_text):
    """Last path segment without generics/references: `&'a foo::Bar<T>` -> Bar;
    arrays/tuples/slices keep their shape with lifetimes and paths dropped."""
    s = type_text.strip()
    s = re.sub(r"'\w+\s*", "", s)
    s = re.sub(r"<\s*([\w:]+)\s+as\s+[^>]*>::", r"\1::", s)
    s = re.sub(r"\b\w+::", "", s)
    s = re.sub(r"^(&\s*('\w+\s+)?(mut\s+)?|\*(const|mut)\s+)", "", s).strip()
    s = re.sub(r"^(dyn|impl)\s+", "", s)
    depth, out = 0, []
    for ch in s:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    s = "".join(out).strip()
    if not (s.startswith("[") or s.startswith("(")):
        s = s.split("+")[0].strip()
    if s.startswith("[") or s.startswith("("):
        return re.sub(r"\s+", "", s)
    return s.split("::")[-1].strip()


class RustdocItem:
    __slots__ = ("id", "rkind", "kind", "name", "file", "line", "end_line", "span",
                 "excluded", "trait", "self_type", "parent", "leaf", "macro",
                 "trait_id", "for_type")

    def __repr__(self):
        return "%s %s %s:%s" % (self.kind, self.name, self.file, self.line)


def load_rustdoc(path, src):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    index = doc["index"]
    sources = SourceCache(src)
    parent = {}
    for iid, it in index.items():
        if it.get("crate_id") != 0:
            continue
        (k, inner), = it["inner"].items()
        children = []
        if k == "module":
            children = inner.get("items", [])
        elif k in ("impl", "trait"):
            children = inner.get("items", [])
        elif k in ("struct", "union"):
            kk = inner.get("kind", {})
            if isinstance(kk, dict):
                if "plain" in kk:
                    children = kk["plain"].get("fields", [])
                elif "tuple" in kk:
                    children = [x for x in kk["tuple"] if x is not None]
            if k == "union":
                children = inner.get("fields", children)
        elif k == "enum":
            children = inner.get("variants", [])
        elif k == "variant":
            vk = inner.get("kind", {})
            if isinstance(vk, dict):
                if "struct" in vk:
                    children = vk["struct"].get("fields", [])
                elif "tuple" in vk:
                    children = [x for x in vk["tuple"] if x is not None]
        for c in children:
            parent.setdefault(str(c), iid)

    items = []
    skipped = collections.Counter()
    for iid, it in index.items():
        if it.get("crate_id") != 0:
            continue
        (k, inner), = it["inner"].items()
        span = it.get("span")
        if k == "impl" and (inner.get("is_synthetic") or inner.get("blanket_impl") is not None):
            skipped["synthetic/blanket impl"] += 1
            continue
        if span is None:
            skipped["no span (%s)" % k] += 1
            continue
        r = RustdocItem()
        r.id, r.rkind, r.span = iid, k, span
        r.name = strip_raw(it.get("name"))
        r.file = os.path.normpath(span["filename"])
        r.line, r.end_line = span["begin"][0], span["end"][0]
        r.excluded = None
        r.trait = r.self_type = r.leaf = r.macro = r.trait_id = r.for_type = None
        r.parent = parent.get(iid)
        if k == "module":
            r.kind = "crate" if inner.get("is_crate") else "module"
        elif k == "function":
            inputs = inner.get("sig", {}).get("inputs", [])
            r.kind = "method" if inputs and inputs[0][0] == "self" else "function"
        elif k == "struct_field":
            r.kind = "field"
        elif k in ("constant", "assoc_const"):
            r.kind = "const"
        elif k in ("type_alias", "assoc_type"):
            r.kind = "type_alias"
        elif k == "use":
            r.kind = "use"
            r.leaf = strip_raw(inner.get("name")) or (inner.get("source") or "").split("::")[-1]
            r.name = r.leaf
        elif k == "extern_crate":
            r.kind = "use"
            r.name = r.leaf = strip_raw(inner.get("name"))
        elif k in ("struct", "enum", "variant", "union", "trait", "impl", "static", "macro"):
            r.kind = k
        else:
            skipped["unmapped kind %s" % k] += 1
            continue
        if k == "impl":
            tr = inner.get("trait")
            r.trait = tr["path"].split("::")[-1] if tr else None
            r.self_type = render_type(inner.get("for"))
            r.trait_id = str(tr["id"]) if tr else None
            r.for_type = inner.get("for")
            if "automatically_derived" in json.dumps(it.get("attrs", [])):
                r.excluded = "derive"
        if r.excluded is None:
            if os.path.isabs(r.file) or not sources.exists(r.file):
                r.excluded = "outside"
        if r.excluded is None and r.kind not in ("crate", "module"):
            text = sources.text(span)
            if text is None:
                r.excluded = "outside"
            elif r.kind != "macro" and MACRO_CALL_RE.match(text):
                r.excluded = "macro"
                r.macro = re.sub(r"\s+", "", MACRO_CALL_RE.match(text).group(1)).split("::")[-1]
            elif (r.kind in NAMED_CHECK and r.name and not r.name.isdigit()
                  and r.name not in text):
                r.excluded = "macro"
            elif r.kind in KEYWORD_RE and not KEYWORD_RE[r.kind].search(text):
                r.excluded = "macro"
        items.append(r)

    by_id = {r.id: r for r in items}

    # Only derive exclusions are inherited: an item inside a macro-produced
    # item can still have a span of its own in the source (syn's ast_struct!
    # fields), and is then compared like any other.
    def inherited(r, seen=0):
        if r.excluded == "derive":
            return r.excluded
        if r.parent is None or seen > 50:
            return None
        p = by_id.get(r.parent)
        if p is None:
            return None
        return inherited(p, seen + 1)

    for r in items:
        if r.kind not in ("crate", "module") and inherited(r):
            r.excluded = "derive"
        # an inline module a macro produced: its span is the call, in the
        # parent module's file (an out-of-line module's span is its own file)
        if r.kind == "module" and r.excluded is None:
            p = by_id.get(r.parent)
            text = sources.text(r.span)
            if p is not None and p.file == r.file and text and MACRO_CALL_RE.match(text):
                r.excluded = "macro"
                r.macro = re.sub(r"\s+", "", MACRO_CALL_RE.match(text).group(1)).split("::")[-1]
    return doc, items, skipped


# -------------------------------------------------------------- ferrograph side

class Node:
    __slots__ = ("key", "id", "kind", "name", "path", "crate", "file", "line", "end_line",
                 "visibility", "cfg", "in_macro", "parent", "children_files", "derive")

    def __repr__(self):
        return "%s %s %s:%s-%s" % (self.kind, self.path, self.file, self.line, self.end_line)


def load_export(path):
    """Nodes keyed by their position in the export (ids are not always unique:
    see duplicate_ids), with parent keys from CONTAINS edges."""
    nodes, edges = {}, []
    by_id = collections.defaultdict(list)
    for o in read_jsonl(path):
        if o.get("type") == "node":
            n = Node()
            n.id, n.kind, n.name, n.path = o["id"], o["kind"], strip_raw(o.get("name")), o.get("path")
            n.crate, n.file = o.get("crate"), o.get("file")
            n.line, n.end_line = o.get("line", 0), o.get("end_line", o.get("line", 0))
            n.visibility = o.get("visibility")
            n.cfg = o.get("cfg") or []
            n.in_macro = o.get("in_macro")
            n.derive = o.get("derive") or []
            n.parent = None
            n.children_files = set()
            n.key = len(nodes)
            nodes[n.key] = n
            by_id[n.id].append(n)
        elif o.get("type") == "edge":
            edges.append(o)
    for e in edges:
        if e.get("kind") == "CONTAINS":
            cs, ps = by_id.get(e.get("dst_id"), []), by_id.get(e.get("src_id"), [])
            if len(cs) > 1:  # same id twice: the edge's file tells which one
                cs = [c for c in cs if c.file == e.get("file")] or cs
            for c in cs:
                if not ps or c.parent is not None:
                    continue
                p = next((p for p in ps if p.file == c.file), None) or ps[0]
                c.parent = p.key
                if c.file and c.file != p.file:
                    p.children_files.add(c.file)
    duplicate_ids = {i: len(v) for i, v in by_id.items() if len(v) > 1}
    # IMPLEMENTS / IMPL_FOR edges: (kind, src node key, dst node, derive flag)
    impl_edges = collections.defaultdict(list)   # src node key -> [(kind, dst node, derive)]
    for e in edges:
        if e.get("kind") not in ("IMPLEMENTS", "IMPL_FOR"):
            continue
        ss = by_id.get(e.get("src_id"), [])
        if len(ss) > 1:
            ss = [x for x in ss if x.file == e.get("file")] or ss
        ds = by_id.get(e.get("dst_id"), [])
        d = ds[0] if ds else None
        if d is None:   # dst not exported as a node: keep its path
            d = Node()
            d.key, d.kind, d.path, d.file, d.line, d.end_line = None, "external", e.get("dst"), None, 0, 0
        for x in ss:
            impl_edges[x.key].append((e["kind"], d, bool(e.get("derive"))))
    return nodes, duplicate_ids, impl_edges


def ancestors(nodes, n):
    seen = 0
    while n is not None and seen < 200:
        yield n
        n = nodes.get(n.parent) if n.parent is not None else None
        seen += 1


# ------------------------------------------------------------------------ cfg

CFG_TOKEN_RE = re.compile(r'\s*(?:(r#)?([A-Za-z_]\w*)|"((?:[^"\\]|\\.)*)"|([(),=]))')


def load_cfg_set(path):
    """The cfg set rustdoc ran with (rustdoc_truth.sh writes it): a set of
    (name, value-or-None)."""
    if not path or not os.path.exists(path):
        return None
    out = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if "=" in line:
                k, v = line.split("=", 1)
                out.add((k.strip(), v.strip().strip('"')))
            else:
                out.add((line, None))
    return out


def eval_cfg(text, cfgset):
    """True / False, or None when the predicate cannot be parsed."""
    toks, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = CFG_TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            return None
        pos = m.end()
        if m.group(2) is not None:
            toks.append(("id", m.group(2)))
        elif m.group(3) is not None:
            toks.append(("str", m.group(3)))
        else:
            toks.append(("p", m.group(4)))
    i = 0

    def pred():
        nonlocal i
        if i >= len(toks) or toks[i][0] != "id":
            raise ValueError
        name = toks[i][1]
        i += 1
        if i < len(toks) and toks[i] == ("p", "("):
            i += 1
            args = []
            while i < len(toks) and toks[i] != ("p", ")"):
                args.append(pred())
                if i < len(toks) and toks[i] == ("p", ","):
                    i += 1
            if i >= len(toks):
                raise ValueError
            i += 1
            if name == "all":
                return all(args)
            if name == "any":
                return any(args)
            if name == "not" and len(args) == 1:
                return not args[0]
            raise ValueError
        if i < len(toks) and toks[i] == ("p", "="):
            i += 1
            if i >= len(toks) or toks[i][0] != "str":
                raise ValueError
            val = toks[i][1]
            i += 1
            return (name, val) in cfgset
        return (name, None) in cfgset

    try:
        v = pred()
        if i != len(toks):
            return None
        return v
    except ValueError:
        return None


INNER_ATTR_START = re.compile(r"\s*(?://[^\n]*\n|/\*.*?\*/)*", re.S)


def inner_cfgs(sources, rel, cache={}):
    """`#![cfg(...)]` predicates at the top of a file (they gate the whole
    module; the export does not carry them)."""
    key = (sources.root, rel)
    if key in cache:
        return cache[key]
    lines = sources.lines(rel)
    out = []
    if lines is not None:
        text, pos = "\n".join(lines), 0
        while True:
            m = INNER_ATTR_START.match(text, pos)
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
            m = INNER_ATTR_START.match(text, pos)
            pos = m.end()
            if not text.startswith("#![", pos):
                break
            depth, i = 0, pos + 2
            while i < len(text):
                if text[i] == "[":
                    depth += 1
                elif text[i] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            body = text[pos + 3:i].strip()
            cm = re.match(r"^cfg\s*\((.*)\)$", body, re.S)
            if cm:
                out.append(cm.group(1))
            pos = i + 1
    cache[key] = out
    return out


def is_test_fn(sources, n):
    lines = sources.lines(n.file)
    if lines is None:
        return False
    for ln in range(max(n.line, 1), min(n.end_line, len(lines)) + 1):
        text = lines[ln - 1]
        if re.search(r"#\[\s*(test|bench)\s*\]", text):
            return True
        if re.search(r"\bfn\s+" + re.escape(n.name or "") + r"\b", text):
            return False
    return False


# -------------------------------------------------------------------- matching

def module_files(n):
    d = os.path.dirname(n.file)
    stem = os.path.splitext(os.path.basename(n.file))[0]
    files = set(n.children_files)
    if stem in ("mod", "lib", "main"):
        base = d
    else:
        base = os.path.join(d, stem)
    files.add(os.path.normpath(os.path.join(base, n.name + ".rs")))
    files.add(os.path.normpath(os.path.join(base, n.name, "mod.rs")))
    return files


def use_contains(text, leaf):
    if not leaf:
        return False
    return re.search(r"(?<![\w])" + re.escape(leaf) + r"(?![\w])", text or "") is not None


# ------------------------------------------------------------ resolved edges

STD_FAMILY = {"std", "core", "alloc"}

# Private std/core/alloc modules whose items the std facade re-exports one
# level up: core::iter::traits::iterator::Iterator is std::iter::Iterator.
STD_REEXPORTS = [
    ("std::iter::traits::iterator", "std::iter"), ("std::iter::traits::collect", "std::iter"),
    ("std::iter::traits::double_ended", "std::iter"), ("std::iter::traits::exact_size", "std::iter"),
    ("std::iter::traits::marker", "std::iter"), ("std::iter::traits::accum", "std::iter"),
    ("std::iter::range", "std::iter"),
    ("std::ops::arith", "std::ops"), ("std::ops::bit", "std::ops"), ("std::ops::deref", "std::ops"),
    ("std::ops::drop", "std::ops"), ("std::ops::function", "std::ops"), ("std::ops::index", "std::ops"),
    ("std::ops::range", "std::ops"), ("std::ops::try_trait", "std::ops"),
    ("std::str::traits", "std::str"), ("std::slice::index", "std::slice"),
    ("std::future::future", "std::future"), ("std::panic::unwind_safe", "std::panic"),
    ("std::hash::sip", "std::hash"), ("std::io::error", "std::io"), ("std::io::readbuf", "std::io"),
    ("std::error", "std::error"), ("std::alloc::layout", "std::alloc"), ("std::alloc::global", "std::alloc"),
    ("std::string", "std::string"), ("std::vec", "std::vec"), ("std::boxed", "std::boxed"),
    ("std::convert::num", "std::convert"), ("std::fmt::builders", "std::fmt"),
]

# The derive behind each marker trait, by std path (for derive edge checks).
DERIVE_MARKER_PATHS = {"StructuralPartialEq": "std::cmp::PartialEq", "StructuralEq": "std::cmp::Eq",
                       "TrivialClone": "std::clone::Clone"}


def std_normalize(path):
    """core::X / alloc::X -> std::X, private re-exporting modules dropped."""
    parts = path.split("::")
    if parts and parts[0] in STD_FAMILY:
        parts[0] = "std"
    p = "::".join(parts)
    for internal, public in STD_REEXPORTS:
        if p.startswith(internal + "::") and p.count("::") == internal.count("::") + 1:
            return public + p[len(internal):]
    return p


def path_agreement(rpath, fpath):
    """exact (after std normalization) / lenient (same crate family and last
    segment) / None."""
    if not fpath:
        return None
    if rpath == fpath or std_normalize(rpath) == std_normalize(fpath):
        return "exact"
    rp, fp = rpath.split("::"), fpath.split("::")
    rfam = "std" if rp[0] in STD_FAMILY else rp[0]
    ffam = "std" if fp[0] in STD_FAMILY else fp[0]
    if rfam == ffam and rp[-1] == fp[-1]:
        return "lenient"
    return None


TYPE_SKIP_LABEL = {"generic": "generic", "primitive": "primitive", "borrowed_ref": "reference",
                   "raw_pointer": "raw pointer", "slice": "slice", "array": "array", "tuple": "tuple",
                   "dyn_trait": "dyn Trait", "function_pointer": "fn pointer",
                   "qualified_path": "projection"}


def crate_edition(src):
    try:
        with open(os.path.join(src, "Cargo.toml"), encoding="utf-8") as f:
            m = re.search(r'^\s*edition\s*=\s*"(\d+)"', f.read(), re.M)
        return m.group(1) if m else "2015"
    except OSError:
        return "?"


def check_impl_edges(doc, ritems, hit_of, matched_impls, derive_types, impl_edges, nexamples):
    """IMPLEMENTS / IMPL_FOR / derive edges of matched impls against rustdoc's
    trait and `for` ids. Outcomes per check: exact, lenient (external path,
    same crate family and last segment only), local (dst is the ferrograph node
    matched to rustdoc's item), local by span (rustdoc's item is unmatched, the
    dst node's span holds it), wrong, no edge."""
    index, paths = doc["index"], doc.get("paths", {})
    ext = doc.get("external_crates", {})
    ritem = {r.id: r for r in ritems}
    stats = collections.Counter()
    examples = collections.defaultdict(list)

    def target(iid):
        """('local', rustdoc item or None) or ('external', full path)."""
        it = index.get(iid)
        if it is not None and it.get("crate_id") == 0:
            return "local", ritem.get(iid)
        p = paths.get(iid)
        if p is None:
            return "external", None
        parts = list(p["path"])
        if p.get("crate_id") not in (0, None):
            cname = ext.get(str(p["crate_id"]), {}).get("name")
            if cname and parts and parts[0] != cname:
                parts[0] = cname
        if p.get("crate_id") == 0:
            return "local", ritem.get(iid)
        return "external", "::".join(parts)

    def judge(iid, dsts):
        kind, t = target(iid)
        if not dsts:
            return "no edge", kind, t
        if kind == "local":
            h = hit_of.get(iid)
            for d in dsts:
                if h is not None and d.key == h.key:
                    return "local", kind, t
            if h is None and t is not None:
                for d in dsts:
                    if d.file == t.file and d.line <= t.line <= d.end_line:
                        return "local by span", kind, t
            return "wrong", kind, t
        if t is None:
            return "rustdoc path unknown", kind, t
        best = None
        for d in dsts:
            a = path_agreement(t, d.path) if d.kind == "external" else None
            if a == "exact":
                return "exact", kind, t
            best = best or a
        return (best or "wrong"), kind, t

    def note(check, outcome, r, want, dsts):
        key = "%s: %s" % (check, outcome)
        stats[key] += 1
        if outcome in ("wrong", "no edge"):
            if isinstance(want, RustdocItem) or want is None:
                h = hit_of.get(want.id) if want is not None else None
                cls = ("local target matched to a ferrograph node" if h is not None else
                       "local target with no ferrograph node (%s)" % (
                           "macro-produced" if want is not None and want.excluded == "macro" else "unmatched"))
            elif dsts and all(d.path and d.path.split("::")[0] not in STD_FAMILY for d in dsts) \
                    and want.split("::")[0] in STD_FAMILY:
                cls = "std target, ferrograph resolved to crate `%s`" % dsts[0].path.split("::")[0]
            else:
                cls = "external target"
            stats["%s %s detail: %s" % (check, outcome, cls)] += 1
        if outcome in ("wrong", "no edge", "lenient", "rustdoc path unknown") and len(examples[key]) < nexamples:
            w = want if isinstance(want, str) else ("%s (%s:%d)" % (want.name, want.file, want.line) if want else "?")
            examples[key].append("%s:%d `impl %s%s` want %s, ferrograph %s" % (
                r.file, r.line, (r.trait + " for ") if r.trait else "", r.self_type, w,
                ", ".join(d.path or "?" for d in dsts) or "none"))

    for r, hit in matched_impls:
        edges = impl_edges.get(hit.key, [])
        impls = [d for k, d, der in edges if k == "IMPLEMENTS" and not der]
        fors = [d for k, d, der in edges if k == "IMPL_FOR"]
        if r.trait_id is not None:
            outcome, _, want = judge(r.trait_id, impls)
            note("IMPLEMENTS", outcome, r, want, impls)
        elif impls:
            stats["IMPLEMENTS: on inherent impl"] += 1
        ft = r.for_type
        if isinstance(ft, dict) and "resolved_path" in ft:
            outcome, _, want = judge(str(ft["resolved_path"]["id"]), fors)
            note("IMPL_FOR", outcome, r, want, fors)
        else:
            k = next(iter(ft)) if isinstance(ft, dict) and ft else str(ft)
            stats["IMPL_FOR skipped: %s" % TYPE_SKIP_LABEL.get(k, k)] += 1
    for r, types in derive_types:
        if r.trait in DERIVE_MARKERS:
            stats["derive skipped: marker impl"] += 1
            continue
        dsts = [d for n in types for k, d, der in impl_edges.get(n.key, []) if k == "IMPLEMENTS" and der]
        outcome, _, want = judge(r.trait_id, dsts) if r.trait_id else ("rustdoc path unknown", None, None)
        note("derive", outcome, r, want, dsts)
    # the other way: derive edges from type nodes matched to rustdoc types,
    # confirmed when rustdoc has an automatically_derived impl of that trait
    rd = collections.defaultdict(list)    # ferrograph type node key -> rustdoc trait paths
    for r in ritems:
        if r.excluded == "derive" and r.kind == "impl" and r.trait_id and isinstance(r.for_type, dict) \
                and "resolved_path" in r.for_type:
            h = hit_of.get(str(r.for_type["resolved_path"]["id"]))
            if h is not None:
                rd[h.key].append(r.trait_id)
    matched_types = {h.key: h for h in hit_of.values() if h.kind in ("struct", "enum", "union")}
    for key, n in matched_types.items():
        for k, d, der in impl_edges.get(key, []):
            if k != "IMPLEMENTS" or not der:
                continue
            stats["derive edges from matched types"] += 1
            ok = False
            for tid in rd.get(key, []):
                kind, t = target(tid)
                if kind == "external" and t and path_agreement(t, d.path):
                    ok = True
                elif kind == "local" and hit_of.get(tid) is not None and hit_of[tid].key == d.key:
                    ok = True
            if ok:
                stats["derive edges confirmed"] += 1
            elif len(examples["derive edge without rustdoc impl"]) < nexamples:
                examples["derive edge without rustdoc impl"].append("%s:%d %s derive %s" % (
                    n.file, n.line, n.path, d.path))
    return stats, examples


def edge_counts(st, check):
    ok = sum(v for k, v in st.items() if k.startswith(check + ": ") and
             k.split(": ", 1)[1] in ("exact", "lenient", "local", "local by span"))
    tot = sum(v for k, v in st.items() if k.startswith(check + ": ") and k != check + ": on inherent impl")
    return ok, tot


def edge_line(st):
    parts = []
    for check in ("IMPLEMENTS", "IMPL_FOR", "derive"):
        ok, tot = edge_counts(st, check)
        detail = ", ".join("%s %d" % (k.split(": ", 1)[1], v) for k, v in sorted(st.items())
                           if k.startswith(check + ": "))
        parts.append("%s %d/%d (%s)%s" % (check, ok, tot, pct(ok, tot), (" [" + detail + "]") if detail else ""))
    skipped = ", ".join("%s %d" % (k.split(": ", 1)[1], v) for k, v in sorted(st.items())
                        if k.startswith("IMPL_FOR skipped: "))
    if skipped:
        parts.append("IMPL_FOR skipped (not a resolved path): " + skipped)
    if st.get("derive skipped: marker impl"):
        parts.append("derive marker impls skipped: %d" % st["derive skipped: marker impl"])
    if st.get("derive edges from matched types"):
        parts.append("derive edges (from matched type nodes) with a rustdoc derive impl: %d/%d" % (
            st.get("derive edges confirmed", 0), st["derive edges from matched types"]))
    details = [(k, v) for k, v in st.items() if " detail: " in k]
    if details:
        parts.append("misses by cause: " + ", ".join("%s %d" % kv for kv in sorted(details, key=lambda kv: -kv[1])))
    return "; ".join(parts)


def compare(label, rustdoc_path, export_path, src, cfg_path=None, nexamples=6):
    doc, ritems, skipped = load_rustdoc(rustdoc_path, src)
    cfgset = load_cfg_set(cfg_path)
    sources = SourceCache(src)
    nodes_all, duplicate_ids, impl_edges = load_export(export_path)
    root = next((r for r in ritems if r.kind == "crate"), None)
    crate_name = None
    if root is not None:
        crate_name = root.name
    else:
        crate_name = doc["index"][str(doc["root"])]["name"]
    nodes = {i: n for i, n in nodes_all.items() if n.crate == crate_name}
    other_crate_nodes = len(nodes_all) - len(nodes)

    by_file_name = collections.defaultdict(list)
    by_file_kind = collections.defaultdict(list)
    modules_by_name = collections.defaultdict(list)
    for n in nodes.values():
        by_file_name[(n.file, n.name)].append(n)
        by_file_kind[(n.file, n.kind)].append(n)
        if n.kind == "module":
            modules_by_name[n.name].append(n)

    used = set()            # ferrograph node ids that are true positives
    kind_mismatch_nodes = set()
    recall = collections.defaultdict(lambda: [0, 0])  # kind -> [matched, total]
    misses = collections.defaultdict(list)             # class -> examples
    miss_counts = collections.Counter()
    excluded = collections.Counter()
    excluded_by_kind = collections.Counter()
    impl_stats = collections.Counter()
    impl_examples = collections.defaultdict(list)

    def contains(n, line):
        return n.line <= line <= n.end_line

    def pick(cands):
        cands.sort(key=lambda n: (n.key in used, n.end_line - n.line))
        return cands[0]

    def note_miss(cls, r, extra=""):
        miss_counts[(r.kind, cls)] += 1
        key = "%s: %s" % (r.kind, cls)
        if len(misses[key]) < nexamples:
            misses[key].append("%s `%s` %s:%d%s" % (r.rkind, r.name, r.file, r.line, extra))

    macro_items = []
    end_same, end_total, end_examples = collections.Counter(), collections.Counter(), []
    derive_stats = collections.Counter()
    derive_examples = []
    hit_of = {}             # rustdoc id -> matched ferrograph node
    matched_impls = []      # (rustdoc impl, ferrograph impl node)
    derive_types = []       # (rustdoc derive impl, candidate type nodes)
    for r in ritems:
        if r.excluded == "derive" and r.kind == "impl" and r.trait:
            types = [n for n in by_file_kind.get((r.file, "struct"), []) + by_file_kind.get((r.file, "enum"), [])
                     + by_file_kind.get((r.file, "union"), []) if contains(n, r.line)]
            trait = DERIVE_MARKERS.get(r.trait, r.trait)
            if not types:
                derive_stats["type not found (macro-produced type)"] += 1
                continue
            derive_stats["derive impls"] += 1
            derive_types.append((r, types))
            if any(trait in n.derive or any(d.split("::")[-1] == trait for d in n.derive) for n in types):
                derive_stats["listed"] += 1
            elif len(derive_examples) < nexamples:
                derive_examples.append("%s:%d derive(%s) for %s; ferrograph: %s" % (
                    r.file, r.line, r.trait, r.self_type,
                    ", ".join("%s derive=%s" % (n.path, n.derive) for n in types) or "no type node"))
        if r.excluded:
            excluded[r.excluded] += 1
            excluded_by_kind[(r.kind, r.excluded)] += 1
            if r.excluded == "macro":
                macro_items.append(r)
            continue
        recall[r.kind][1] += 1
        hit = None
        if r.kind == "crate":
            cands = [n for n in nodes.values() if n.kind == "crate"]
            hit = cands[0] if cands else None
        elif r.kind == "module":
            cands = [n for n in modules_by_name.get(r.name, [])
                     if (n.file == r.file and contains(n, r.line)) or r.file in module_files(n)]
            hit = pick(cands) if cands else None
        elif r.kind == "use":
            cands = [n for n in by_file_kind.get((r.file, "use"), [])
                     if contains(n, r.line) and (use_contains(n.name, r.leaf) or n.name.endswith("*"))]
            hit = pick(cands) if cands else None
        elif r.kind == "impl":
            cands = [n for n in by_file_kind.get((r.file, "impl"), []) if contains(n, r.line)]
            hit = pick(cands) if cands else None
        else:
            cands = [n for n in by_file_name.get((r.file, r.name), []) if contains(n, r.line)]
            same = [n for n in cands if n.kind == r.kind]
            if same:
                hit = pick(same)
            elif cands:
                n = pick(cands)
                kind_mismatch_nodes.add(n.key)
                note_miss("kind mismatch (ferrograph: %s)" % n.kind, r, " -> %s" % n.path)
                continue
        if hit is None:
            if r.kind not in ("crate", "module", "use", "impl"):
                same_name = by_file_name.get((r.file, r.name), [])
                if same_name:
                    note_miss("name in file, line outside span", r,
                              " (ferrograph %s)" % ", ".join("%s %d-%d" % (n.kind, n.line, n.end_line)
                                                            for n in same_name[:3]))
                else:
                    note_miss("no node", r)
            else:
                note_miss("no node", r)
            continue
        used.add(hit.key)
        hit_of[r.id] = hit
        recall[r.kind][0] += 1
        if r.kind not in ("crate", "module", "use"):
            end_total[r.kind] += 1
            if hit.end_line == r.end_line:
                end_same[r.kind] += 1
            elif len(end_examples) < nexamples:
                end_examples.append("%s `%s` %s: rustdoc %d-%d, ferrograph %d-%d" % (
                    r.kind, r.name, r.file, r.line, r.end_line, hit.line, hit.end_line))
        if r.kind == "impl":
            impl_stats["matched"] += 1
            matched_impls.append((r, hit))
            fname = hit.name or ""
            m = re.match(r"^impl\s*(?:<.*?>\s*)?(.*)$", fname, re.S)
            rest = m.group(1) if m else fname
            ftrait, fself = None, rest
            if " for " in rest:
                ftrait, fself = rest.split(" for ", 1)
            if r.trait:
                impl_stats["trait impls"] += 1
                ok = ftrait is not None and re.search(r"\b" + re.escape(r.trait) + r"\b", ftrait)
                if ok:
                    impl_stats["trait name agrees"] += 1
                elif len(impl_examples["trait name differs"]) < nexamples:
                    impl_examples["trait name differs"].append(
                        "%s:%d rustdoc `impl %s for %s` vs ferrograph `%s`" % (r.file, r.line, r.trait, r.self_type, fname))
            else:
                impl_stats["inherent impls"] += 1
                if ftrait is None:
                    impl_stats["inherent agrees"] += 1
                elif len(impl_examples["inherent vs trait"]) < nexamples:
                    impl_examples["inherent vs trait"].append(
                        "%s:%d rustdoc `impl %s` vs ferrograph `%s`" % (r.file, r.line, r.self_type, fname))
            rb, fb = base_name(r.self_type or ""), base_name(fself or "")
            if rb == fb:
                impl_stats["self type agrees"] += 1
            elif len(impl_examples["self type differs"]) < nexamples:
                impl_examples["self type differs"].append(
                    "%s:%d rustdoc self `%s` vs ferrograph `%s`" % (r.file, r.line, r.self_type, fname))

    # ferrograph nodes inside macro invocations match macro-produced rustdoc items
    # (the rustdoc span of a macro-produced item is the outermost call site)
    macro_found = collections.Counter()   # kind -> found
    macro_total = collections.Counter()
    macro_nodes_matched = 0
    macro_names = collections.Counter()
    for r in macro_items:
        macro_total[r.kind] += 1
        macro_names[r.macro or "?"] += 1
        cands = [n for n in by_file_name.get((r.file, r.name), [])
                 if n.in_macro and n.kind == r.kind and r.line <= n.line <= r.end_line]
        if cands:
            macro_found[r.kind] += 1
            n = pick(cands)
            if n.key not in used:
                macro_nodes_matched += 1
            used.add(n.key)
            hit_of.setdefault(r.id, n)

    edge_stats, edge_examples = check_impl_edges(doc, ritems, hit_of, matched_impls, derive_types,
                                                 impl_edges, nexamples)

    def content_files(anc):
        files = set()
        for a in anc:
            files.add(a.file)
            if a.kind == "module":
                files.update(f for f in module_files(a) if sources.exists(f))
        return files

    # precision
    precision = collections.defaultdict(lambda: [0, 0])
    fp_counts = collections.Counter()
    fp_examples = collections.defaultdict(list)
    not_comparable = collections.Counter()
    for n in nodes.values():
        if n.kind not in COMPARABLE:
            not_comparable[n.kind] += 1
            continue
        if n.kind == "use" and n.visibility != "pub":
            not_comparable["use (not pub)"] += 1
            continue
        precision[n.kind][1] += 1
        if n.key in used:
            precision[n.kind][0] += 1
            continue
        anc = list(ancestors(nodes, n))
        cfgs = [c for a in anc for c in a.cfg]
        values = [eval_cfg(c, cfgset) if cfgset is not None else None for c in cfgs]
        off = [c for c, v in zip(cfgs, values) if v is False]
        if any(re.search(r"\btest\b", c) for c in off):
            cls = "cfg(test)"
        elif off:
            cls = "cfg off"
        elif cfgset is not None and any(
                eval_cfg(c, cfgset) is False
                for f in sorted(content_files(anc)) for c in inner_cfgs(sources, f)):
            cls = "inner #![cfg] off"
        elif any(v is None for v in values):
            cls = "cfg not evaluated"
        elif n.kind in ("function", "method") and is_test_fn(sources, n):
            cls = "#[test] fn"
        elif n.kind == "const" and n.name == "_":
            cls = "const _ (rustdoc omits)"
        elif any(a.kind == "impl" and re.search(r" for (dyn\b|[\w:<>, ]+\+)", a.name or "") for a in anc):
            cls = "impl for dyn Trait (rustdoc omits)"
        elif any(a.kind in ("function", "method") for a in anc[1:]):
            cls = "in fn body"
        elif n.key in kind_mismatch_nodes:
            cls = "kind mismatch"
        elif n.in_macro:
            cls = "in macro call (not produced)"
        else:
            cls = "other"
        fp_counts[(n.kind, cls)] += 1
        key = "%s: %s" % (n.kind, cls)
        if len(fp_examples[key]) < nexamples:
            extra = (" cfg(%s)" % "; ".join(sorted(set(cfgs)))) if cfgs else ""
            fp_examples[key].append("`%s` %s:%d%s" % (n.path, n.file, n.line, extra))

    explained = {"cfg(test)", "cfg off", "inner #![cfg] off", "#[test] fn", "in fn body",
                 "const _ (rustdoc omits)", "impl for dyn Trait (rustdoc omits)"}

    table = {}
    for k in KINDS:
        rm, rt = recall.get(k, [0, 0])
        pm, pt = precision.get(k, [0, 0])
        unexplained = sum(v for (kk, cls), v in fp_counts.items() if kk == k and cls not in explained)
        table[k] = {"rustdoc": rt, "recall_matched": rm, "ferrograph": pt, "precision_matched": pm,
                    "unmatched_unexplained": unexplained}
    return {
        "label": label,
        "crate": crate_name,
        "format_version": doc.get("format_version"),
        "kinds": table,
        "excluded": dict(excluded),
        "excluded_by_kind": {"%s/%s" % k: v for k, v in excluded_by_kind.items()},
        "skipped": dict(skipped),
        "macro_nodes_matched": macro_nodes_matched,
        "macro_produced": {k: [macro_found[k], macro_total[k]] for k in macro_total},
        "macro_names": dict(macro_names),
        "duplicate_ids": len(duplicate_ids),
        "duplicate_id_examples": [n.path for n in nodes_all.values()
                                  if n.id in duplicate_ids][:nexamples],
        "cfg_set": cfgset is not None,
        "other_crate_nodes": other_crate_nodes,
        "not_comparable": dict(not_comparable),
        "misses": {"%s: %s" % k: v for k, v in miss_counts.items()},
        "miss_examples": dict(misses),
        "false_positives": {"%s: %s" % k: v for k, v in fp_counts.items()},
        "fp_examples": dict(fp_examples),
        "impls": dict(impl_stats),
        "end_line": {k: [end_same[k], end_total[k]] for k in end_total},
        "end_line_examples": end_examples,
        "derives": dict(derive_stats),
        "derive_examples": derive_examples,
        "impl_examples": dict(impl_examples),
        "edges": dict(edge_stats),
        "edition": crate_edition(src),
        "edge_examples": dict(edge_examples),
    }


# ------------------------------------------------------------ CALLS vs MIR

class Call:
    __slots__ = ("cls", "caller_file", "caller_line", "caller", "file", "line", "op_line", "target",
                 "defs", "name", "callee", "via", "callee_in_macro", "in_macro", "form", "decl")

    def __repr__(self):
        return "%s:%d %s" % (self.file, self.line, self.callee)


def load_calls_truth(path):
    """mir_calls.py's table: (calls, fn body anchors {file: [lines]})."""
    calls, bodies = [], collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            c = line.rstrip("\n").split("\t")
            if c[0] == "body":
                bodies[c[1]].append(int(c[2]))
                continue
            t = Call()
            (t.cls, t.caller_file, t.caller_line, t.caller, t.file, t.line, t.op_line, t.target,
             defs, t.name, t.callee, t.via, t.callee_in_macro, t.in_macro, t.form) = c[:15]
            t.caller_line, t.line, t.op_line = int(t.caller_line), int(t.line), int(t.op_line)
            t.defs = [(d.rsplit(":", 1)[0], int(d.rsplit(":", 1)[1])) for d in defs.split(",") if d]
            decl = c[15] if len(c) > 15 else ""
            t.decl = [(d.rsplit(":", 1)[0], int(d.rsplit(":", 1)[1])) for d in decl.split(",") if d]
            t.callee_in_macro, t.in_macro = t.callee_in_macro == "1", t.in_macro == "1"
            t.name = strip_raw(t.name)
            calls.append(t)
    return calls, bodies


def load_calls_export(path):
    """Nodes by id and the CALLS edges of an export (props merged into the edge
    object, or under "props" as an object or JSON text)."""
    nodes = {}
    edges = []
    seen = set()
    for o in read_jsonl(path):
        if o.get("type") == "node":
            nodes.setdefault(o["id"], o)
        elif o.get("type") == "edge" and o.get("kind") == "CALLS":
            props = o.get("props")
            if isinstance(props, str):
                try:
                    props = json.loads(props)
                except ValueError:
                    props = {}
            if isinstance(props, dict):
                for k, v in props.items():
                    o.setdefault(k, v)
            key = (o.get("src_id"), o.get("dst_id"), o.get("file"), o.get("line"))
            if key in seen:
                continue
            seen.add(key)
            edges.append(o)
    return nodes, edges


FN_KINDS = ("function", "method")
MIR_NO_CALL = {"transmute"}   # lowered to a cast: no Call terminator


CFG_ATTR_RE = re.compile(r"^\s*#\[\s*cfg\s*\(")


def cfg_off_statement(sources, cfgset, node, file, line):
    """Is `line` inside a statement or expression of fn `node` that a false
    `#[cfg(..)]` removes (`#[cfg(debug_assertions)] check();`)? The statement
    runs from the attribute to the `;` / `,` / closing `}` that ends it."""
    lines = sources.lines(file) if cfgset is not None else None
    if not lines:
        return False
    start = max(node.get("line", 1), 1)
    for ln in range(start, min(line, len(lines)) + 1):
        text = lines[ln - 1]
        if not CFG_ATTR_RE.match(text):
            continue
        body = "\n".join(lines[ln - 1:min(len(lines), ln + 400)])
        i = body.index("(", body.index("cfg")) + 1
        depth, j = 1, i
        while j < len(body) and depth:
            depth += {"(": 1, ")": -1}.get(body[j], 0)
            j += 1
        pred = body[i:j - 1]
        k = body.find("]", j)
        if k < 0 or eval_cfg(pred, cfgset) is not False:
            continue
        depth, end, opened = 0, None, False
        m = k + 1
        while m < len(body):
            c = body[m]
            if c in "([{":
                depth += 1
                opened = True
            elif c in ")]}":
                depth -= 1
                if depth < 0 or (depth == 0 and c == "}" and opened):
                    end = m
                    break
            elif c in ";," and depth == 0:
                end = m
                break
            elif c == '"':
                m = body.find('"', m + 1)
                if m < 0:
                    break
            m += 1
        if end is not None and ln < line <= ln + body.count("\n", 0, end):
            return True
    return False


def calls_compare(calls_path, export_path, crate_name, nexamples=6, src=None, cfg_path=None):
    """CALLS edges of the export against the MIR calls (mir_calls.py). The rules
    are in the module docstring, section "CALLS"."""
    truth, bodies = load_calls_truth(calls_path)
    sources = SourceCache(src) if src else None
    cfgset = load_cfg_set(cfg_path) if sources else None
    nodes, edges = load_calls_export(export_path)
    st = collections.Counter()
    ex = collections.defaultdict(list)

    def note(key, text, n=1):
        st[key] += n
        if len(ex[key]) < nexamples:
            ex[key].append(text)

    def holds(node, file, line):
        return node is not None and node.get("file") == file and \
            node.get("line", 0) <= line <= node.get("end_line", node.get("line", 0))

    def dst_is(node, t):
        """the edge's dst is the truth callee (a def in the node's span, same name)"""
        if node is None or node.get("kind") not in FN_KINDS or strip_raw(node.get("name")) != t.name:
            return False
        return any(holds(node, f, l) for f, l in t.defs)

    def dst_is_decl(node, t):
        """the edge stops at the trait's declaration of the impl method MIR calls"""
        if node is None or not t.decl or strip_raw(node.get("name")) != t.name:
            return False
        return any(holds(node, f, l) for f, l in t.decl)

    def src_ok(node, t):
        """the src is the MIR caller: holds its anchor and has its name (an outer
        fn holds the anchor of a fn nested in it too)"""
        return holds(node, t.caller_file, t.caller_line) and \
            strip_raw(node.get("name")) == strip_raw(t.caller.split("::")[-1])

    # edges by call site
    at = collections.defaultdict(list)   # (file, line) -> edges
    for e in edges:
        at[(e.get("file"), e.get("line"))].append(e)
    truth_at = collections.defaultdict(list)
    for t in truth:
        truth_at[(t.file, t.line)].append(t)
        if t.op_line != t.line:
            truth_at[(t.file, t.op_line)].append(t)

    def res_kind(e):
        return e.get("resolved") or "unknown"

    def edesc(e):
        d = nodes.get(e.get("dst_id"))
        return "%s %s" % (res_kind(e), e.get("dst") if d is None or d.get("kind") == "external"
                          else "%s (%s:%s)" % (e.get("dst"), d.get("file"), d.get("line")))

    # ---- recall: keep calls to crate-defined functions
    for t in truth:
        if t.target not in ("local", "ambiguous"):
            continue
        group = "recall" if t.cls == "keep" and not t.callee_in_macro else \
            "recall (callee made by a macro)" if t.cls == "keep" else None
        if group is None:
            st["excluded: %s" % t.cls] += 1
            continue
        st[group + ": total"] += 1
        site = at.get((t.file, t.line), []) + (at.get((t.file, t.op_line), []) if t.op_line != t.line else [])
        hits = [e for e in site if dst_is(nodes.get(e.get("dst_id")), t)]
        good = [e for e in hits if src_ok(nodes.get(e.get("src_id")), t)]
        tag = "%s:%d `%s` -> %s" % (t.file, t.line, t.caller.split("::")[-1], t.callee)
        if good:
            st[group + ": found"] += 1
            kinds = {res_kind(e) for e in good}
            best = next((k for k in ("exact", "import", "method", "unknown", "name_only") if k in kinds), "?")
            st[group + ": found as %s" % best] += 1
            if best != "name_only":
                st[group + ": resolved"] += 1
            if group == "recall":
                st["recall by via: %s: found" % t.via] += 1
                st["recall by form: %s: found" % t.form] += 1
                if t.in_macro:
                    st["recall in macro call: found"] += 1
        else:
            if hits:
                cls = "right callee, src does not hold the caller"
                extra = " (src %s)" % ", ".join(str(e.get("src")) for e in hits[:2])
            elif not site:
                cls = "no CALLS edge at the call site"
                extra = ""
            elif any(dst_is_decl(nodes.get(e.get("dst_id")), t) for e in site):
                cls = "an edge to the trait's declaration, MIR calls an impl's method"
                extra = ""
            else:
                others = truth_at.get((t.file, t.line), []) + truth_at.get((t.file, t.op_line), [])
                stray = [e for e in site if not any(dst_is(nodes.get(e.get("dst_id")), o) for o in others)]
                if not stray:
                    cls = "no edge for this call (the line's other calls have theirs)"
                elif all(res_kind(e) == "name_only" for e in stray):
                    cls = "name_only candidates, none is the callee"
                else:
                    cls = "an edge to another fn"
                extra = " (ferrograph: %s)" % "; ".join(edesc(e) for e in (stray or site)[:3])
            if group == "recall":
                note("recall miss: " + cls, tag + extra)
                note("recall miss by via: %s" % t.via, tag + extra)
                note("recall miss by form: %s" % t.form, tag + extra)
            else:
                note("recall (callee made by a macro) miss: " + cls, tag + extra)
        if group == "recall":
            st["recall by via: %s: total" % t.via] += 1
            st["recall by form: %s: total" % t.form] += 1
            if t.in_macro:
                st["recall in macro call: total"] += 1

    # ---- precision: edges from fns of this crate
    anchors = bodies
    for e in edges:
        s, d = nodes.get(e.get("src_id")), nodes.get(e.get("dst_id"))
        if s is None or s.get("crate") != crate_name:
            st["edges from other targets (tests/examples/benches)"] += 1
            continue
        kind = res_kind(e)
        local = d is not None and d.get("kind") in FN_KINDS and d.get("crate") == crate_name
        ext = d is None or d.get("kind") == "external"
        fam = "name_only" if kind == "name_only" else "resolved"
        target = "local" if local else "external" if ext else "other (%s)" % (d.get("kind") if d else "?")
        st["edges %s -> %s" % (fam, target)] += 1
        if target.startswith("other"):
            note("edges to a non-fn node", "%s:%s %s -> %s [%s]" % (e.get("file"), e.get("line"), e.get("src"), e.get("dst"), kind))
            if fam == "resolved":
                # a call edge to a struct/variant/... is wrong whatever the MIR says
                st["precision: counted"] += 1
                st["precision %s: counted" % kind] += 1
                note("precision wrong: dst is not a fn", "%s:%s %s -> %s" % (e.get("file"), e.get("line"), e.get("src"), e.get("dst")))
            continue
        compiled = any(s.get("line", 0) <= a <= s.get("end_line", 0) for a in anchors.get(s.get("file"), []))
        line = e.get("line") or 0
        cands = truth_at.get((e.get("file"), line), [])
        tag = "%s:%s `%s` -> %s [%s]" % (e.get("file"), line, (e.get("src") or "").split("::")[-1], e.get("dst"), kind)
        if target == "external":
            if fam != "resolved" or not compiled:
                continue
            st["external: counted"] += 1
            exts = [t for t in cands if t.target == "external"]
            best = None
            if (e.get("dst") or "").split("::")[-1] in MIR_NO_CALL:
                st["external: counted"] -= 1
                st["external edges to intrinsics MIR lowers (transmute)"] += 1
                continue
            for t in exts:
                a = path_agreement(t.callee, e.get("dst") or "")
                if a is None and t.callee.split("::")[-2:] == (e.get("dst") or "").split("::")[-2:]:
                    a = "lenient"
                if a == "exact":
                    best = a
                    break
                best = best or a
            if best:
                st["external: %s" % best] += 1
            elif any(t.target in ("local", "ambiguous") for t in cands):
                note("external wrong: MIR calls a crate fn here", tag + " (MIR: %s)" % ", ".join(
                    t.callee for t in cands if t.target != "external")[:200])
            elif exts:
                note("external wrong: MIR calls another external fn", tag + " (MIR: %s)" % ", ".join(
                    sorted({t.callee for t in exts}))[:300])
            else:
                note("external wrong: no MIR call on this line", tag)
            continue
        # local target
        if not compiled:
            st["%s edges from code the compiler did not build (cfg off, cfg(test), #[test])" % fam] += 1
            continue
        hit = [t for t in cands if dst_is(d, t)]
        good = [t for t in hit if src_ok(s, t)]
        if not hit and sources is not None and cfg_off_statement(sources, cfgset, s, e.get("file"), line):
            st["%s edges in statements a false #[cfg] removes" % fam] += 1
            if fam == "resolved":
                note("resolved edges in statements a false #[cfg] removes (not counted)", tag)
            continue
        if fam == "name_only":
            st["name_only edges (compiled code)"] += 1
            if good:
                st["name_only edges to the MIR callee"] += 1
            continue
        st["precision: counted"] += 1
        st["precision %s: counted" % kind] += 1
        if good:
            st["precision: right"] += 1
            st["precision %s: right" % kind] += 1
            if any(t.cls != "keep" for t in good) and not any(t.cls == "keep" for t in good):
                st["precision right, MIR class: %s" % good[0].cls] += 1
            continue
        if any(dst_is_decl(d, t) and src_ok(s, t) for t in cands):
            st["precision: trait declaration for the impl method"] += 1
            st["precision %s: trait declaration for the impl method" % kind] += 1
            cls = "the trait's declaration, MIR calls an impl's method"
            extra = " (MIR: %s)" % ", ".join(sorted({"%s @%s" % (t.callee, ",".join("%s:%d" % x for x in t.defs))
                                                     for t in cands if dst_is_decl(d, t)}))[:300]
        elif hit:
            cls = "src does not hold the MIR caller"
            extra = " (MIR caller %s:%d)" % (hit[0].caller_file, hit[0].caller_line)
        elif not cands:
            cls = "no MIR call on this line"
            extra = ""
        else:
            locs = [t for t in cands if t.target in ("local", "ambiguous")]
            decl = [t for t in locs if t.name == strip_raw(d.get("name"))]
            if decl:
                cls = "MIR calls another fn of that name"
            elif locs:
                cls = "MIR calls another crate fn here"
            elif all(t.target == "external" for t in cands):
                cls = "MIR calls an external fn here"
            else:
                cls = "MIR call not mapped"
            extra = " (MIR: %s)" % ", ".join(sorted({"%s @%s" % (t.callee, ",".join("%s:%d" % x for x in t.defs))
                                                     if t.defs else t.callee for t in cands}))[:300]
        note("precision wrong (%s): %s" % (kind, cls), tag + extra)
    # name_only sites: is the MIR callee among the candidates?
    sites = collections.defaultdict(list)
    for e in edges:
        if res_kind(e) == "name_only":
            sites[(e.get("file"), e.get("line"))].append(e)
    for key, es in sites.items():
        sn = nodes.get(es[0].get("src_id"))
        if sn is None or sn.get("crate") != crate_name or not any(
                sn.get("line", 0) <= a <= sn.get("end_line", 0) for a in anchors.get(sn.get("file"), [])):
            continue
        st["name_only sites (compiled code)"] += 1
        cands = [t for t in truth_at.get(key, []) if t.target in ("local", "ambiguous")]
        if not cands:
            if truth_at.get(key):
                note("name_only sites where MIR calls only external fns", "%s:%s %s (MIR: %s)" % (
                    key[0], key[1], ", ".join(sorted({str(e.get("dst")) for e in es}))[:160],
                    ", ".join(sorted({t.callee for t in truth_at[key]}))[:160]))
            else:
                st["name_only sites without a MIR call"] += 1
            continue
        st["name_only sites with a MIR crate callee"] += 1
        st["name_only candidates at those sites"] += len(es)
        if any(dst_is(nodes.get(e.get("dst_id")), t) for e in es for t in cands):
            st["name_only sites whose candidates hold the MIR callee"] += 1
    st["truth calls"] = len(truth)
    return {"stats": dict(st), "examples": dict(ex)}


def calls_counts(st):
    """The headline numbers of a CALLS stats dict."""
    g = lambda k: st.get(k, 0)
    return {
        "truth": g("recall: total"), "found": g("recall: found"), "resolved": g("recall: resolved"),
        "counted": g("precision: counted"), "right": g("precision: right"),
        "macro_total": g("recall (callee made by a macro): total"),
        "macro_found": g("recall (callee made by a macro): found"),
        "name_only": g("edges name_only -> local"),
        "no_sites": g("name_only sites with a MIR crate callee"),
        "no_hold": g("name_only sites whose candidates hold the MIR callee"),
        "no_cands": g("name_only candidates at those sites"),
    }


def calls_report(results, out):
    rs = [r for r in results if r.get("calls")]
    if not rs:
        return None
    total = collections.Counter()
    for r in rs:
        total.update(r["calls"]["stats"])
    out.append("## CALLS against the compiler (MIR)")
    out.append("")
    out.append("Oracle: rustc's MIR of the library (`mir_truth.sh`, normalized by `mir_calls.py`), "
               "every call resolved by the compiler and placed at its definition through the rustdoc JSON. "
               "*Recall*: calls written in the crate's source to functions defined in the crate "
               "(compiler-made calls, derives, macro_rules bodies and expansions of other crates' macros "
               "excluded), found when an edge at the call site (its first line, or the line of the method "
               "name) goes from the fn holding the caller to the fn holding the callee's definition; "
               "*resolved* counts only edges not marked `name_only`. *Precision*: every CALLS edge not "
               "marked `name_only` whose dst is a fn of the crate, from a fn the compiler built "
               "(cfg-off/test code has no MIR and is left out), is right when the MIR has that call "
               "there. Rules: `compare.py` (section CALLS) and `mir_calls.py`.")
    out.append("")
    out.append("| crate | MIR calls to crate fns | found | recall | resolved | resolved recall | "
               "edges (not name_only) to crate fns | right | precision | exact | import | method | "
               "name_only edges | name_only sites: callee among candidates |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [(r["label"], r["calls"]["stats"]) for r in rs] + [("**all**", total)]
    for lbl, st in rows:
        c = calls_counts(st)
        kinds = []
        for k in ("exact", "import", "method"):
            n, ok = st.get("precision %s: counted" % k, 0), st.get("precision %s: right" % k, 0)
            kinds.append("%d/%d (%s)" % (ok, n, pct(ok, n)) if n else "—")
        out.append("| %s | %d | %d | %s | %d | %s | %d | %d | %s | %s | %d | %s |" % (
            lbl, c["truth"], c["found"], pct(c["found"], c["truth"]), c["resolved"],
            pct(c["resolved"], c["truth"]), c["counted"], c["right"], pct(c["right"], c["counted"]),
            " | ".join(kinds), c["name_only"],
            "%d/%d (%.1f candidates/site)" % (c["no_hold"], c["no_sites"], c["no_cands"] / c["no_sites"])
            if c["no_sites"] else "—"))
    out.append("")
    c = calls_counts(total)
    td = total.get("precision: trait declaration for the impl method", 0)
    if td:
        out.append("Of the wrong edges, %d stop at the trait's declaration where the compiler calls an impl's "
                   "method (`Trait::m(x)` with a concrete Self, `Deserialize::deserialize(d)`); accepting those "
                   "would give %d/%d (%s)." % (td, c["right"] + td, c["counted"], pct(c["right"] + td, c["counted"])))
        out.append("")
    out.append("Calls to fns that a macro or #[derive] of the crate produced (not in the recall above): %d, found %d (%s)." % (
        c["macro_total"], c["macro_found"], pct(c["macro_found"], c["macro_total"])))
    out.append("")
    excl = sorted((k.split(": ", 1)[1], v) for k, v in total.items() if k.startswith("excluded: "))
    out.append("MIR calls to crate fns left out of recall: " + (", ".join("%s %d" % kv for kv in excl) or "none") + ".")
    out.append("")
    other = [(k, v) for k, v in sorted(total.items()) if k.startswith("edges ") or
             k.endswith("did not build (cfg off, cfg(test), #[test])") or k.endswith("a false #[cfg] removes")]
    out.append("Ferrograph CALLS edges: " + ", ".join("%s %d" % kv for kv in other) + ".")
    out.append("")
    if total.get("name_only sites (compiled code)"):
        out.append("name_only call sites in compiled code: %d; the MIR calls a crate fn there %d (the candidates "
                   "hold it %d), only external fns %d (e.g. `.map()` on an Option given the crate's `map` "
                   "methods), nothing %d." % (
                       total["name_only sites (compiled code)"], total.get("name_only sites with a MIR crate callee", 0),
                       total.get("name_only sites whose candidates hold the MIR callee", 0),
                       total.get("name_only sites where MIR calls only external fns", 0),
                       total.get("name_only sites without a MIR call", 0)))
        out.append("")
    ext_n = total.get("external: counted", 0)
    if ext_n:
        out.append("Edges (not name_only) to external nodes, from compiled fns: %d; the MIR call on that line "
                   "has the same path %d, same crate family and name %d (%s agree)." % (
                       ext_n, total.get("external: exact", 0), total.get("external: lenient", 0),
                       pct(total.get("external: exact", 0) + total.get("external: lenient", 0), ext_n)))
        out.append("")
    for title, prefix in (("Recall by how the compiler resolved the callee", "recall by via: "),
                          ("Recall by call form", "recall by form: ")):
        keys = sorted({k[len(prefix):].rsplit(": ", 1)[0] for k in total if k.startswith(prefix)})
        if keys:
            out.append(title + ": " + ", ".join(
                "%s %d/%d (%s)" % (k, total.get(prefix + k + ": found", 0), total.get(prefix + k + ": total", 0),
                                   pct(total.get(prefix + k + ": found", 0), total.get(prefix + k + ": total", 0)))
                for k in keys) + ".")
            out.append("")
    if total.get("recall in macro call: total"):
        out.append("Calls written inside macro invocations (`assert!(f(x))`): found %d of %d." % (
            total.get("recall in macro call: found", 0), total["recall in macro call: total"]))
        out.append("")
    for title, prefix in (("Recall misses", "recall miss: "), ("Wrong edges (precision)", "precision wrong"),
                          ("External edges that disagree", "external wrong"),
                          ("Misses among calls to macro-produced fns", "recall (callee made by a macro) miss: ")):
        keys = sorted((k for k in total if k.startswith(prefix)), key=lambda k: -total[k])
        if not keys:
            continue
        out.append("%s:" % title)
        out.append("")
        for k in keys:
            exs = []
            for r in rs:
                exs.extend("[%s] %s" % (r["label"], x) for x in r["calls"]["examples"].get(k, [])[:2])
            out.append("- %s (%d): %s" % (k[len(prefix):].lstrip(": ") if prefix != "precision wrong" else k[len("precision wrong "):],
                                          total[k], "; ".join(exs[:8])))
        out.append("")
    out.append("<details><summary>CALLS examples per crate</summary>")
    out.append("")
    for r in rs:
        st, exs = r["calls"]["stats"], r["calls"]["examples"]
        if not exs:
            continue
        out.append("**%s**" % r["label"])
        out.append("")
        for k in sorted(exs, key=lambda k: -st.get(k, 0)):
            if k.startswith("recall miss by "):
                continue
            out.append("- %s (%d): %s" % (k, st.get(k, 0), "; ".join(exs[k])))
        out.append("")
    out.append("</details>")
    out.append("")
    return dict(total)


# -------------------------------------------------------------------- reporting

def pct(a, b):
    return "—" if b == 0 else "%.1f%%" % (100.0 * a / b)


def totals(kinds):
    t = {"rustdoc": 0, "recall_matched": 0, "ferrograph": 0, "precision_matched": 0,
         "unmatched_unexplained": 0}
    for v in kinds.values():
        for k in t:
            t[k] += v[k]
    return t


def kind_table(kinds, out):
    out.append("| kind | rustdoc | found | recall | ferrograph | true | precision | adj. precision |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = [(k, kinds[k]) for k in KINDS if kinds[k]["rustdoc"] or kinds[k]["ferrograph"]]
    rows.append(("**all**", totals(kinds)))
    for k, v in rows:
        adj_den = v["precision_matched"] + v["unmatched_unexplained"]
        out.append("| %s | %d | %d | %s | %d | %d | %s | %s |" % (
            k, v["rustdoc"], v["recall_matched"], pct(v["recall_matched"], v["rustdoc"]),
            v["ferrograph"], v["precision_matched"], pct(v["precision_matched"], v["ferrograph"]),
            pct(v["precision_matched"], adj_den)))


def merge(results):
    kinds = {k: {"rustdoc": 0, "recall_matched": 0, "ferrograph": 0, "precision_matched": 0,
                 "unmatched_unexplained": 0} for k in KINDS}
    agg = {"excluded": collections.Counter(), "misses": collections.Counter(),
           "false_positives": collections.Counter(), "impls": collections.Counter(),
           "derives": collections.Counter(), "macro_names": collections.Counter(),
           "edges": collections.Counter()}
    end = collections.defaultdict(lambda: [0, 0])
    macro = collections.defaultdict(lambda: [0, 0])
    dups = 0
    for r in results:
        dups += r["duplicate_ids"]
        for k, (f, t) in r["macro_produced"].items():
            macro[k][0] += f
            macro[k][1] += t
        for k, (f, t) in r["end_line"].items():
            end[k][0] += f
            end[k][1] += t
        for k in KINDS:
            for f in kinds[k]:
                kinds[k][f] += r["kinds"][k][f]
        for f in agg:
            agg[f].update(r[f])
    out = {"kinds": kinds, "macro_produced": dict(macro), "duplicate_ids": dups, "end_line": dict(end)}
    out.update({k: dict(v) for k, v in agg.items()})
    return out


def macro_line(mp):
    f = sum(v[0] for v in mp.values())
    t = sum(v[1] for v in mp.values())
    parts = ", ".join("%s %d/%d" % (k, v[0], v[1]) for k, v in sorted(mp.items()))
    return "%d of %d%s" % (f, t, (" (" + parts + ")") if parts else "")


def end_line_text(end):
    f = sum(v[0] for v in end.values())
    t = sum(v[1] for v in end.values())
    worst = sorted(((v[0] / v[1], k, v) for k, v in end.items() if v[1]), key=lambda x: x[0])[:4]
    return "%d of %d (%s)" % (f, t, pct(f, t)) + (
        "; lowest: " + ", ".join("%s %d/%d" % (k, v[0], v[1]) for _, k, v in worst) if worst else "")


def derive_text(d):
    return "%d of %d (types not found, produced by macros: %d)" % (
        d.get("listed", 0), d.get("derive impls", 0), d.get("type not found (macro-produced type)", 0))


def impl_line(im):
    m = im.get("matched", 0)
    return ("trait impls: trait name agrees %d/%d; inherent impls rendered inherent %d/%d; "
            "self type name agrees %d/%d" % (
                im.get("trait name agrees", 0), im.get("trait impls", 0),
                im.get("inherent agrees", 0), im.get("inherent impls", 0),
                im.get("self type agrees", 0), m))


def report(results, out):
    overall = merge(results)
    out.append("## Overall (%d crates)" % len(results))
    out.append("")
    kind_table(overall["kinds"], out)
    out.append("")
    out.append("Excluded rustdoc items (compiler-generated): " +
               (", ".join("%s %d" % kv for kv in sorted(overall["excluded"].items())) or "none"))
    out.append("")
    out.append("Macro-produced rustdoc items (excluded above) for which ferrograph has an `in_macro` node "
               "of the same kind and name inside the call: " + macro_line(overall["macro_produced"]) + ".")
    out.append("")
    top = sorted(overall["macro_names"].items(), key=lambda kv: -kv[1])[:12]
    out.append("Macros producing the most items (items per call-site macro name): " +
               ", ".join("`%s!` %d" % kv for kv in top) + ".")
    out.append("")
    out.append("Duplicate node ids in the exports: %d." % overall["duplicate_ids"])
    out.append("")
    out.append("Matched items whose end line agrees exactly (a stricter span check than the match rule): " +
               end_line_text(overall["end_line"]) + ".")
    out.append("")
    out.append("`#[derive]` impls rustdoc reports whose trait ferrograph lists in the type node's `derive`: " +
               derive_text(overall["derives"]) + ".")
    out.append("")
    out.append("Impls matched by file+line: %d of %d; %s." % (
        overall["impls"].get("matched", 0), overall["kinds"]["impl"]["rustdoc"], impl_line(overall["impls"])))
    out.append("")
    out.append("### Resolved impl edges (IMPLEMENTS, IMPL_FOR, derive IMPLEMENTS)")
    out.append("")
    out.append("For every impl matched by file+line: IMPLEMENTS must reach rustdoc's trait, "
               "IMPL_FOR rustdoc's self type when that is a resolved path; a local target must be the "
               "ferrograph node matched to rustdoc's item (*local*; *local by span* when that item is "
               "unmatched and the edge's node span holds it), an external one must have the same path "
               "after mapping core/alloc to std and dropping private std modules (*exact*), or at least "
               "the same crate family and last segment (*lenient*). Derive: each rustdoc "
               "`#[automatically_derived]` impl whose type node was found needs an IMPLEMENTS edge with "
               "`derive: true` from that node to the trait (marker impls such as StructuralPartialEq skipped).")
    out.append("")
    out.append("| crate | edition | IMPLEMENTS | IMPL_FOR | derive | of which lenient (impl/for/derive) | no edge (impl/for/derive) | wrong (impl/for/derive) |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for lbl, ed, st in [(r["label"], r["edition"], r["edges"]) for r in results] + [("**all**", "", overall["edges"])]:
        cells = []
        for check in ("IMPLEMENTS", "IMPL_FOR", "derive"):
            ok, tot = edge_counts(st, check)
            cells.append("%d/%d (%s)" % (ok, tot, pct(ok, tot)))
        def three(o):
            return "/".join(str(st.get("%s: %s" % (c, o), 0)) for c in ("IMPLEMENTS", "IMPL_FOR", "derive"))
        cells += [three("lenient"), three("no edge"), three("wrong")]
        out.append("| %s | %s | %s |" % (lbl, ed, " | ".join(cells)))
    out.append("")
    out.append("Outcomes overall: " + edge_line(overall["edges"]) + ".")
    out.append("")
    ex_all = collections.defaultdict(list)
    for r in results:
        for k, ex in r["edge_examples"].items():
            ex_all[k].extend("[%s] %s" % (r["label"], e) for e in ex[:2])
    if ex_all:
        out.append("Examples (up to 2 per crate; all lenient/no edge/wrong cases per crate are in the per-crate sections):")
        out.append("")
        for k in sorted(ex_all):
            out.append("- %s (%d): %s" % (k, overall["edges"].get(k, 0), "; ".join(ex_all[k][:8])))
        out.append("")
    out.append("Recall misses by class:")
    out.append("")
    out.append("| kind: class | count |")
    out.append("|---|---:|")
    for k, v in sorted(overall["misses"].items(), key=lambda kv: -kv[1]):
        out.append("| %s | %d |" % (k, v))
    out.append("")
    out.append("Unmatched ferrograph nodes by class:")
    out.append("")
    out.append("| kind: class | count |")
    out.append("|---|---:|")
    for k, v in sorted(overall["false_positives"].items(), key=lambda kv: -kv[1]):
        out.append("| %s | %d |" % (k, v))
    out.append("")
    overall["calls"] = calls_report(results, out)
    out.append("## Per crate")
    out.append("")
    out.append("| crate | rustdoc items | recall | ferrograph nodes | precision | adj. precision | excluded (derive/macro/outside) | impls matched | trait name agrees |")
    out.append("|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in results:
        t = totals(r["kinds"])
        ex = r["excluded"]
        im = r["impls"]
        out.append("| %s | %d | %s | %d | %s | %s | %d/%d/%d | %d/%d | %d/%d |" % (
            r["label"], t["rustdoc"], pct(t["recall_matched"], t["rustdoc"]),
            t["ferrograph"], pct(t["precision_matched"], t["ferrograph"]),
            pct(t["precision_matched"], t["precision_matched"] + t["unmatched_unexplained"]),
            ex.get("derive", 0), ex.get("macro", 0), ex.get("outside", 0),
            im.get("matched", 0), r["kinds"]["impl"]["rustdoc"],
            im.get("trait name agrees", 0), im.get("trait impls", 0)))
    out.append("")
    for r in results:
        out.append("### %s" % r["label"])
        out.append("")
        kind_table(r["kinds"], out)
        out.append("")
        out.append("Excluded: %s. Ferrograph nodes of other crates (tests/examples/benches targets) ignored: %d." % (
                       ", ".join("%s %d" % kv for kv in sorted(r["excluded"].items())) or "none",
                       r["other_crate_nodes"]))
        out.append("")
        out.append("Macro-produced items with an `in_macro` node: %s." % macro_line(r["macro_produced"]))
        out.append("")
        if r["duplicate_ids"]:
            out.append("Duplicate node ids in the export: %d (e.g. %s)." % (
                r["duplicate_ids"], ", ".join("`%s`" % p for p in r["duplicate_id_examples"])))
            out.append("")
        if not r["cfg_set"]:
            out.append("No cfg set for this crate: #[cfg] predicates were not evaluated.")
            out.append("")
        out.append("End line agrees: %s. Derives listed: %s." % (end_line_text(r["end_line"]), derive_text(r["derives"])))
        out.append("")
        out.append("Impls: %s." % impl_line(r["impls"]))
        out.append("")
        out.append("Impl edges: %s." % edge_line(r["edges"]))
        out.append("")
        for title, examples, counts in (
                ("impl edge misses and lenient matches", r["edge_examples"], r["edges"]),
                ("misses (rustdoc has, ferrograph lacks)", r["miss_examples"], r["misses"]),
                ("unmatched ferrograph nodes", r["fp_examples"], r["false_positives"])):
            if not examples:
                continue
            out.append("<details><summary>%s</summary>" % title)
            out.append("")
            for k, ex in sorted(examples.items()):
                out.append("- %s (%d): %s" % (k, counts.get(k, 0), "; ".join(ex)))
            out.append("")
            out.append("</details>")
            out.append("")
        if r["end_line_examples"] or r["derive_examples"]:
            out.append("<details><summary>end line / derive disagreements</summary>")
            out.append("")
            for ex in r["end_line_examples"]:
                out.append("- end line: %s" % ex)
            for ex in r["derive_examples"]:
                out.append("- derive: %s" % ex)
            out.append("")
            out.append("</details>")
            out.append("")
        if r["impl_examples"]:
            out.append("<details><summary>impl disagreements</summary>")
            out.append("")
            for k, ex in sorted(r["impl_examples"].items()):
                out.append("- %s: %s" % (k, "; ".join(ex)))
            out.append("")
            out.append("</details>")
            out.append("")
    return overall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rustdoc")
    ap.add_argument("--export")
    ap.add_argument("--src")
    ap.add_argument("--label")
    ap.add_argument("--cfg", help="cfg set of the rustdoc run (rustdoc_truth.sh's cfg/CRATE.txt)")
    ap.add_argument("--calls", help="MIR calls table of the crate (mir_truth.sh's calls/CRATE.tsv)")
    ap.add_argument("--cache")
    ap.add_argument("--markdown")
    ap.add_argument("--json")
    ap.add_argument("--examples", type=int, default=6)
    ap.add_argument("crates", nargs="*")
    a = ap.parse_args()
    cases = []
    if a.cache:
        for c in a.crates:
            cases.append((c, os.path.join(a.cache, "json", c + ".json"),
                          os.path.join(a.cache, "export", c + ".jsonl"),
                          os.path.join(a.cache, "src", c),
                          os.path.join(a.cache, "cfg", c + ".txt"),
                          os.path.join(a.cache, "calls", c + ".tsv")))
    elif a.rustdoc and a.export and a.src:
        cases.append((a.label or os.path.basename(os.path.normpath(a.src)), a.rustdoc, a.export, a.src,
                      a.cfg, a.calls))
    else:
        ap.error("give --rustdoc/--export/--src, or --cache with crate names")
    results = []
    for label, rj, ej, src, cfg, calls in cases:
        r = compare(label, rj, ej, src, cfg, a.examples)
        if calls and os.path.exists(calls):
            r["calls"] = calls_compare(calls, ej, r["crate"], a.examples, src, cfg)
        results.append(r)
    lines = []
    overall = report(results, lines)
    text = "\n".join(lines) + "\n"
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"overall": overall, "crates": results}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
