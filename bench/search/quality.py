#!/usr/bin/env python3
"""Retrieval quality of `ferrograph search`, in the style of CodeSearchNet.

For every crate: the documented items of the original crate are the queries
(the first sentence of an item's docs, with the item's own name taken out),
and the target is that item, searched for in a copy of the crate from which
every doc comment was removed. A query is answered at rank r when
results[r-1].path is the target's canonical path. Python 3 standard library
only.

Usage (normally through bench/search/run_quality.sh):
  quality.py [--bin FILE] [--crates a,b] [--max-queries N] [--scratch DIR]
             [--reuse] [--jobs N] [--write] [--results FILE] [--examples N]
  quality.py --strip-test FILE.rs     # print FILE.rs with its docs removed
  quality.py --queries-only CRATE_DIR # print the queries of one crate

Per crate, under SCRATCH/NAME-VERSION/:
  orig.db        `index CRATE --no-search` of the original crate
  src/           the copy without doc comments
  copy.db        `index src/` with the hash embedder, then with
                 hash,fasttext:fasttext.bin after `model train -o fasttext.bin`
  queries.jsonl  the queries and their targets
  results.jsonl  per query and mode: the rank and the top 3 paths
  errors.log     searches that failed (exit status, stderr); they count as misses
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

REGISTRY = "/usr/share/cargo/registry"
# Alternatives in order: the first one present is used.
DEFAULT_CRATES = [
    ["regex-syntax"], ["regex-automata"], ["serde"], ["syn"], ["clap_builder", "clap"],
    ["tokio"], ["rayon-core"], ["memchr"], ["aho-corasick"], ["itertools"],
]
QUERY_KINDS = {"function", "method", "struct", "enum", "trait", "type_alias", "const", "macro"}
MODES = [  # (label, --mode, embedder: None | "hash" | "fasttext")
    ("lexical", "lexical", None),
    ("vector/hash", "vector", "hash"),
    ("vector/fasttext", "vector", "fasttext"),
    ("hybrid/hash", "hybrid", "hash"),
    ("hybrid/fasttext", "hybrid", "fasttext"),
]
K = 10


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- doc stripping

IDENT_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _blank(s):
    """s with everything but newlines removed (keeps the line structure)."""
    return "\n" * s.count("\n")


def _skip_string(t, i):
    """t[i] == '"': index just past the closing quote (escapes honoured)."""
    n = len(t)
    i += 1
    while i < n:
        c = t[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    return n


def _skip_raw_string(t, i):
    """t[i] is 'r' of r#*"...": index past the end, or None if not a raw string."""
    j = i + 1
    hashes = 0
    while j < len(t) and t[j] == "#":
        hashes += 1
        j += 1
    if j >= len(t) or t[j] != '"':
        return None
    end = t.find('"' + "#" * hashes, j + 1)
    return len(t) if end < 0 else end + 1 + hashes


def _skip_char_or_lifetime(t, i):
    """t[i] == "'": index past a char literal, or i + 1 for a lifetime/label."""
    n = len(t)
    if i + 1 < n and t[i + 1] == "\\":
        # '\n', '\'', '\\', '\x7f', '\u{1F600}': the escaped char, then up to the quote
        j = i + 3
        while j < n and t[j] != "'" and t[j] != "\n":
            j += 1
        if j < n and t[j] == "'":
            return j + 1
        return i + 1
    if i + 2 < n and t[i + 2] == "'" and t[i + 1] != "\n":
        return i + 3
    return i + 1


def _skip_block_comment(t, i):
    """t[i:i+2] == '/*': index past the matching '*/' (comments nest)."""
    n = len(t)
    depth = 0
    while i < n:
        if t.startswith("/*", i):
            depth += 1
            i += 2
        elif t.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _skip_doc_attr(t, i):
    """t[i] == '#' of `#[doc = ...]` / `#![doc = ...]`: index past its ']', else None.

    `#[doc(hidden)]`, `#[doc(alias = ..)]` and the like are not docs and are kept."""
    m = re.compile(r"#\s*!?\s*\[\s*doc\s*=").match(t, i)
    if not m:
        return None
    if re.compile(r"\s*\$").match(t, m.end()):
        return None  # `#[doc = $doc]` in a macro: no doc text of its own
    j = m.end()
    n = len(t)
    depth = 1  # inside the '['
    while j < n:
        c = t[j]
        if c == '"':
            j = _skip_string(t, j)
            continue
        if c == "r" and (j == 0 or t[j - 1] not in IDENT_CHARS):
            e = _skip_raw_string(t, j)
            if e is not None:
                j = e
                continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return None


def strip_docs(text):
    """Rust source with every doc comment and #[doc = ...] attribute removed.

    Doc comments are `///x` (not `////`), `//!`, `/**x` (not `/***`, `/**/`)
    and `/*!`; string, raw string, char literals and ordinary comments are
    skipped over, so a "///" inside a string is left alone. Removed text is
    replaced by its newlines, so every line keeps its number. Returns
    (new_text, number_of_docs_removed)."""
    out = []
    removed = 0
    i = 0
    last = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            end = text.find("\n", i)
            end = n if end < 0 else end
            is_doc = (text.startswith("///", i) and not text.startswith("////", i)) or \
                text.startswith("//!", i)
            if is_doc:
                out.append(text[last:i])
                removed += 1
                last = end
            i = end
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            end = _skip_block_comment(text, i)
            is_doc = (text.startswith("/**", i) and not text.startswith("/***", i)
                      and not text.startswith("/**/", i)) or text.startswith("/*!", i)
            if is_doc:
                out.append(text[last:i])
                out.append(_blank(text[i:end]))
                removed += 1
                last = end
            i = end
        elif c == '"':
            i = _skip_string(text, i)
        elif c == "'":
            i = _skip_char_or_lifetime(text, i)
        elif c in "rbc" and (i == 0 or text[i - 1] not in IDENT_CHARS):
            # r"..", r#".."#, b"..", br"..", b'x', c".."
            j = i
            if c in "bc" and i + 1 < n and text[i + 1] == "r":
                j = i + 1
            if text[j] == "r":
                e = _skip_raw_string(text, j)
                if e is not None:
                    i = e
                    continue
            if c in "bc" and i + 1 < n and text[i + 1] == '"':
                i = _skip_string(text, i + 1)
                continue
            if c == "b" and i + 1 < n and text[i + 1] == "'":
                i = _skip_char_or_lifetime(text, i + 1)
                continue
            # an identifier: skip it whole
            while i < n and text[i] in IDENT_CHARS:
                i += 1
        elif c in IDENT_CHARS:
            while i < n and text[i] in IDENT_CHARS:
                i += 1
        elif c == "#":
            end = _skip_doc_attr(text, i)
            if end is not None:
                out.append(text[last:i])
                out.append(_blank(text[i:end]))
                removed += 1
                last = end
                i = end
            else:
                i += 1
        else:
            i += 1
    out.append(text[last:])
    result = "".join(out)
    # lines left with only whitespace by a removal become empty
    result = re.sub(r"(?m)^[ \t]+$", "", result)
    return result, removed


def copy_without_docs(src, dst):
    """Copies the crate directory src to dst, stripping the docs of every .rs file."""
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst, symlinks=False,
                    ignore=shutil.ignore_patterns("target", ".git", ".ferrograph"))
    files = docs = 0
    for dirpath, _, names in os.walk(dst):
        for name in names:
            if not name.endswith(".rs"):
                continue
            p = os.path.join(dirpath, name)
            with open(p, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
            new, k = strip_docs(text)
            files += 1
            docs += k
            if k:
                with open(p, "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(new)
    return files, docs


# ---------------------------------------------------------------- queries

def split_ident(name):
    """parse_unicode_class -> [parse, unicode, class]; ClassUnicode -> [class, unicode]."""
    name = name.removeprefix("r#")
    parts = []
    for chunk in re.split(r"[_\W]+", name):
        parts += re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+", chunk)
    return [p.lower() for p in parts if p]


def clean_markdown(s):
    s = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", s)   # [text](url)
    s = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", s)     # [text][ref]
    s = re.sub(r"\[([^\]]*)\]", r"\1", s)               # [`Name`]
    s = re.sub(r"<https?://[^>]*>", " ", s)
    s = s.replace("`", "")
    s = re.sub(r"(\*\*|__|\*)", "", s)
    return s


def first_sentence(docs):
    """The first sentence of the first prose paragraph of docs (None if none)."""
    paras = re.split(r"\n\s*\n", docs.strip())
    para = None
    for p in paras:
        p = p.strip()
        if not p or p.startswith("```") or p.startswith("#") or p.startswith("|"):
            continue
        para = p
        break
    if para is None:
        return None
    para = " ".join(line.strip() for line in para.splitlines())
    para = clean_markdown(para)
    m = re.search(r"\.(\s|$)", para)
    sentence = para[: m.start()] if m else para
    return re.sub(r"\s+", " ", sentence).strip()


def remove_name(sentence, name):
    """sentence without the identifier name and its sub-token phrase."""
    name = name.removeprefix("r#")
    b = r"(?<![A-Za-z0-9_])"
    e = r"(?![A-Za-z0-9_])"
    s = re.sub(b + re.escape(name) + e, " ", sentence, flags=re.IGNORECASE)
    toks = split_ident(name)
    if toks:
        phrase = r"[\s_-]+".join(re.escape(t) for t in toks)
        s = re.sub(b + phrase + e, " ", s, flags=re.IGNORECASE)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\s+([,;:)])", r"\1", s)
    # no leading '-' (ferrograph would read it as an option) or punctuation
    s = re.sub(r"^[^A-Za-z0-9]+", "", s)
    return s


def make_query(docs, name):
    if not docs:
        return None
    sent = first_sentence(docs)
    if not sent:
        return None
    q = remove_name(sent, name)
    if len(re.findall(r"[A-Za-z0-9]\w*", q)) < 3:
        return None
    return q


# ---------------------------------------------------------------- ferrograph

def run(cmd, log_file=None, timeout=3600):
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        msg = (f"command failed ({p.returncode}): {' '.join(cmd)}\n"
               f"{p.stderr.decode(errors='replace')[-2000:]}")
        raise RuntimeError(msg)
    return p.stdout, time.time() - t0


_NO_SEARCH = {}


def no_search_flag(fg):
    """["--no-search"] when this ferrograph's index has it (older builds do not)."""
    if fg not in _NO_SEARCH:
        p = subprocess.run([fg, "index", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        _NO_SEARCH[fg] = ["--no-search"] if b"--no-search" in p.stdout else []
    return _NO_SEARCH[fg]


def load_nodes(fg, db):
    """Current nodes of db from `ferrograph export`; docs from the export when
    it has them, else from the database's nodes table (read-only)."""
    out, _ = run([fg, "export", "--db", db])
    nodes = []
    for line in out.decode("utf-8", errors="replace").splitlines():
        if not line.startswith('{"type":"node"'):
            continue
        j = json.loads(line)
        if j.get("type") == "node":
            nodes.append(j)
    if nodes and not any("docs" in n for n in nodes):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        docs = {row[0].lower(): row[1] for row in con.execute(
            "SELECT hex(id), docs FROM nodes WHERE valid_to IS NULL AND docs != ''")}
        con.close()
        for n in nodes:
            n["docs"] = docs.get(n["id"].lower(), "")
        nodes_docs_source = "sqlite"
    else:
        nodes_docs_source = "export"
    return nodes, nodes_docs_source


def sample(qs, max_queries):
    """Every n-th query (qs sorted by path), at most max_queries (0: all)."""
    if max_queries and len(qs) > max_queries:
        step = len(qs) / max_queries
        return [qs[int(i * step)] for i in range(max_queries)]
    return qs


def extract_queries(nodes, max_queries):
    seen = set()
    qs = []
    for n in nodes:
        if n["kind"] not in QUERY_KINDS or not n.get("docs"):
            continue
        q = make_query(n["docs"], n["name"])
        if not q or (n["path"], q) in seen:
            continue
        seen.add((n["path"], q))
        qs.append({"path": n["path"], "kind": n["kind"], "name": n["name"],
                   "file": n["file"], "line": n["line"], "query": q})
    qs.sort(key=lambda x: (x["path"], x["query"]))
    total = len(qs)
    qs = sample(qs, max_queries)
    return qs, total


def search(fg, db, query, mode, embedder_spec):
    cmd = [fg, "search", query, "--db", db, "-k", str(K), "--json", "--mode", mode]
    if TESTS:
        cmd += ["--tests", TESTS]
    if embedder_spec:
        cmd += ["--embedder", embedder_spec]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    except subprocess.TimeoutExpired:
        return None, "timeout after 120 s"

    if p.returncode != 0:
        return None, f"exit {p.returncode}: {p.stderr.decode(errors='replace').strip()[:500]}"
    try:
        j = json.loads(p.stdout)
        return [r["path"] for r in j["results"]], None
    except (ValueError, KeyError, TypeError) as e:
        return None, f"bad JSON output ({e}): {p.stdout[:200]!r}"


# ---------------------------------------------------------------- per crate

def version_key(v):
    return [int(x) if x.isdigit() else -1 for x in re.split(r"[.+-]", v)]


def find_crate(registry, name):
    """Newest NAME-VERSION directory in registry (None if absent)."""
    pat = re.compile(re.escape(name) + r"-(\d[\w.+-]*)$")
    best = None
    try:
        entries = os.listdir(registry)
    except OSError:
        return None
    for e in entries:
        m = pat.match(e)
        if m and os.path.isdir(os.path.join(registry, e)):
            if best is None or version_key(m.group(1)) > version_key(best[1]):
                best = (e, m.group(1))
    return os.path.join(registry, best[0]) if best else None


def resolve_crates(registry, spec):
    """[(label, dir)] and [missing names]."""
    if spec:
        wanted = [[s.strip()] for s in spec.split(",") if s.strip()]
    else:
        wanted = DEFAULT_CRATES
    found, missing = [], []
    for alts in wanted:
        d = None
        for a in alts:
            if os.path.isdir(a):
                d = os.path.abspath(a)
            elif os.path.isdir(os.path.join(registry, a)) and re.search(r"-\d", a):
                d = os.path.join(registry, a)
            else:
                d = find_crate(registry, a)
            if d:
                break
        if d:
            found.append((os.path.basename(d.rstrip("/")), d))
        else:
            missing.append("/".join(alts))
    return found, missing


def prepare(fg, label, crate_dir, work, reuse, max_queries):
    """Indexes the original and the doc-less copy, trains fastText; the queries."""
    stamp = os.path.join(work, "prepared.json")
    if reuse and os.path.exists(stamp):
        with open(stamp) as f:
            info = json.load(f)
        if info.get("crate_dir") == crate_dir:
            with open(os.path.join(work, "queries.jsonl")) as f:
                queries = sample([json.loads(l) for l in f], max_queries)
            log(f"[{label}] reusing {work}")
            return queries, info
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    info = {"crate_dir": crate_dir, "timings": {}}
    t = info["timings"]
    orig_db = os.path.join(work, "orig.db")
    copy_dir = os.path.join(work, "src")
    copy_db = os.path.join(work, "copy.db")
    model = os.path.join(work, "fasttext.bin")

    log(f"[{label}] index original")
    _, t["index_orig"] = run([fg, "index", crate_dir, "--db", orig_db, "--quiet"] +
                             no_search_flag(fg))
    nodes, info["docs_source"] = load_nodes(fg, orig_db)
    queries, total = extract_queries(nodes, 0)  # all of them; sampled below
    if not queries:
        raise RuntimeError(f"no documented items to make queries of "
                           f"({len(nodes)} nodes in the original)")
    info["documented_items"] = sum(1 for n in nodes if n["kind"] in QUERY_KINDS and n.get("docs"))
    info["queries_possible"] = total

    log(f"[{label}] copy without docs")
    info["rs_files"], info["docs_removed"] = copy_without_docs(crate_dir, copy_dir)
    log(f"[{label}]   {info['rs_files']} .rs files, {info['docs_removed']} doc comments removed")

    log(f"[{label}] index copy (hash)")
    _, t["index_copy_hash"] = run([fg, "index", copy_dir, "--db", copy_db, "--quiet"])
    log(f"[{label}] model train")
    _, t["model_train"] = run([fg, "model", "train", "--db", copy_db, "-o", model])
    log(f"[{label}] index copy (hash,fasttext)")
    _, t["index_copy_fasttext"] = run([fg, "index", copy_dir, "--db", copy_db, "--quiet",
                                       "--embedder", f"hash,fasttext:{model}"])
    # Every embedder must have its vectors.
    for spec in ("hash", f"fasttext:{model}"):
        _, err = search(fg, copy_db, "probe query words", "vector", spec)
        if err is not None:
            raise RuntimeError(f"no {spec} vectors after indexing with both: {err}")

    # targets must exist in the copy; docs left behind would be a stripping bug
    copy_nodes, _ = load_nodes(fg, copy_db)
    copy_paths = {n["path"] for n in copy_nodes}
    info["docs_left_in_copy"] = sum(1 for n in copy_nodes
                                    if n["kind"] in QUERY_KINDS and n.get("docs"))
    missing = [q for q in queries if q["path"] not in copy_paths]
    info["targets_missing_in_copy"] = len(missing)
    for q in missing:
        log(f"[{label}]   target not in the copy, dropped: {q['path']}")
    queries = [q for q in queries if q["path"] in copy_paths]
    info["queries_possible"] = len(queries)
    with open(os.path.join(work, "queries.jsonl"), "w") as f:
        for q in queries:
            f.write(json.dumps(q) + "\n")
    with open(stamp, "w") as f:
        json.dump(info, f, indent=1)
    return sample(queries, max_queries), info


BATCH = None  # --batch: build/bench/search_batch
TESTS = None  # --tests: how search ranks test code (None: the binary's default)


def batch_binary(fg):
    """build/bench/search_batch (--batch, else beside the binary): every query
    of a mode in one process (the model and the vector index load once)."""
    if BATCH:
        return BATCH
    b = os.path.join(os.path.dirname(fg), "bench", "search_batch")
    return b if os.access(b, os.X_OK) else None


def search_batch(batch, db, queries, mode, embedder_spec):
    cmd = [batch, "--db", db, "-k", str(K), "--mode", mode]
    if TESTS:
        cmd += ["--tests", TESTS]
    if embedder_spec:
        cmd += ["--embedder", embedder_spec]
    text = "".join(" ".join(q.split()) + "\n" for q in queries)
    p = subprocess.run(cmd, input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=3600)
    out = []
    for line in p.stdout.decode(errors="replace").splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        out.append((j.get("paths"), j.get("error"), j.get("ms", 0) / 1e3))
    while len(out) < len(queries):
        out.append((None, f"search_batch exit {p.returncode}: "
                    f"{p.stderr.decode(errors='replace').strip()[:300]}", 0.0))
    return out


def evaluate(fg, label, work, queries, jobs):
    copy_db = os.path.join(work, "copy.db")
    model = os.path.join(work, "fasttext.bin")
    specs = {None: None, "hash": "hash", "fasttext": f"fasttext:{model}"}
    tasks = [(qi, mi) for qi in range(len(queries)) for mi in range(len(MODES))]
    ranks = [[0] * len(MODES) for _ in queries]
    secs = [0.0] * len(MODES)
    tops = [[None] * len(MODES) for _ in queries]
    errors = []
    lock = threading.Lock()
    done = [0]
    t0 = time.time()

    def record(qi, mi, paths, err, ts):
        q = queries[qi]
        rank = 0
        if paths is not None:
            for r, p in enumerate(paths[:K], 1):
                if p == q["path"]:
                    rank = r
                    break
        with lock:
            ranks[qi][mi] = rank
            secs[mi] += ts
            tops[qi][mi] = paths[:3] if paths is not None else None
            if err:
                errors.append((q, MODES[mi][0], err))
            done[0] += 1

    batch = batch_binary(fg)
    if batch:
        def one_mode(mi):
            _, mode, emb = MODES[mi]
            res = search_batch(batch, copy_db, [q["query"] for q in queries], mode, specs[emb])
            for qi, (paths, err, ts) in enumerate(res):
                record(qi, mi, paths, err, ts)
            log(f"[{label}] {MODES[mi][0]}: {len(queries)} searches")

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            list(ex.map(one_mode, range(len(MODES))))
    else:
        def one(task):
            qi, mi = task
            _, mode, emb = MODES[mi]
            ts = time.time()
            paths, err = search(fg, copy_db, queries[qi]["query"], mode, specs[emb])
            record(qi, mi, paths, err, time.time() - ts)
            if done[0] % 200 == 0 or done[0] == len(tasks):
                el = time.time() - t0
                log(f"[{label}] searches {done[0]}/{len(tasks)} ({el:.0f} s)")

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            list(ex.map(one, tasks))
    with open(os.path.join(work, "results.jsonl"), "w") as f:
        for q, rk, tp in zip(queries, ranks, tops):
            f.write(json.dumps({**q, "ranks": dict(zip([m[0] for m in MODES], rk)),
                                "top3": dict(zip([m[0] for m in MODES], tp))}) + "\n")
    with open(os.path.join(work, "errors.log"), "w") as f:
        for q, m, e in errors:
            f.write(f"{m}\t{q['path']}\t{q['query']}\t{e}\n")
    if errors:
        log(f"[{label}] {len(errors)} searches failed (counted as misses): "
            f"{os.path.join(work, 'errors.log')}; first: {errors[0][1]}: {errors[0][2]}")
    return ranks, tops, secs, time.time() - t0


# ---------------------------------------------------------------- report

def metrics(ranks_of_mode):
    n = len(ranks_of_mode)
    if n == 0:
        return None
    r1 = sum(1 for r in ranks_of_mode if r == 1) / n
    r10 = sum(1 for r in ranks_of_mode if 1 <= r <= K) / n
    mrr = sum(1.0 / r for r in ranks_of_mode if 1 <= r <= K) / n
    return r1, r10, mrr


def table(results):
    """Markdown tables: overall (micro and macro) and per crate."""
    lines = []
    all_ranks = [[] for _ in MODES]
    per_crate_m = []
    for res in results:
        for mi in range(len(MODES)):
            all_ranks[mi] += [rk[mi] for rk in res["ranks"]]
        per_crate_m.append([metrics([rk[mi] for rk in res["ranks"]]) for mi in range(len(MODES))])
    nq = len(all_ranks[0])
    fails = [0] * len(MODES)
    for res in results:
        for mi, c in enumerate(res["failures_by_mode"]):
            fails[mi] += c
    tsum = [sum(r["mode_seconds"][mi] for r in results) for mi in range(len(MODES))]
    lines.append(f"Overall: {nq} queries over {len(results)} crate{'s' if len(results) != 1 else ''} "
                 f"(micro: every query weighs the same; macro: the mean of the crates; "
                 f"s/search: wall time of one `ferrograph search` process, two running at once).")
    lines.append("")
    lines.append("| mode | recall@1 | recall@10 | MRR@10 | MRR@10 macro | failed searches | s/search |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for mi, (name, _, _) in enumerate(MODES):
        m = metrics(all_ranks[mi])
        if m is None:
            continue
        valid = [pc[mi] for pc in per_crate_m if pc[mi] is not None]
        macro = sum(v[2] for v in valid) / len(valid) if valid else 0
        lines.append(f"| {name} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} | {macro:.3f} | {fails[mi]} "
                     f"| {tsum[mi] / max(1, nq):.2f} |")
    lines.append("")
    lines.append("Per crate: recall@1 / recall@10 / MRR@10 (best MRR@10 of the row in bold).")
    lines.append("")
    lines.append("| crate | queries | " + " | ".join(m[0] for m in MODES) + " |")
    lines.append("|---|---:|" + "---:|" * len(MODES))
    for res, pcm in zip(results, per_crate_m):
        best = max((m[2] for m in pcm if m), default=None)
        cells = []
        for m in pcm:
            if m is None:
                cells.append("–")
                continue
            mrr = f"{m[2]:.3f}"
            if best is not None and abs(m[2] - best) < 1e-12:
                mrr = f"**{mrr}**"
            cells.append(f"{m[0]:.2f} / {m[1]:.2f} / {mrr}")
        lines.append(f"| {res['label']} | {len(res['ranks'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_results(path, body, command):
    begin, end = "<!-- search-quality:begin -->", "<!-- search-quality:end -->"
    block = f"{begin}\n{body}\n{end}"
    text = open(path).read() if os.path.exists(path) else ""
    if begin in text and end in text:
        a = text.index(begin)
        b = text.index(end, a) + len(end)
        text = text[:a] + block + text[b:]
    else:
        if text and not text.endswith("\n"):
            text += "\n"
        text += f"\n## Retrieval quality\n\n{block}\n"
    with open(path, "w") as f:
        f.write(text)


def fg_version(fg):
    try:
        return subprocess.run([fg, "--version"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              timeout=10).stdout.decode().strip().splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return f"unknown ({e})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.environ.get("FG", "build/ferrograph"))
    ap.add_argument("--registry", default=REGISTRY)
    ap.add_argument("--crates", default="",
                    help="comma-separated names (newest version), NAME-VERSION or directories")
    ap.add_argument("--max-queries", type=int, default=400, help="per crate; 0 = all")
    ap.add_argument("--batch", default=None,
                    help="build/bench/search_batch: run each mode's queries in one process")
    ap.add_argument("--scratch", default=os.environ.get("FG_QUALITY_SCRATCH", "/tmp/fg-quality"))
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the indexed copies and queries of an earlier run")
    ap.add_argument("--jobs", type=int, default=2, help="concurrent searches")
    ap.add_argument("--write", action="store_true", help="update the RESULTS file")
    ap.add_argument("--results", default=None, help="default: bench/RESULTS.md of this repo")
    ap.add_argument("--examples", type=int, default=0,
                    help="print N example queries (per crate) to stderr")
    ap.add_argument("--command", default=None, help="the command line recorded with --write")
    ap.add_argument("--tests", choices=["demote", "include", "exclude"], default=None,
                    help="how search ranks test code (default: ferrograph's, demote)")
    ap.add_argument("--strip-test", metavar="FILE")
    ap.add_argument("--queries-only", metavar="CRATE_DIR")
    a = ap.parse_args()
    global BATCH, TESTS
    BATCH = a.batch
    TESTS = a.tests

    if a.strip_test:
        text, k = strip_docs(open(a.strip_test, encoding="utf-8").read())
        sys.stdout.write(text)
        log(f"{k} docs removed")
        return 0
    fg = os.path.abspath(a.bin)
    if a.queries_only:
        os.makedirs(a.scratch, exist_ok=True)
        db = os.path.join(a.scratch, "queries-only.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        run([fg, "index", a.queries_only, "--db", db, "--quiet"] + no_search_flag(fg))
        nodes, src = load_nodes(fg, db)
        qs, total = extract_queries(nodes, a.max_queries)
        for q in qs:
            print(json.dumps(q))
        log(f"{len(qs)} queries of {total} (docs from {src})")
        return 0

    crates, missing = resolve_crates(a.registry, a.crates)
    for m in missing:
        log(f"skipping {m}: not in {a.registry}")
    if not crates:
        log("no crates to run")
        return 1
    log("crates: " + ", ".join(c[0] for c in crates))
    os.makedirs(a.scratch, exist_ok=True)
    t_start = time.time()
    results, failed = [], []
    for label, crate_dir in crates:
        work = os.path.join(a.scratch, label)
        try:
            queries, info = prepare(fg, label, crate_dir, work, a.reuse, a.max_queries)
            if not queries:
                raise RuntimeError("no queries")
            log(f"[{label}] {len(queries)} queries (of {info['queries_possible']} possible); "
                f"searching in {len(MODES)} modes")
            ranks, tops, mode_secs, secs = evaluate(fg, label, work, queries, a.jobs)
            fails_by_mode = [0] * len(MODES)
            with open(os.path.join(work, "errors.log")) as f:
                names = [m[0] for m in MODES]
                for line in f:
                    fails_by_mode[names.index(line.split("\t", 1)[0])] += 1
            results.append({"label": label, "ranks": ranks, "tops": tops, "queries": queries,
                            "info": info, "failures_by_mode": fails_by_mode, "seconds": secs,
                            "mode_seconds": mode_secs})
            log(f"[{label}] done in {secs:.0f} s of searching")
        except Exception as e:  # noqa: BLE001 -- one crate failing must not stop the rest
            log(f"[{label}] FAILED: {e}")
            failed.append((label, str(e).splitlines()[0] if str(e) else repr(e)))

    if not results:
        log("every crate failed")
        return 1
    elapsed = time.time() - t_start
    body = table(results)
    notes = []
    if failed:
        notes.append("Crates that failed: " + "; ".join(f"{l} ({e})" for l, e in failed) + ".")
    if missing:
        notes.append("Not in the registry, skipped: " + ", ".join(missing) + ".")
    print(body)
    for n in notes:
        print("\n" + n)

    if a.examples:
        for res in results:
            qs = res["queries"]
            step = max(1, len(qs) // a.examples)
            for q, rk, tp in list(zip(qs, res["ranks"], res["tops"]))[::step][: a.examples]:
                log(f"\n[{res['label']}] query: {q['query']!r}\n  target: {q['path']} ({q['kind']})")
                for (name, _, _), r, t in zip(MODES, rk, tp):
                    top = t[0] if t else None
                    log(f"  {name:16} rank {r or '-':>2}  top: {top}")

    if a.write:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = a.results or os.path.join(root, "bench", "RESULTS.md")
        try:
            commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
                                    ).stdout.decode().strip()
        except OSError:
            commit = "?"
        command = a.command or "bash bench/search/run_quality.sh " + " ".join(sys.argv[1:])
        crate_list = ", ".join(
            f"{r['label']} ({len(r['ranks'])} of {r['info']['queries_possible']} queries, "
            f"{r['info']['docs_removed']} docs removed)" for r in results)
        head = [
            f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
            f"{elapsed / 60:.1f} min",
            f"- Command: `{command}`",
            f"- Code: {fg_version(fg)}, tree at {commit} (the working tree may have had "
            f"uncommitted changes)",
            f"- Crates: {crate_list}",
            "- Queries: documented items (function, method, struct, enum, trait, type_alias, "
            "const, macro) of the original crate; the query is the first sentence of the docs "
            "(markdown links and backticks removed) without the item's own name (the identifier "
            "and its split words); at least 3 words; at most "
            f"{a.max_queries or 'all'} per crate (every n-th by path).",
            "- Search: `ferrograph search QUERY -k 10 --json --mode M [--embedder E]` on a copy "
            "of the crate with every doc comment and `#[doc = ...]` removed, indexed with "
            "`--embedder hash,fasttext:F` after `model train` on that copy. Hit: the target's "
            "canonical path at rank r; recall@1, recall@10, MRR@10 (1/r, 0 past 10).",
        ]
        if failed or missing:
            head += ["- " + n for n in notes]
        work = sorted({w.split(":")[0] for r in results for w in r["info"].get("workarounds", [])})
        if work:
            head.append("- Workaround: `index --embedder hash,fasttext:F` did not make every "
                        "embedder's vectors, so the copy was also indexed with `--embedder E` "
                        "for each missing one (" + "; ".join(work) + ").")
        write_results(path, "\n".join(head) + "\n\n" + body, command)
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
