// References extracted alongside items: use imports, type uses, call sites.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "graph/extract.h"

namespace ferrograph {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

FileExtraction Extract(std::string_view source) {
  static RustParser* parser = new RustParser();
  return ParseAndExtract(source, *parser);
}

std::string Join(const PathSegments& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) out += (i ? "::" : "") + path[i];
  return out;
}

std::string ItemPath(const FileExtraction& fx, int item) {
  return item < 0 ? "<file>" : fx.items[item].rel_path;
}

// "a::b", "a::b as c", "a::*", "extern foo as bar".
std::vector<std::string> Imports(const FileExtraction& fx) {
  std::vector<std::string> out;
  for (const UseImport& u : fx.imports) {
    std::string s = (u.extern_crate ? "extern " : "") + Join(u.path);
    if (u.glob) s += "::*";
    if (!u.alias.empty()) s += " as " + u.alias;
    out.push_back(s);
  }
  return out;
}

// "param Foo", "bound Clone T".
std::vector<std::string> TypeRefs(const FileExtraction& fx) {
  std::vector<std::string> out;
  for (const TypeRef& r : fx.type_refs) {
    std::string s = std::string(TypeRefRoleName(r.role)) + " " + Join(r.path);
    if (!r.bounded_param.empty()) s += " " + r.bounded_param;
    out.push_back(s);
  }
  return out;
}

// "foo()", "recv.m()" with "recv:Type", "name!".
std::vector<std::string> Calls(const FileExtraction& fx) {
  std::vector<std::string> out;
  for (const CallRef& c : fx.calls) {
    switch (c.kind) {
      case CallKind::kPath: out.push_back(Join(c.path) + "()"); break;
      case CallKind::kMacro: out.push_back(Join(c.path) + "!"); break;
      case CallKind::kMethod: {
        std::string recv = c.receiver;
        if (!c.receiver_type.empty()) recv += ":" + Join(c.receiver_type);
        if (!c.receiver_call.empty()) recv += ":" + Join(c.receiver_call) + "()";
        for (const ReceiverStep& st : c.receiver_steps) {
          recv += st.kind == ReceiverStep::kField    ? "."
                  : st.kind == ReceiverStep::kMethod ? ".m:"
                                                     : "!";
          recv += st.name;
        }
        out.push_back(recv + "." + Join(c.path) + "()");
        break;
      }
    }
  }
  return out;
}

// "path/args" of each path and method call ("g/2", "m/0"; -1 unknown).
std::vector<std::string> CallsWithArguments(const FileExtraction& fx) {
  std::vector<std::string> out;
  for (const CallRef& c : fx.calls)
    if (c.kind != CallKind::kMacro) out.push_back(Join(c.path) + "/" + std::to_string(c.args));
  return out;
}

// ---- Use imports.

TEST(ReferencesTest, UseOfSimplePathNamesItsUseItem) {
  FileExtraction fx = Extract("\n\nuse std::fmt::Display;\n");
  ASSERT_EQ(fx.imports.size(), 1u);
  const UseImport& u = fx.imports[0];
  EXPECT_EQ(Join(u.path), "std::fmt::Display");
  EXPECT_EQ(ItemPath(fx, u.item), "use std::fmt::Display");
  EXPECT_EQ(u.visibility, Visibility::kPrivate);
  EXPECT_EQ(u.line, 3u);
  EXPECT_TRUE(u.alias.empty());
  EXPECT_FALSE(u.glob);
  EXPECT_FALSE(u.extern_crate);
}

TEST(ReferencesTest, NestedUseGroupsFlattenToLeaves) {
  FileExtraction fx = Extract("use a::{b::{c, d as e}, f::*, g};");
  EXPECT_THAT(Imports(fx), ElementsAre("a::b::c", "a::b::d as e", "a::f::*", "a::g"));
  for (const UseImport& u : fx.imports) EXPECT_EQ(u.item, 0);
}

TEST(ReferencesTest, SelfInUseGroupNamesThePrefix) {
  FileExtraction fx = Extract("use io::{self, Read};\nuse fmt::{self as f};");
  EXPECT_THAT(Imports(fx), ElementsAre("io", "io::Read", "fmt as f"));
}

TEST(ReferencesTest, UnderscoreAliasIsKept) {
  FileExtraction fx = Extract("use std::io::Write as _;");
  ASSERT_EQ(fx.imports.size(), 1u);
  EXPECT_EQ(fx.imports[0].alias, "_");
}

TEST(ReferencesTest, LeadingColonsGiveAnEmptyFirstSegment) {
  FileExtraction fx = Extract("use ::std::io;\nuse ::{a, b::c};");
  EXPECT_THAT(Imports(fx), ElementsAre("::std::io", "::a", "::b::c"));
  EXPECT_EQ(fx.imports[0].path.front(), "");
}

TEST(ReferencesTest, CrateSelfSuperSegmentsAreKept) {
  FileExtraction fx = Extract("use crate::a;\nuse self::b::C;\nuse super::super::d::*;");
  EXPECT_THAT(Imports(fx), ElementsAre("crate::a", "self::b::C", "super::super::d::*"));
  EXPECT_TRUE(fx.imports[2].glob);
}

TEST(ReferencesTest, ExternCrateWithAndWithoutAlias) {
  FileExtraction fx = Extract("extern crate alloc;\npub extern crate serde as s;");
  EXPECT_THAT(Imports(fx), ElementsAre("extern alloc", "extern serde as s"));
  EXPECT_EQ(fx.imports[1].visibility, Visibility::kPublic);
  EXPECT_EQ(fx.imports[1].line, 2u);
  EXPECT_EQ(ItemPath(fx, fx.imports[1].item), "extern crate serde as s");
}

TEST(ReferencesTest, UseCarriesItsVisibility) {
  FileExtraction fx = Extract("pub use a::b;\npub(crate) use c::{d, e};");
  ASSERT_EQ(fx.imports.size(), 3u);
  EXPECT_EQ(fx.imports[0].visibility, Visibility::kPublic);
  EXPECT_EQ(fx.imports[1].visibility, Visibility::kCrate);
  EXPECT_EQ(fx.imports[2].visibility, Visibility::kCrate);
}

TEST(ReferencesTest, UseLeavesReportTheirOwnLines) {
  FileExtraction fx = Extract("use std::{\n    fmt,\n    io::Read,\n};");
  ASSERT_EQ(fx.imports.size(), 2u);
  EXPECT_EQ(fx.imports[0].line, 2u);
  EXPECT_EQ(fx.imports[1].line, 3u);
}

TEST(ReferencesTest, UseInFnBodyBelongsToAUseItemUnderTheFn) {
  FileExtraction fx = Extract("fn f() {\n    use std::mem::swap;\n    swap(a, b);\n}");
  ASSERT_EQ(fx.imports.size(), 1u);
  const ExtractedItem& use_item = fx.items[fx.imports[0].item];
  EXPECT_EQ(use_item.kind, NodeKind::kUse);
  EXPECT_EQ(ItemPath(fx, use_item.parent), "f");
}

TEST(ReferencesTest, UseInInlineModule) {
  FileExtraction fx = Extract("mod m {\n    pub(super) use super::X;\n}");
  ASSERT_EQ(fx.imports.size(), 1u);
  EXPECT_EQ(Join(fx.imports[0].path), "super::X");
  EXPECT_EQ(fx.imports[0].visibility, Visibility::kSuper);
  EXPECT_EQ(ItemPath(fx, fx.items[fx.imports[0].item].parent), "m");
}

TEST(ReferencesTest, UseInItemMacroIsFlattened) {
  FileExtraction fx = Extract("cfg_if::cfg_if! {\n  if #[cfg(unix)] { use unix::Sys; }\n}");
  EXPECT_THAT(Imports(fx), ElementsAre("unix::Sys"));
}

// ---- Type references.

TEST(ReferencesTest, FnParamsAndReturnUnwrapToPaths) {
  FileExtraction fx =
      Extract("fn f(a: &mut [Foo], b: Option<Bar>, c: u8, d: *const Baz) -> io::Result<Qux> {}");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("param Foo", "param Option", "generic_arg Bar", "param Baz",
                                        "return io::Result", "generic_arg Qux"));
  for (const TypeRef& r : fx.type_refs) EXPECT_EQ(ItemPath(fx, r.item), "f");
}

TEST(ReferencesTest, PrimitiveTypesAreNotRecorded) {
  FileExtraction fx =
      Extract("fn f(a: u8, b: &str, c: (bool, usize), d: [i32; 4], e: ()) -> ! { loop {} }");
  EXPECT_THAT(fx.type_refs, IsEmpty());
}

TEST(ReferencesTest, TypedSelfParamIsRecordedPlainSelfIsNot) {
  FileExtraction fx = Extract(
      "struct S;\nimpl S {\n  fn a(&self) {}\n  fn b(mut self) {}\n"
      "  fn c(self: Box<Self>) {}\n}");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("impl_self S", "param Box", "generic_arg Self"));
  EXPECT_EQ(ItemPath(fx, fx.type_refs[1].item), "S::c");
}

TEST(ReferencesTest, FieldsOfStructsTuplesUnionsAndVariants) {
  FileExtraction fx = Extract(
      "struct A { x: Vec<B>, y: u8 }\nstruct T(pub C, D);\nunion U { e: E }\n"
      "enum En { V { f: F }, W(G) }");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("field Vec", "generic_arg B", "field C", "field D",
                                        "field E", "field F", "field G"));
  EXPECT_EQ(ItemPath(fx, fx.type_refs[0].item), "A::x");
  EXPECT_EQ(ItemPath(fx, fx.type_refs[2].item), "T::0");
  EXPECT_EQ(ItemPath(fx, fx.type_refs[5].item), "En::V::f");
  EXPECT_EQ(ItemPath(fx, fx.type_refs[6].item), "En::W::0");
}

TEST(ReferencesTest, TypeAliasRightSide) {
  FileExtraction fx = Extract("type Map<V> = std::collections::HashMap<String, V>;");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("alias std::collections::HashMap", "generic_arg String",
                                        "generic_arg V"));
}

TEST(ReferencesTest, ImplHeaderSelfTraitAndGenerics) {
  FileExtraction fx = Extract("impl<T: Clone> fmt::Debug for Vec<T> where T: Send {}");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("bound Clone T", "impl_trait fmt::Debug", "impl_self Vec",
                                        "generic_arg T", "bound Send T"));
  for (const TypeRef& r : fx.type_refs) EXPECT_EQ(fx.items[r.item].kind, NodeKind::kImpl);
}

TEST(ReferencesTest, ImplOfReferenceTypeUnwraps) {
  FileExtraction fx = Extract("impl<'a> Tr for &'a mut Foo<'a> {}");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("impl_trait Tr", "impl_self Foo"));
}

TEST(ReferencesTest, WhereClauseOnComplexTypeHasNoParam) {
  FileExtraction fx = Extract("fn f<T>() where Vec<T>: Foo, Self: Sized, T::Item: Bar {}");
  ASSERT_EQ(fx.type_refs.size(), 3u);
  EXPECT_EQ(Join(fx.type_refs[0].path), "Foo");
  EXPECT_EQ(fx.type_refs[0].bounded_param, "");
  EXPECT_EQ(fx.type_refs[1].bounded_param, "Self");
  EXPECT_EQ(fx.type_refs[2].bounded_param, "");
}

TEST(ReferencesTest, SupertraitsBoundSelf) {
  FileExtraction fx = Extract("trait A: B + C<D> + 'static + ?Sized {}");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("bound B Self", "bound C Self", "generic_arg D"));
}

TEST(ReferencesTest, AssociatedTypeBoundsBoundTheAssociatedType) {
  FileExtraction fx = Extract("trait A { type Item: Clone + Into<X>; }");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("bound Clone Item", "bound Into Item", "generic_arg X"));
}

TEST(ReferencesTest, ImplTraitAndDynUnwrapToTheirTraits) {
  FileExtraction fx =
      Extract("fn f(it: impl Iterator<Item = Bar>) -> Box<dyn Fn(A) -> B + Send> {}");
  EXPECT_THAT(TypeRefs(fx),
              ElementsAre("param Iterator", "generic_arg Bar", "return Box", "generic_arg Fn",
                          "generic_arg A", "generic_arg B", "generic_arg Send"));
}

TEST(ReferencesTest, FnPointerAndHigherRankedBound) {
  FileExtraction fx = Extract("fn f<F>(g: fn(A) -> B) where F: for<'a> Fn(&'a C) {}");
  EXPECT_THAT(TypeRefs(fx),
              ElementsAre("generic_arg A", "generic_arg B", "bound Fn F", "generic_arg C"));
}

TEST(ReferencesTest, TuplesAndArraysUnwrap) {
  FileExtraction fx = Extract("fn f(x: (A, [B; 3], &[C])) {}");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("param A", "param B", "param C"));
}

TEST(ReferencesTest, QualifiedPathRecordsOnlyTheTrait) {
  FileExtraction fx = Extract("fn f<T: Tr>() -> <T as Tr>::Out {}");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("bound Tr T", "other Tr"));
}

TEST(ReferencesTest, ConstStaticAndDefaultTypesAreOther) {
  FileExtraction fx =
      Extract("const A: Foo = Foo;\nstatic B: Mutex<Bar> = X;\nstruct S<T = Baz>(T);");
  EXPECT_THAT(TypeRefs(fx),
              ElementsAre("other Foo", "other Mutex", "generic_arg Bar", "other Baz", "field T"));
}

TEST(ReferencesTest, TypeRefLineIsThePathStart) {
  FileExtraction fx = Extract("fn f(\n  a: A,\n) ->\n  B {}");
  ASSERT_EQ(fx.type_refs.size(), 2u);
  EXPECT_EQ(fx.type_refs[0].line, 2u);
  EXPECT_EQ(fx.type_refs[1].line, 4u);
}

// ---- Calls.

TEST(ReferencesTest, PathCallsKeepTheirSegments) {
  FileExtraction fx = Extract(
      "fn f() {\n  foo();\n  a::b::bar();\n  Self::new();\n  baz::<u8>();\n"
      "  Vec::<u8>::with_capacity(1);\n  <X as Tr>::m();\n  ::std::process::exit(0);\n}");
  EXPECT_THAT(Calls(fx), ElementsAre("foo()", "a::b::bar()", "Self::new()", "baz()",
                                     "Vec::with_capacity()", "Tr::m()", "::std::process::exit()"));
  for (const CallRef& c : fx.calls) EXPECT_EQ(ItemPath(fx, c.item), "f");
}

TEST(ReferencesTest, CallsCountTheirArguments) {
  FileExtraction fx = Extract(
      "fn f() {\n  g();\n  g(a, b(c, d),);\n  x.m(/* no */ 1);\n  h(#[cfg(x)] 1, 2);\n"
      "  assert!(y.n(1, (2, 3), [4, 5]));\n  k!(z.p());\n  println!(\"{}\", q(|a, b| a));\n"
      "  w!(r(a < b, c));\n}");
  EXPECT_THAT(CallsWithArguments(fx),
              ::testing::UnorderedElementsAre("g/0", "g/2", "b/2", "m/1", "h/2", "n/3", "p/0",
                                              "q/-1", "r/-1"));
}

TEST(ReferencesTest, TurbofishInMacroTokensKeepsThePath) {
  FileExtraction fx = Extract(
      "fn f() {\n  assert_eq!(Vec::<u8>::with_capacity(1), v.iter().collect::<Vec<_>>());\n"
      "  k!(HashMap::<K, Vec<u8>>::new(), ::std::mem::swap::<u8>(a, b));\n}");
  EXPECT_THAT(CallsWithArguments(fx),
              ::testing::UnorderedElementsAre("Vec::with_capacity/1", "iter/0", "collect/0",
                                              "HashMap::new/0", "::std::mem::swap/2"));
}

TEST(ReferencesTest, CallLinesAreThePathStart) {
  FileExtraction fx = Extract("fn f() {\n  a\n    .b()\n    .c();\n  g(\n  );\n}");
  ASSERT_EQ(fx.calls.size(), 3u);
  EXPECT_EQ(fx.calls[0].line, 4u);  // c: outer calls come first
  EXPECT_EQ(fx.calls[1].line, 3u);
  EXPECT_EQ(fx.calls[2].line, 5u);
}

TEST(ReferencesTest, StructLiteralIsNotACall) {
  FileExtraction fx = Extract("fn f() { let p = Point { x: g(), y: 0 }; }");
  EXPECT_THAT(Calls(fx), ElementsAre("g()"));
}

TEST(ReferencesTest, MethodOnSelfIsTypedByTheImpl) {
  FileExtraction fx = Extract(
      "impl<T> Regex<T> {\n  fn a(&self) { self.b(); self.inner.c(); }\n}\n"
      "trait Tr { fn d(&self) { self.e(); } }");
  EXPECT_THAT(Calls(fx), ElementsAre("self:Regex.b()", "self:Regex.inner.c()", "self.e()"));
}

TEST(ReferencesTest, MethodReceiverTypedByParameters) {
  FileExtraction fx = Extract(
      "fn f(p: &Parser, q: Parser, mut v: &mut Vec<T>, n: u32, (a, b): (A, B), s: &[u8],\n"
      "     t: (u8, u8)) {\n"
      "  p.x(); q.y(); v.push(1); n.z(); a.w(); s.len(); t.eq(); \n}");
  // Built-in types are named too, so that their methods are known not to
  // be the crate's.
  EXPECT_THAT(Calls(fx), ElementsAre("p:Parser.x()", "q:Parser.y()", "v:Vec.push()", "n:u32.z()",
                                     "a.w()", "s:[].len()", "t:().eq()"));
}

TEST(ReferencesTest, MethodReceiverTypedByLets) {
  FileExtraction fx = Extract(
      "fn f() {\n"
      "  let a: io::Stdout = g();\n  a.m();\n"
      "  let b = Parser::new(1);\n  b.m();\n"
      "  let mut c = Config { x: 1 };\n  c.m();\n"
      "  let d = Regex::new(r).unwrap();\n  d.m();\n"
      "  let e = File::open(p)?;\n  e.m();\n"
      "  let h = &Vec::<u8>::new();\n  h.m();\n"
      "}");
  std::vector<std::string> methods;
  for (const std::string& c : Calls(fx)) {
    if (c.find(".m()") != std::string::npos) methods.push_back(c);
  }
  EXPECT_THAT(methods, ElementsAre("a:io::Stdout.m()", "b:Parser.m()", "c:Config.m()",
                                   "d:Regex.m()", "e:File.m()", "h:Vec.m()"));
}

TEST(ReferencesTest, LatestBindingBeforeTheCallWins) {
  FileExtraction fx = Extract(
      "fn f(p: Parser) {\n  p.a();\n  let p = p.into_lexer();\n  p.b();\n"
      "  let p = Lexer::new();\n  p.c();\n}");
  EXPECT_THAT(Calls(fx), ElementsAre("p:Parser.a()", "p:Parser.into_lexer()",
                                     "p:Parser.m:into_lexer.b()", "Lexer::new()", "p:Lexer.c()"));
}

// The receiver expression is walked down to its base; the steps from the
// base to the receiver are recorded for the resolver to type.
TEST(ReferencesTest, ReceiverChainsRecordTheirStepsFromTheBase) {
  FileExtraction fx = Extract(
      "impl P {\n fn f(&self, q: Q) {\n  self.lexer.peek()?.kind();\n"
      "  (&q.inner.0).get().unwrap().go();\n  Parser::new(x).run();\n  h().x.go();\n"
      "  v[0].go();\n }\n}");
  std::vector<std::string> chains;
  for (const CallRef& c : fx.calls) {
    if (c.kind != CallKind::kMethod) continue;
    std::string s = c.receiver;
    if (!c.receiver_type.empty()) s += ":" + Join(c.receiver_type);
    if (!c.receiver_call.empty()) s += Join(c.receiver_call) + "()";
    for (const ReceiverStep& st : c.receiver_steps)
      s += (st.kind == ReceiverStep::kField    ? "."
            : st.kind == ReceiverStep::kMethod ? ".m:"
                                               : "!") +
           st.name;
    chains.push_back(s + " ." + c.path.back());
  }
  EXPECT_THAT(chains, ElementsAre("self:P.lexer.m:peek!? .kind", "self:P.lexer .peek",
                                  "q:Q.inner.0.m:get!unwrap .go", "q:Q.inner.0.m:get .unwrap",
                                  "q:Q.inner.0 .get", "Parser::new() .run", "h().x .go", " .go"));
}

// Names bound by tuple-struct and variant patterns written with their path
// are typed by that field: the path, then a field step.
TEST(ReferencesTest, TuplePatternBindingsAreTypedByTheirField) {
  FileExtraction fx = Extract(
      "fn f(imp: &Imp, w: W) {\n  match *imp {\n    Imp::Nfa(ref nfa) => nfa.a(),\n"
      "    Imp::Dfa(_, mut dfa) => dfa.b(),\n  }\n  let W(inner) = w;\n  inner.c();\n}");
  EXPECT_THAT(Calls(fx), ElementsAre("nfa:Imp::Nfa.0.a()", "dfa:Imp::Dfa.1.b()", "inner:W.0.c()"));
  FileExtraction nested = Extract(
      "fn size(imp: &Imp) -> usize {\n  let a = match *imp {\n"
      "    Imp::Nfa(ref nfa) => nfa.heap_bytes(),\n  };\n  a\n}");
  EXPECT_THAT(Calls(nested), ElementsAre("nfa:Imp::Nfa.0.heap_bytes()"));
  // The value of `if let` / `let` still sees the names the pattern shadows.
  FileExtraction shadow =
      Extract("fn g(rep: R) {\n  if let Some(rep) = rep.first() {\n    rep.second();\n  }\n}");
  EXPECT_THAT(Calls(shadow), ElementsAre("rep:R.first()", "rep:Some.0.second()"));
}

TEST(ReferencesTest, BindingsDoNotLeakIntoNestedFns) {
  FileExtraction fx = Extract("fn outer(p: Parser) {\n  fn inner() { p.a(); }\n  p.b();\n}");
  ASSERT_EQ(fx.calls.size(), 2u);
  EXPECT_EQ(ItemPath(fx, fx.calls[0].item), "outer::inner");
  EXPECT_TRUE(fx.calls[0].receiver_type.empty());
  EXPECT_EQ(ItemPath(fx, fx.calls[1].item), "outer");
  EXPECT_EQ(Join(fx.calls[1].receiver_type), "Parser");
}

TEST(ReferencesTest, ClosuresAndBlocksBelongToTheEnclosingFn) {
  FileExtraction fx = Extract(
      "fn f() {\n  let c = |x: &Node| x.visit();\n  { unsafe { g(); } }\n"
      "  if h() { k(); }\n  c(n);\n}");
  EXPECT_THAT(Calls(fx), ElementsAre("x:Node.visit()", "g()", "h()", "k()", "c()"));
  for (const CallRef& c : fx.calls) EXPECT_EQ(ItemPath(fx, c.item), "f");
}

TEST(ReferencesTest, GenericMethodCall) {
  FileExtraction fx = Extract("fn f(it: Iter) { it.collect::<Vec<_>>(); }");
  EXPECT_THAT(Calls(fx), ElementsAre("it:Iter.collect()"));
}

TEST(ReferencesTest, MacrosAreCallsWithTheirPath) {
  FileExtraction fx = Extract("fn f() {\n  println!(\"hi\");\n  std::debug_assert!(true);\n}");
  EXPECT_THAT(Calls(fx), ElementsAre("println!", "std::debug_assert!"));
  EXPECT_EQ(fx.calls[1].line, 3u);
}

TEST(ReferencesTest, CallsInsideMacroArgumentsAreFound) {
  FileExtraction fx = Extract(
      "fn t(p: Parser) {\n"
      "  assert_eq!(f(x), 1);\n"
      "  let s = format!(\"{}\", g());\n"
      "  let v = vec![h(), 2];\n"
      "  assert!(p.ok(), \"{}\", format!(\"{}\", k()));\n"
      "}");
  EXPECT_THAT(Calls(fx), ElementsAre("assert_eq!", "f()", "format!", "g()", "vec!", "h()",
                                     "assert!", "p:Parser.ok()", "format!", "k()"));
  for (const CallRef& c : fx.calls) EXPECT_EQ(ItemPath(fx, c.item), "t");
  EXPECT_EQ(fx.calls[1].line, 2u);
  EXPECT_EQ(fx.calls[9].line, 5u);
}

TEST(ReferencesTest, MacroTokenReceiversAndPaths) {
  FileExtraction fx = Extract(
      "impl S {\n  fn t(&self, d: D) {\n"
      "    check!(self.c(), d.e(), d.x.f(), ::a::b(1), u8::max(1, 2), w.v::<u8>());\n  }\n}");
  EXPECT_THAT(Calls(fx),
              ElementsAre("check!", "self:S.c()", "d:D.e()", ".f()", "::a::b()", "u8::max()",
                          "w.v()"));  // through its turbofish
}

TEST(ReferencesTest, MacroTokensWithoutCallShapesGiveOnlyTheMacro) {
  // Names not followed by `(...)` and `fn g()` are not calls, and the items a
  // statement macro might hold are not extracted as items.
  FileExtraction fx = Extract("fn t() {\n  write!(f, \"{}\", x)?;\n  my_macro! { fn g() {} }\n}");
  EXPECT_THAT(Calls(fx), ElementsAre("write!", "my_macro!"));
  ASSERT_EQ(fx.items.size(), 1u);
}

TEST(ReferencesTest, ConstAndStaticInitializerCallsBelongToThem) {
  FileExtraction fx = Extract(
      "const A: Foo = Foo::new(1);\nstatic B: Lazy<R> = Lazy::new(|| R::new(\"x\").unwrap());\n"
      "const C: u32 = { helper() };");
  EXPECT_THAT(Calls(fx), ElementsAre("Foo::new()", "Lazy::new()", ":R::new().unwrap()", "R::new()",
                                     "helper()"));
  EXPECT_EQ(ItemPath(fx, fx.calls[0].item), "A");
  EXPECT_EQ(ItemPath(fx, fx.calls[1].item), "B");
  EXPECT_EQ(ItemPath(fx, fx.calls[4].item), "C");
}

// Body paths: each written path once, whole, with the types in its generic
// arguments and qualified segments; a const's own type stays its signature.
TEST(ReferencesTest, BodyPathsAreRecordedOnceEach) {
  FileExtraction fx = Extract(R"(
const A: Foo = Foo::new(1);
fn f(x: u8) -> u8 {
    let v: Vec<Bar> = Vec::<Baz>::new();
    let w = x as Qux;
    let s = S { a: 1 };
    let e = m::E::V { a: 1 };
    let c = |p: Quux| <Corge as Tr>::g(p);
    match v { Wrap(y) => y, a::B::C => 0, Self::D(_) | lower(_) => 1, T { .. } => 2 }
}
)");
  EXPECT_THAT(TypeRefs(fx), ElementsAre("other Foo", "body Foo::new", "body Vec", "body Bar",
                                        "body Vec::new", "body Baz", "body Qux", "body S",
                                        "body m::E::V", "body Quux", "body Tr::g", "body Corge",
                                        "body Wrap", "body a::B::C", "body Self::D", "body T"));
}

TEST(ReferencesTest, NoCallsOutsideBodies) {
  FileExtraction fx = Extract("struct S([u8; N]);\nfn f(x: [u8; size()]);\ntrait T { fn g(); }");
  EXPECT_THAT(fx.calls, IsEmpty());
}

TEST(ReferencesTest, ItemExtractionIsUnchangedByReferences) {
  // Reference collection must not add, drop or reorder items.
  FileExtraction fx =
      Extract("fn f() { assert!(g(|| { fn h() {} })); }\nconst X: u8 = match 1 { _ => 2 };");
  std::vector<std::string> paths;
  for (const ExtractedItem& it : fx.items) paths.push_back(it.rel_path);
  EXPECT_THAT(paths, ElementsAre("f", "X"));
}

// ---- Broken input.

TEST(ReferencesTest, BrokenCodeYieldsValidReferences) {
  const std::string source =
      "use a::{b, c::{d as e, *}};\nextern crate f as g;\n"
      "impl<T: Tr<U>> X<T> for Y where T: Z {\n"
      "  fn m(&self, p: &mut Vec<[Q; 2]>) -> Box<dyn Fn(A) -> B> {\n"
      "    let v = V::new()?; v.go(); self.run(); assert_eq!(k(p.len()), vec![j()]);\n"
      "    println!(\"{}\", s.f::<u8>(|x: &W| x.w()));\n  }\n}\n"
      "static S: Lazy<M> = Lazy::new(M::default);\n";
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::string broken = source;
    // Truncate, then delete or duplicate a few random bytes.
    broken.resize(rng() % (broken.size() + 1));
    for (int k = 0; k < 3 && !broken.empty(); ++k) {
      size_t at = rng() % broken.size();
      if (rng() % 2) {
        broken.erase(at, 1 + rng() % 4);
      } else {
        broken.insert(at, 1, "{}()<>:;,&!"[rng() % 11]);
      }
    }
    FileExtraction fx = Extract(broken);
    const int n = static_cast<int>(fx.items.size());
    for (const UseImport& u : fx.imports) {
      ASSERT_TRUE(u.item >= 0 && u.item < n) << broken;
      ASSERT_FALSE(u.path.empty()) << broken;
    }
    for (const TypeRef& r : fx.type_refs) {
      ASSERT_TRUE(r.item >= 0 && r.item < n) << broken;
      ASSERT_FALSE(r.path.empty()) << broken;
    }
    for (const CallRef& c : fx.calls) {
      // -1: a macro invoked in the file module's item position.
      ASSERT_TRUE((c.item >= 0 || (c.item == -1 && c.kind == CallKind::kMacro)) && c.item < n)
          << broken;
      ASSERT_FALSE(c.path.empty()) << broken;
      ASSERT_GE(c.line, 1u);
    }
  }
}

TEST(ReferencesTest, DeeplyNestedMacroArgumentsStayBounded) {
  std::string body;
  for (int i = 0; i < 40; ++i) body += "m!(f(";
  body += "x";
  for (int i = 0; i < 40; ++i) body += "))";
  // Deeper than any limit: 5000 nested groups must not exhaust the stack.
  FileExtraction deep =
      Extract("fn t() { m!(" + std::string(5000, '(') + std::string(5000, ')') + "); }");
  EXPECT_EQ(deep.calls.size(), 1u);
  FileExtraction fx = Extract("fn t() { " + body + "; }");
  EXPECT_FALSE(fx.calls.empty());
  EXPECT_LE(fx.calls.size(), 80u);
}

}  // namespace
}  // namespace ferrograph
