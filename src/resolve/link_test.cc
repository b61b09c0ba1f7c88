#include "resolve/link.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hash/blake3_hasher.h"
#include "parse/rust_parser.h"

namespace ferrograph {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Not;

constexpr char kCrate[] = "demo";

// The node of an extracted item in module `module_path`, as the indexer
// makes it (the path is the module's joined with the item's rel_path).
Node NodeOfItem(const ExtractedItem& it, const std::string& crate, const std::string& module_path,
                uint32_t disambiguator) {
  Node n;
  n.kind = it.kind;
  n.name = it.name;
  n.path = module_path + "::" + it.rel_path;
  n.crate_name = crate;
  n.span = it.span;
  n.visibility = it.visibility;
  n.signature = it.signature;
  n.attrs = it.attrs;
  n.derives = it.derives;
  n.cfgs = it.cfgs;
  n.id = MakeNodeId(crate, n.path, n.kind, disambiguator);
  return n;
}

// A crate made of source files, linked the way the indexer does it: node
// paths are the module's path joined with the item's rel_path.
class CrateFixture {
 public:
  explicit CrateFixture(std::string name = kCrate) : name_(std::move(name)) {}

  // A workspace crate this one depends on, linked already; `key` is the
  // name the code uses for it.
  void AddDependency(const std::string& key, const CrateFixture& dep) {
    CrateDependency d;
    d.name = key;
    d.crate = ResolverOf(*dep.result().linked);
    input_.dependencies.push_back(std::move(d));
    input_.linked_dependencies.push_back(dep.result().linked);
    for (const auto& [id, name] : dep.names_) names_.emplace(id, name);
  }

  // Files in module-tree order: the crate root first.
  void AddFile(std::string module_path, std::string source) {
    auto& f = files_.emplace_back();
    f.module_path = std::move(module_path);
    f.source = std::move(source);
  }

  void SetCfg(CfgSet cfg) { cfg_ = std::move(cfg); }

  // "path@line" of the node an edge reaches, for same-path definitions.
  std::string DstWithLine(std::string_view kind, std::string_view src,
                          std::string_view dst = "") const {
    for (const Edge& e : raw_)
      if (KindName(e.kind) == kind && Name(e.src) == src && (dst.empty() || Name(e.dst) == dst)) {
        for (const File& f : files_)
          for (const Node& n : f.nodes)
            if (n.id == e.dst) return n.path + "@" + std::to_string(n.span.start_line);
      }
    return "";
  }

  void Link() {
    RustParser parser;
    if (cfg_) input_.cfg = &*cfg_;
    input_.crate_key = name_.c_str();
    input_.crate_name = name_.c_str();
    input_.crate_id = MakeNodeId(name_.c_str(), name_.c_str(), NodeKind::kCrate, 0);
    names_[input_.crate_id] = name_.c_str();
    for (File& f : files_) {
      f.extraction = ParseAndExtract(f.source, parser);
      for (size_t i = 0; i < f.extraction.items.size(); ++i) {
        Node n = NodeOfItem(f.extraction.items[i], name_, f.module_path, static_cast<uint32_t>(i));
        names_[n.id] = n.path;
        f.nodes.push_back(std::move(n));
      }
    }
    std::vector<LinkFile> link(files_.size());
    for (size_t i = 0; i < files_.size(); ++i) {
      File& f = files_[i];
      link[i].path = "f" + std::to_string(i) + ".rs";
      link[i].module_path = f.module_path;
      link[i].is_crate_root = i == 0;
      link[i].module_id =
          i == 0 ? input_.crate_id : MakeNodeId(name_.c_str(), f.module_path, NodeKind::kModule, 0);
      names_[link[i].module_id] = f.module_path;
      // The `mod x;` item of the parent names the same module.
      link[i].extraction = &f.extraction;
      link[i].nodes = f.nodes;
    }
    result_ = LinkCrate(input_, link);
    for (const Node& n : result_.externals) names_[n.id] = n.path;
    for (const LinkFile& lf : link) {
      raw_.insert(raw_.end(), lf.edges.begin(), lf.edges.end());
      for (const Edge& e : lf.edges) {
        std::string text = std::string(KindName(e.kind)) + " " + Name(e.src) + " -> " + Name(e.dst);
        if (!e.props.empty()) text += " " + e.props;
        edges_.push_back(text);
        lines_[text] = e.line;
      }
    }
  }

  std::string Name(const NodeId& id) const {
    auto it = names_.find(id);
    return it == names_.end() ? "?" : it->second;
  }
  const std::vector<std::string>& edges() const { return edges_; }
  uint32_t line(const std::string& edge) const { return lines_.at(edge); }
  const LinkResult& result() const { return result_; }
  const std::vector<Edge>& raw() const { return raw_; }

  std::vector<std::string> EdgesOf(std::string_view kind) const {
    std::vector<std::string> out;
    for (const std::string& e : edges_)
      if (e.rfind(std::string(kind) + " ", 0) == 0) out.push_back(e);
    return out;
  }

 private:
  struct File {
    std::string module_path;
    std::string source;
    FileExtraction extraction;
    std::vector<Node> nodes;
  };
  std::string name_;
  std::vector<File> files_;
  std::optional<CfgSet> cfg_;
  std::vector<Edge> raw_;
  LinkInput input_;
  LinkResult result_;
  std::map<NodeId, std::string> names_;
  std::vector<std::string> edges_;
  std::map<std::string, uint32_t> lines_;
};

TEST(LinkTest, PathCallsResolveThroughItemsImportsAndSelf) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
mod util;
use util::helper as help;
pub struct Parser { depth: u32 }
impl Parser {
    pub fn new() -> Self { Self::with_depth(0) }
    fn with_depth(depth: u32) -> Parser { Parser { depth } }
    pub fn run(&self) -> u32 { help(); crate::util::helper(); local(); self.depth }
}
fn local() {}
fn make() -> Parser { Parser::new() }
)");
  c.AddFile("demo::util", R"(
pub fn helper() {}
)");
  c.Link();
  EXPECT_THAT(c.EdgesOf("CALLS"),
              IsSupersetOf({
                  R"(CALLS demo::Parser::new -> demo::Parser::with_depth {"resolved":"exact"})",
                  R"(CALLS demo::Parser::run -> demo::util::helper {"resolved":"import"})",
                  R"(CALLS demo::Parser::run -> demo::util::helper {"resolved":"exact"})",
                  R"(CALLS demo::Parser::run -> demo::local {"resolved":"exact"})",
                  R"(CALLS demo::make -> demo::Parser::new {"resolved":"exact"})",
              }));
  // A struct literal is no call.
  EXPECT_THAT(c.EdgesOf("CALLS"), Not(Contains(testing::HasSubstr("-> demo::Parser {"))));
  EXPECT_EQ(c.line(R"(CALLS demo::make -> demo::Parser::new {"resolved":"exact"})"), 11u);
}

// Each (kind, ends, line, properties) once, in the order first made: two
// calls on one line are one edge; on two lines, two. Enough distinct edges
// in one file to grow the sink's table several times.
TEST(LinkTest, EdgesAreKeptOncePerSiteInTheOrderMade) {
  std::string src =
      "pub fn g() {}\npub fn h() {}\npub fn f() { g(); g(); h(); g(); }\npub fn k() {\n";
  for (int i = 0; i < 300; ++i) src += "    g();\n";
  src += "}\n";
  CrateFixture c;
  c.AddFile(kCrate, src);
  c.Link();
  std::vector<std::string> calls = c.EdgesOf("CALLS");
  const std::string fg = R"(CALLS demo::f -> demo::g {"resolved":"exact"})";
  const std::string fh = R"(CALLS demo::f -> demo::h {"resolved":"exact"})";
  const std::string kg = R"(CALLS demo::k -> demo::g {"resolved":"exact"})";
  ASSERT_EQ(std::count(calls.begin(), calls.end(), fg), 1);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), fh), 1);
  EXPECT_EQ(std::find(calls.begin(), calls.end(), fg) < std::find(calls.begin(), calls.end(), fh),
            true);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), kg), 300);
  std::set<uint32_t> lines;
  for (const Edge& e : c.raw())
    if (e.kind == EdgeKind::kCalls && c.Name(e.src) == "demo::k") lines.insert(e.line);
  EXPECT_EQ(lines.size(), 300u);
}

TEST(LinkTest, MethodCallsUseTheReceiversType) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
pub struct Lexer;
pub struct Parser { lexer: Lexer }
impl Lexer {
    pub fn new() -> Lexer { Lexer }
    pub fn next_token(&mut self) -> u32 { 0 }
}
impl Parser {
    pub fn step(&mut self) -> u32 { self.advance() }
    fn advance(&mut self) -> u32 { 1 }
}
pub fn from_param(p: &mut Parser) -> u32 { p.step() }
pub fn from_let() -> u32 {
    let mut lx = Lexer::new();
    lx.next_token()
}
pub fn typed_let() -> u32 {
    let mut lx: Lexer = Lexer;
    lx.next_token()
}
pub fn unknown(x: Vec<Parser>) -> u32 { x[0].clone().step() }
)");
  c.Link();
  EXPECT_THAT(
      c.EdgesOf("CALLS"),
      IsSupersetOf({
          R"(CALLS demo::Parser::step -> demo::Parser::advance {"resolved":"method"})",
          R"(CALLS demo::from_param -> demo::Parser::step {"resolved":"method"})",
          R"(CALLS demo::from_let -> demo::Lexer::next_token {"resolved":"method"})",
          R"(CALLS demo::from_let -> demo::Lexer::new {"resolved":"exact"})",
          R"(CALLS demo::typed_let -> demo::Lexer::next_token {"resolved":"method"})",
          // receiver of unknown type: every method of that name
          R"(CALLS demo::unknown -> demo::Parser::step {"resolved":"name_only","candidates":1})",
      }));
}

TEST(LinkTest, ReceiversTypedThroughFieldsReturnTypesAndUnwraps) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
use std::rc::Rc;
pub struct Token;
impl Token { pub fn kind(&self) -> u32 { 0 } }
pub struct Lexer { buf: Vec<u8> }
impl Lexer {
    pub fn peek(&self) -> Option<Token> { None }
    pub fn current(&self) -> &Token { unimplemented!() }
    pub fn fork(&self) -> Self { Lexer { buf: vec![] } }
}
pub struct Parser { lexer: Box<Lexer>, shared: Rc<Lexer>, pair: (u32, u32) }
impl Parser {
    pub fn new() -> Parser { unimplemented!() }
    pub fn lexer(&self) -> &Lexer { &self.lexer }
    pub fn a(&self) -> u32 { self.lexer.current().kind() }
    pub fn b(&self) -> Option<u32> { Some(self.lexer.peek()?.kind()) }
    pub fn c(&self) -> u32 { self.shared.fork().peek().unwrap().kind() }
    pub fn d(&self) -> u32 { self.lexer().current().kind() }
}
pub fn e() -> u32 { Parser::new().lexer().current().kind() }
pub fn f(p: &Parser) -> u32 { (&p.lexer).current().kind() }
)");
  c.Link();
  const std::string to_kind = R"( -> demo::Token::kind {"resolved":"method"})";
  EXPECT_THAT(c.EdgesOf("CALLS"),
              IsSupersetOf(std::vector<std::string>{
                  "CALLS demo::Parser::a" + to_kind,
                  "CALLS demo::Parser::b" + to_kind,
                  "CALLS demo::Parser::c" + to_kind,
                  "CALLS demo::Parser::d" + to_kind,
                  "CALLS demo::e" + to_kind,
                  "CALLS demo::f" + to_kind,
                  R"(CALLS demo::Parser::c -> demo::Lexer::fork {"resolved":"method"})",
                  R"(CALLS demo::e -> demo::Parser::lexer {"resolved":"method"})",
              }));
}

TEST(LinkTest, AliasesStandForTheirTypeAndGenericFieldsTakeTheImplsBounds) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
pub struct ParseBuffer;
impl ParseBuffer { pub fn peek(&self) -> bool { true } }
pub type ParseStream<'a> = &'a ParseBuffer;
pub struct Index(u32);
impl Index { pub fn new(x: u32) -> Index { Index(x) } }
pub type NodeIndex = Index;
pub fn parse(input: ParseStream) -> bool { input.peek() }
pub fn node() -> Index { NodeIndex::new(1) }
pub trait Input { fn len(&self) -> usize; }
pub struct Bounded<I> { input: I }
impl<I: Input> Bounded<I> { pub fn size(&self) -> usize { self.input.len() } }
)");
  c.Link();
  EXPECT_THAT(c.EdgesOf("CALLS"),
              IsSupersetOf({
                  R"(CALLS demo::parse -> demo::ParseBuffer::peek {"resolved":"method"})",
                  R"(CALLS demo::node -> demo::Index::new {"resolved":"exact"})",
                  R"(CALLS demo::Bounded::size -> demo::Input::len {"resolved":"method"})",
              }));
  // The alias itself is what signatures use.
  EXPECT_THAT(c.EdgesOf("USES_TYPE"),
              Contains(R"(USES_TYPE demo::parse -> demo::ParseStream {"role":"param"})"));
}

// A name defined under opposite cfgs resolves to the definition the modelled
// build compiles; without a build (no CfgSet) the first one wins.
TEST(LinkTest, DefinitionsUnderAFalseCfgLoseToTheirAlternatives) {
  const char* src = R"(
#[cfg(miri)]
mod imp { pub fn go() {} }
#[cfg(not(miri))]
mod imp { pub fn go() {} }
#[cfg(feature = "fast")]
fn pick() {}
#[cfg(not(feature = "fast"))]
fn pick() {}
pub fn run() { imp::go(); pick(); }
)";
  CrateFixture plain;
  plain.AddFile(kCrate, src);
  plain.Link();
  EXPECT_EQ(plain.DstWithLine("CALLS", "demo::run", "demo::imp::go"), "demo::imp::go@3");

  CrateFixture host;
  host.AddFile(kCrate, src);
  host.SetCfg(CfgSet::HostDefault());
  host.Link();
  EXPECT_EQ(host.DstWithLine("CALLS", "demo::run", "demo::imp::go"), "demo::imp::go@5");
  EXPECT_EQ(host.DstWithLine("CALLS", "demo::run", "demo::pick"), "demo::pick@8");

  CfgSet fast = CfgSet::HostDefault();
  fast.AddFeature("fast");
  CrateFixture with_feature;
  with_feature.AddFile(kCrate, src);
  with_feature.SetCfg(fast);
  with_feature.Link();
  EXPECT_EQ(with_feature.DstWithLine("CALLS", "demo::run", "demo::pick"), "demo::pick@6");
}

// A custom cfg the build does not set (a build script's `has_std`) leaves
// the definitions undecided: the first one stays, as without a build; once
// the build sets it, the cfg decides.
// Globs under opposite cfgs: only the one the build compiles imports.
TEST(LinkTest, UsesUnderAFalseCfgImportNothing) {
  const char* src = R"(
mod lib {
    #[cfg(not(feature = "std"))]
    pub use core::*;
    #[cfg(feature = "std")]
    pub use std::*;
}
use lib::fmt::Debug;
pub struct X;
impl Debug for X { fn fmt(&self, f: &mut lib::fmt::Formatter) -> lib::fmt::Result { Ok(()) } }
)";
  CrateFixture plain;
  plain.AddFile(kCrate, src);
  plain.Link();
  // Two external globs: which one is meant is undecidable without a build.
  EXPECT_THAT(plain.EdgesOf("IMPLEMENTS"), Not(Contains(testing::HasSubstr("::fmt::Debug"))));

  CfgSet std_build = CfgSet::HostDefault();
  std_build.AddFeature("std");
  CrateFixture built;
  built.AddFile(kCrate, src);
  built.SetCfg(std_build);
  built.Link();
  EXPECT_THAT(built.EdgesOf("IMPLEMENTS"),
              Contains("IMPLEMENTS demo::impl Debug for X -> std::fmt::Debug"));
}

TEST(LinkTest, CustomCfgsNobodySetsAreUndecided) {
  const char* src = R"(
#[cfg(not(has_std))]
pub struct Map { b: u8 }
#[cfg(has_std)]
pub struct Map { a: u8 }
pub fn make(m: Map) {}
)";
  CrateFixture host;
  host.AddFile(kCrate, src);
  host.SetCfg(CfgSet::HostDefault());
  host.Link();
  EXPECT_EQ(host.DstWithLine("USES_TYPE", "demo::make", "demo::Map"), "demo::Map@2");

  CrateFixture probed;
  probed.AddFile(kCrate, src);
  CfgSet with = CfgSet::HostDefault();
  with.Set("has_std");
  probed.SetCfg(with);
  probed.Link();
  EXPECT_EQ(probed.DstWithLine("USES_TYPE", "demo::make", "demo::Map"), "demo::Map@4");
}

// Items of a workspace crate resolve into that crate's nodes: paths through
// the dependency's name, its re-exports, methods on its types (found in its
// impls) and its traits.
TEST(LinkTest, WorkspaceDependenciesResolveIntoTheirItems) {
  CrateFixture base("base");
  base.AddFile("base", R"(
mod engine;
pub use engine::Engine;
pub trait Plugin { fn name(&self) -> &str; fn describe(&self) -> u32 { 0 } }
)");
  base.AddFile("base::engine", R"(
pub struct Engine;
impl Engine {
    pub fn new() -> Engine { Engine }
    pub fn run(&self) {}
}
)");
  base.Link();
  CrateFixture app("app");
  app.AddFile("app", R"(
use base::{Engine, Plugin};
pub struct Mine;
impl Plugin for Mine { fn name(&self) -> &str { "mine" } }
pub fn start(p: &Mine) {
    let e = Engine::new();
    e.run();
    p.describe();
    base::Engine::new().run();
}
)");
  app.AddDependency("base", base);
  app.Link();
  EXPECT_THAT(app.EdgesOf("CALLS"),
              IsSupersetOf({
                  R"(CALLS app::start -> base::engine::Engine::new {"resolved":"import"})",
                  R"(CALLS app::start -> base::engine::Engine::run {"resolved":"method"})",
                  R"(CALLS app::start -> base::Plugin::describe {"resolved":"method"})",
                  R"(CALLS app::start -> base::engine::Engine::new {"resolved":"exact"})",
              }));
  EXPECT_THAT(app.EdgesOf("IMPLEMENTS"),
              Contains("IMPLEMENTS app::impl Plugin for Mine -> base::Plugin"));
  // Nothing of base became an external node.
  for (const Node& n : app.result().externals) EXPECT_NE(n.crate_name, "base") << n.path;
}

// A name bound by a tuple-struct or variant pattern written with its path
// takes the type of that field.
TEST(LinkTest, PatternBindingsTakeTheirFieldsType) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
pub struct Nfa;
impl Nfa { pub fn heap_bytes(&self) -> usize { 0 } }
pub struct Dfa;
impl Dfa { pub fn heap_bytes(&self) -> usize { 1 } }
pub enum Imp { Nfa(Nfa), Dfa(u8, Dfa) }
pub struct Wrapper(Dfa);
pub fn size(imp: &Imp, w: Wrapper) -> usize {
    let a = match *imp {
        Imp::Nfa(ref nfa) => nfa.heap_bytes(),
        Imp::Dfa(_, mut dfa) => dfa.heap_bytes(),
    };
    let Wrapper(inner) = w;
    a + inner.heap_bytes()
}
)");
  c.Link();
  std::vector<std::string> calls = c.EdgesOf("CALLS");
  EXPECT_THAT(calls, IsSupersetOf({
                         R"(CALLS demo::size -> demo::Nfa::heap_bytes {"resolved":"method"})",
                         R"(CALLS demo::size -> demo::Dfa::heap_bytes {"resolved":"method"})",
                     }));
  for (const std::string& e : calls) EXPECT_THAT(e, Not(testing::HasSubstr("name_only"))) << e;
  EXPECT_EQ(c.line(R"(CALLS demo::size -> demo::Nfa::heap_bytes {"resolved":"method"})"), 10u);
}

TEST(LinkTest, TraitMethodsThroughImplsDefaultsAndBounds) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
pub trait Shape {
    fn area(&self) -> f64;
    fn describe(&self) -> f64 { self.area() }
}
pub trait Named: Shape { fn name(&self) -> &str; }
pub struct Square(f64);
impl Shape for Square { fn area(&self) -> f64 { self.0 * self.0 } }
pub fn total<S: Shape>(s: &S) -> f64 { s.area() + S::describe(s) }
pub fn named<N>(n: &N) -> f64 where N: Named { n.area() }
pub fn square(sq: Square) -> f64 { sq.area() + sq.describe() + Shape::area(&sq) }
)");
  c.Link();
  EXPECT_THAT(c.EdgesOf("CALLS"),
              IsSupersetOf({
                  R"(CALLS demo::Shape::describe -> demo::Shape::area {"resolved":"method"})",
                  R"(CALLS demo::total -> demo::Shape::area {"resolved":"method"})",
                  R"(CALLS demo::total -> demo::Shape::describe {"resolved":"method"})",
                  R"(CALLS demo::named -> demo::Shape::area {"resolved":"method"})",
                  R"(CALLS demo::square -> demo::<Square as Shape>::area {"resolved":"method"})",
                  R"(CALLS demo::square -> demo::Shape::describe {"resolved":"method"})",
                  R"(CALLS demo::square -> demo::Shape::area {"resolved":"exact"})",
              }));
  EXPECT_THAT(c.EdgesOf("IMPLEMENTS"),
              Contains("IMPLEMENTS demo::impl Shape for Square -> demo::Shape"));
  EXPECT_THAT(c.EdgesOf("IMPL_FOR"),
              Contains("IMPL_FOR demo::impl Shape for Square -> demo::Square"));
}

TEST(LinkTest, ConstructorsAreNotCallsAndExternalsAreNamedInFull) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
pub enum E { A(u32) }
pub struct W(u32);
pub fn f() -> Option<W> {
    let _ = E::A(1);
    let v: Vec<u32> = Vec::new();
    std::mem::drop(v);
    Some(W(2))
}
)");
  c.Link();
  std::vector<std::string> calls = c.EdgesOf("CALLS");
  EXPECT_THAT(calls, IsSupersetOf({
                         R"(CALLS demo::f -> std::vec::Vec::new {"resolved":"exact"})",
                         R"(CALLS demo::f -> std::mem::drop {"resolved":"exact"})",
                     }));
  for (const std::string& e : calls) {
    EXPECT_THAT(e, Not(testing::HasSubstr("-> demo::E")));
    EXPECT_THAT(e, Not(testing::HasSubstr("-> demo::W")));
    EXPECT_THAT(e, Not(testing::HasSubstr("Some")));
  }
}

TEST(LinkTest, NameOnlyListsEveryCandidateAndGivesUpWhenThereAreTooMany) {
  CrateFixture c;
  std::string src = "pub fn user() { get().visit(); get().walk(); }\n";
  // Receivers of built-in types call no method of the crate.
  src += "pub fn builtin(s: &str, b: &[u8], t: (u8, u8)) { s.visit(); b.visit(); t.visit(); }\n";
  src += "pub struct A; impl A { pub fn visit(&self) {} }\n";
  src += "pub struct B; impl B { pub fn visit(&self) {} }\n";
  for (int i = 0; i < 9; ++i) {
    std::string t = "T" + std::to_string(i);
    src += "pub struct " + t + "; impl " + t + " { pub fn walk(&self) {} }\n";
  }
  c.AddFile(kCrate, src);
  c.Link();
  EXPECT_THAT(c.EdgesOf("CALLS"),
              IsSupersetOf({
                  R"(CALLS demo::user -> demo::A::visit {"resolved":"name_only","candidates":2})",
                  R"(CALLS demo::user -> demo::B::visit {"resolved":"name_only","candidates":2})",
              }));
  EXPECT_THAT(c.EdgesOf("CALLS"), Not(Contains(testing::HasSubstr("::walk"))));
  EXPECT_THAT(c.EdgesOf("CALLS"), Not(Contains(testing::HasSubstr("demo::builtin"))));
  EXPECT_EQ(c.result().stats.calls, 7u);  // get() twice, visit, walk; 3 in builtin
  EXPECT_EQ(c.result().stats.calls_name_only, 1u);
  EXPECT_EQ(c.result().stats.calls_unresolved, 3u);
  EXPECT_EQ(c.result().stats.calls_external, 3u);
}

TEST(LinkTest, NameOnlyCandidatesTakeAsManyArgumentsAsTheCall) {
  CrateFixture c;
  // Receivers the resolver cannot type (an index expression, a call's
  // result): only methods taking that many arguments besides self are
  // candidates; none at all leaves the call unresolved.
  c.AddFile(kCrate, R"(
pub struct Inst; impl Inst { pub fn is_match(&self) -> bool { true } }
pub struct Regex; impl Regex { pub fn is_match(&self, text: &str) -> bool { true } }
pub struct Set; impl Set { pub fn is_match(&self, text: &str) -> bool { true } }
pub fn scan(v: Vec<Inst>, r: Vec<Regex>) {
    v[0].is_match();
    r[0].is_match("x");
    r[0].is_match("x", 1);
    debug_assert!(v[1].is_match());
}
fn helper(a: u8, b: u8) {}
mod m { pub fn helper() {} }
pub fn paths() { helper(1, 2); }
)");
  c.Link();
  std::vector<std::string> calls = c.EdgesOf("CALLS");
  EXPECT_THAT(
      calls,
      Contains(
          R"(CALLS demo::scan -> demo::Inst::is_match {"resolved":"name_only","candidates":1})"));
  EXPECT_THAT(
      calls,
      Contains(
          R"(CALLS demo::scan -> demo::Regex::is_match {"resolved":"name_only","candidates":2})"));
  EXPECT_THAT(
      calls,
      Contains(
          R"(CALLS demo::scan -> demo::Set::is_match {"resolved":"name_only","candidates":2})"));
  // v[0].is_match() and the one inside debug_assert! (counted from its
  // tokens) reach Inst's only; "x", 1 reaches none.
  EXPECT_EQ(std::count_if(
                calls.begin(), calls.end(),
                [](const std::string& e) { return e.find("Inst::is_match") != std::string::npos; }),
            2);
  EXPECT_EQ(c.result().stats.calls_unresolved, 1u);
}

TEST(LinkTest, BlockScopedItemsShadowModuleItems) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
fn helper() {}
pub fn outer() {
    fn helper() {}
    helper();
}
pub fn other() { helper(); }
)");
  c.Link();
  EXPECT_THAT(c.EdgesOf("CALLS"),
              IsSupersetOf({
                  R"(CALLS demo::outer -> demo::outer::helper {"resolved":"exact"})",
                  R"(CALLS demo::other -> demo::helper {"resolved":"exact"})",
              }));
  EXPECT_THAT(c.EdgesOf("CALLS"),
              Not(Contains(R"(CALLS demo::outer -> demo::helper {"resolved":"exact"})")));
}

TEST(LinkTest, TypeUsesImportsGenericsBoundsAndMacros) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
mod shapes;
use shapes::Circle as Round;
use shapes::*;
use std::fmt::Display;
macro_rules! square { ($x:expr) => { $x * $x }; }
pub struct Holder<T: Display> { item: T, circle: Round }
pub type Circles = Vec<Round>;
pub trait Area: Display { fn area(&self) -> f64; }
pub fn biggest<T>(items: &[T], min: Circle) -> Option<Circle> where T: Area + Clone {
    let _ = square!(2.0);
    println!("{}", items.len());
    None
}
)");
  c.AddFile("demo::shapes", "pub struct Circle;\n");
  c.Link();
  EXPECT_THAT(c.EdgesOf("USES_TYPE"),
              IsSupersetOf({
                  R"(USES_TYPE demo::Holder::circle -> demo::shapes::Circle {"role":"field"})",
                  R"(USES_TYPE demo::Circles -> demo::shapes::Circle {"role":"generic_arg"})",
                  R"(USES_TYPE demo::Circles -> std::vec::Vec {"role":"alias"})",
                  R"(USES_TYPE demo::biggest -> demo::shapes::Circle {"role":"param"})",
                  R"(USES_TYPE demo::biggest -> demo::shapes::Circle {"role":"generic_arg"})",
              }));
  // A generic parameter is not a type of the crate.
  for (const std::string& e : c.EdgesOf("USES_TYPE"))
    EXPECT_THAT(e, Not(testing::HasSubstr("::T ")));
  EXPECT_THAT(
      c.EdgesOf("IMPORTS"),
      IsSupersetOf({
          R"(IMPORTS demo::use shapes::Circle as Round -> demo::shapes::Circle {"alias":"Round"})",
          R"(IMPORTS demo::use shapes::* -> demo::shapes {"glob":true})",
          "IMPORTS demo::use std::fmt::Display -> std::fmt::Display",
      }));
  EXPECT_THAT(c.EdgesOf("HAS_GENERIC"),
              IsSupersetOf({"HAS_GENERIC demo::Holder -> demo::Holder::T",
                            "HAS_GENERIC demo::biggest -> demo::biggest::T"}));
  EXPECT_THAT(c.EdgesOf("BOUND"),
              IsSupersetOf({"BOUND demo::Holder::T -> std::fmt::Display",
                            "BOUND demo::biggest::T -> demo::Area",
                            "BOUND demo::biggest::T -> std::clone::Clone",
                            R"(BOUND demo::Area -> std::fmt::Display {"on":"Self"})"}));
  EXPECT_THAT(c.EdgesOf("MACRO_INVOKES"),
              IsSupersetOf({"MACRO_INVOKES demo::biggest -> demo::square",
                            "MACRO_INVOKES demo::biggest -> std::println"}));
}

// Paths in bodies: types, literals, patterns and `Type::item` paths give
// one USES_TYPE edge (role body) per body and type of the crate, at the
// first line; generic params, externals, modules and plain functions none.
TEST(LinkTest, BodiesUseTheTypesTheirPathsName) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
mod tokens;
use tokens::Token;
pub struct Point { x: i32 }
pub struct Meters(u32);
pub struct Unused;
pub enum Shape { Dot(Point), Line }
pub trait Named { const NAME: &'static str; }
pub type Points = Vec<Point>;
pub fn helper() {}
impl Point {
    pub fn origin() -> Point { Self { x: 0 } }
    pub fn kind(&self) -> u8 { match self.x { 0 => 0, _ => 1 } }
}
pub fn walk<T: Named>(s: Shape, t: Token) -> u32 {
    let p = Point::origin();
    let v: Points = Vec::new();
    let m = Meters(3);
    helper();
    let _ = T::NAME;
    let _ = std::mem::size_of::<Meters>();
    match s {
        Shape::Dot(Point { x }) => x as u32,
        Shape::Line => match t { Token::Eof => 0, _ => 1 },
    }
}
pub fn lone() -> Option<u8> { let f = |q: Meters| q.0; Some(f(Meters(1)) as u8) }
pub const ORIGIN: Point = Point { x: 0 };
)");
  c.AddFile("demo::tokens", "pub enum Token { Eof, Word }\n");
  c.Link();
  std::vector<std::string> body;
  for (const std::string& e : c.EdgesOf("USES_TYPE"))
    if (e.find(R"({"role":"body"})") != std::string::npos) body.push_back(e);
  EXPECT_THAT(body, testing::UnorderedElementsAre(
                        R"(USES_TYPE demo::Point::origin -> demo::Point {"role":"body"})",
                        R"(USES_TYPE demo::walk -> demo::Point {"role":"body"})",
                        R"(USES_TYPE demo::walk -> demo::Points {"role":"body"})",
                        R"(USES_TYPE demo::walk -> demo::Meters {"role":"body"})",
                        R"(USES_TYPE demo::walk -> demo::Shape {"role":"body"})",
                        R"(USES_TYPE demo::walk -> demo::tokens::Token {"role":"body"})",
                        R"(USES_TYPE demo::lone -> demo::Meters {"role":"body"})",
                        R"(USES_TYPE demo::ORIGIN -> demo::Point {"role":"body"})"));
  // The first use in the body gives the line: `Point::origin()` on line 16.
  EXPECT_EQ(c.line(R"(USES_TYPE demo::walk -> demo::Point {"role":"body"})"), 16u);
  EXPECT_EQ(c.line(R"(USES_TYPE demo::walk -> demo::tokens::Token {"role":"body"})"), 24u);
}

TEST(LinkTest, ItemPositionMacrosAreInvokedByTheirModule) {
  CrateFixture c;
  c.AddFile(kCrate, R"(
macro_rules! make { ($n:ident) => { pub fn $n() {} }; }
make!(generated);
mod inner { thread_local! { static X: u32 = 1; } }
)");
  c.Link();
  EXPECT_THAT(c.EdgesOf("MACRO_INVOKES"),
              IsSupersetOf({"MACRO_INVOKES demo -> demo::make",
                            "MACRO_INVOKES demo::inner -> std::thread_local"}));
}

// ---- LiveCrateLink: relinking one file of a kept crate.

// A crate's files extracted and made into nodes as the indexer does it
// (signatures and paths included), to link whole or relink one file.
class LiveCrate {
 public:
  void Set(size_t f, std::string module_path, const std::string& source) {
    if (f >= files_.size()) files_.resize(f + 1);
    File& file = files_[f];
    file.module_path = std::move(module_path);
    file.extraction = ParseAndExtract(source, parser_);
    file.nodes.clear();
    for (const ExtractedItem& it : file.extraction.items) {
      file.nodes.push_back(NodeOfItem(it, kCrate, file.module_path, 0));
      file.nodes.back().file = "f" + std::to_string(f) + ".rs";
    }
  }

  ContentHash Interface(size_t f) const {
    return LinkInterface(files_[f].extraction, files_[f].nodes);
  }

  LinkInput Input() const {
    LinkInput in;
    in.crate_key = kCrate;
    in.crate_name = kCrate;
    in.crate_id = MakeNodeId(kCrate, kCrate, NodeKind::kCrate, 0);
    return in;
  }

  std::vector<LinkFile> Files() const {
    std::vector<LinkFile> link(files_.size());
    for (size_t f = 0; f < files_.size(); ++f) {
      link[f].path = "f" + std::to_string(f) + ".rs";
      link[f].module_path = files_[f].module_path;
      link[f].is_crate_root = f == 0;
      link[f].module_id = f == 0 ? MakeNodeId(kCrate, kCrate, NodeKind::kCrate, 0)
                                 : MakeNodeId(kCrate, files_[f].module_path, NodeKind::kModule, 0);
      link[f].extraction = &files_[f].extraction;
      link[f].nodes = files_[f].nodes;
    }
    return link;
  }

  const FileExtraction& extraction(size_t f) const { return files_[f].extraction; }
  const std::vector<Node>& nodes(size_t f) const { return files_[f].nodes; }

 private:
  struct File {
    std::string module_path;
    FileExtraction extraction;
    std::vector<Node> nodes;
  };
  RustParser parser_;
  std::vector<File> files_;
};

// Every field of each edge, in order.
std::vector<std::string> EdgeTexts(const std::vector<Edge>& edges) {
  std::vector<std::string> out;
  for (const Edge& e : edges)
    out.push_back(std::string(KindName(e.kind)) + " " + e.src.str() + " " + e.dst.str() + " " +
                  e.file + ":" + std::to_string(e.line) + " " + e.props);
  return out;
}

std::vector<std::string> NodeTexts(const std::vector<Node>& nodes) {
  std::vector<std::string> out;
  for (const Node& n : nodes) out.push_back(n.path + " " + n.id.str() + " " + n.crate_name);
  return out;
}

constexpr char kLiveRoot[] = R"(
mod a;
mod b;
use std::collections::HashMap;
pub struct S { pub map: HashMap<u32, u32> }
impl S {
    pub fn new() -> S { S { map: HashMap::new() } }
    pub fn get(&self) -> Option<&u32> { self.map.get(&1) }
}
pub trait Shape { fn area(&self) -> f64; }
)";

constexpr char kLiveA[] = R"(
use crate::S;
/// Doubles.
pub fn helper(x: u32) -> u32 { x * 2 }
pub fn make() -> S {
    let s = S::new();
    s.get();
    s
}
)";

constexpr char kLiveB[] = R"(
use super::a::helper;
pub struct Square(f64);
impl crate::Shape for Square { fn area(&self) -> f64 { self.0 * self.0 } }
pub fn run() {
    helper(1);
    std::mem::swap(&mut 1, &mut 2);
    println!("{}", crate::a::make().get().is_some());
}
)";

TEST(LiveCrateLinkTest, RelinkingAnEditedBodyGivesTheEdgesOfAWholeLink) {
  LiveCrate live;
  live.Set(0, kCrate, kLiveRoot);
  live.Set(1, "demo::a", kLiveA);
  live.Set(2, "demo::b", kLiveB);
  std::vector<LinkFile> files = live.Files();
  LinkInput input = live.Input();
  LinkResult first;
  std::unique_ptr<LiveCrateLink> kept = LiveCrateLink::Link(input, files, &first);
  ASSERT_EQ(kept->file_count(), 3u);
  EXPECT_EQ(kept->path(2), "f2.rs");
  EXPECT_EQ(kept->module_path(2), "demo::b");
  // As LinkCrate would have linked it.
  {
    std::vector<LinkFile> again = live.Files();
    LinkResult whole = LinkCrate(input, again);
    for (size_t f = 0; f < 3; ++f) EXPECT_EQ(EdgeTexts(files[f].edges), EdgeTexts(again[f].edges));
    EXPECT_EQ(NodeTexts(first.externals), NodeTexts(whole.externals));
  }
  std::vector<std::vector<Edge>> before;
  for (const LinkFile& lf : files) before.push_back(lf.edges);

  // b.rs: lines added above, other calls (std::mem::swap gone, std::mem::take
  // new), a doc comment: its interface is the same.
  live.Set(2, "demo::b", R"(
// moved down


use super::a::helper;
/// A square.
pub struct Square(f64);
impl crate::Shape for Square { fn area(&self) -> f64 { self.0 * self.0 * 1.0 } }
pub fn run() {
    let v = std::mem::take(&mut 1);
    crate::a::make().get();
    helper(v);
}
)");
  ASSERT_EQ(live.Interface(2), kept->interface(2));
  std::vector<Edge> relinked;
  kept->Relink(2, live.extraction(2), live.nodes(2), &relinked);

  std::vector<LinkFile> whole_files = live.Files();
  LinkResult whole = LinkCrate(input, whole_files);
  EXPECT_EQ(EdgeTexts(relinked), EdgeTexts(whole_files[2].edges));
  EXPECT_NE(EdgeTexts(relinked), EdgeTexts(before[2]));  // the edit shows
  for (size_t f = 0; f < 2; ++f)                         // the other files' edges are unchanged
    EXPECT_EQ(EdgeTexts(whole_files[f].edges), EdgeTexts(before[f])) << f;
  EXPECT_EQ(NodeTexts(kept->Externals()), NodeTexts(whole.externals));
  std::vector<std::string> paths;
  for (const Node& n : kept->Externals()) paths.push_back(n.path);
  EXPECT_THAT(paths, Contains("std::mem::take"));
  EXPECT_THAT(paths, Not(Contains("std::mem::swap")));
  LinkStats a = kept->stats(), b = whole.stats;
  EXPECT_EQ(a.calls, b.calls);
  EXPECT_EQ(a.calls_exact, b.calls_exact);
  EXPECT_EQ(a.calls_import, b.calls_import);
  EXPECT_EQ(a.calls_method, b.calls_method);
  EXPECT_EQ(a.calls_name_only, b.calls_name_only);
  EXPECT_EQ(a.calls_external, b.calls_external);
  EXPECT_EQ(a.calls_unresolved, b.calls_unresolved);
  EXPECT_EQ(kept->linked(), first.linked);  // dependents see the same tables

  // a.rs, whose function return types other files' method calls read:
  // its bodies, docs and lines change; b's `.get()` on `make()`'s value
  // still finds S::get.
  live.Set(1, "demo::a", R"(
use crate::S;


/// Doubles, with more words.
pub fn helper(x: u32) -> u32 { let unused: Option<Box<u64>> = None; x * 2 }
pub fn make() -> S {
    let s = S::new();
    s
}
)");
  ASSERT_EQ(live.Interface(1), kept->interface(1));
  kept->Relink(1, live.extraction(1), live.nodes(1), &relinked);
  std::vector<Edge> b_again;
  kept->Relink(2, live.extraction(2), live.nodes(2), &b_again);
  whole_files = live.Files();
  whole = LinkCrate(input, whole_files);
  EXPECT_EQ(EdgeTexts(relinked), EdgeTexts(whole_files[1].edges));
  EXPECT_EQ(EdgeTexts(b_again), EdgeTexts(whole_files[2].edges));
  const NodeId get = MakeNodeId(kCrate, "demo::S::get", NodeKind::kMethod, 0);
  EXPECT_TRUE(std::any_of(b_again.begin(), b_again.end(), [&](const Edge& e) {
    return e.kind == EdgeKind::kCalls && e.dst == get;
  })) << "`make().get()` found S::get through make's return type";
  EXPECT_EQ(NodeTexts(kept->Externals()), NodeTexts(whole.externals));
  EXPECT_EQ(kept->stats().calls, whole.stats.calls);
}

TEST(LiveCrateLinkTest, InterfaceCoversWhatOtherFilesRead) {
  const std::string base = R"(
use std::fmt::Display;
#[derive(Debug)]
pub struct P { pub x: u32 }
pub fn f(p: &P) -> u32 { p.x }
fn g<T: Display>(t: T) { let _ = t.to_string(); }
)";
  LiveCrate live;
  live.Set(0, kCrate, base);
  const ContentHash original = live.Interface(0);
  auto interface_of = [&](const std::string& source) {
    live.Set(0, kCrate, source);
    return live.Interface(0);
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  // Bodies, lines, comments and docs: the same interface.
  EXPECT_EQ(interface_of(replaced("{ p.x }", "{ p.x + 1 }")), original);
  EXPECT_EQ(interface_of("\n\n// note\n" + base), original);
  EXPECT_EQ(interface_of(replaced("pub fn f", "/// Docs.\npub fn f")), original);
  EXPECT_EQ(interface_of(replaced("let _ = t.to_string();", "let s: String = t.to_string();")),
            original);
  // Signatures, items, imports, visibility, derives: another one.
  EXPECT_NE(interface_of(replaced("-> u32 { p.x }", "-> u64 { p.x }")), original);
  EXPECT_NE(interface_of(replaced("T: Display", "T: Display + Clone")), original);
  EXPECT_NE(interface_of(replaced("pub x: u32", "pub x: u64")), original);
  EXPECT_NE(interface_of(replaced("fn g", "pub fn g")), original);
  EXPECT_NE(interface_of(replaced("Debug", "Debug, Clone")), original);
  EXPECT_NE(interface_of(replaced("use std::fmt::Display;", "use std::fmt::{Display, Debug};")),
            original);
  EXPECT_NE(interface_of(base + "pub fn h() {}\n"), original);
  // Items and imports inside bodies are in the crate's scopes too.
  EXPECT_NE(interface_of(replaced("{ p.x }", "{ use std::mem; fn local() {} p.x }")), original);
  EXPECT_NE(interface_of(replaced("{ p.x }", "{ struct Local; p.x }")), original);
}

}  // namespace
}  // namespace ferrograph
