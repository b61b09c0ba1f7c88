// See ts_flatten.h. The rules are tree_cursor.c's (tree-sitter 0.25.1):
// ts_tree_cursor_child_iterator_next for positions and visibility,
// ts_tree_cursor_goto_first_child for which hidden nodes are entered,
// ts_tree_cursor_current_node for aliases, ts_tree_cursor_current_field_id
// for fields.
#include "parse/ts_flatten.h"

#include <stdlib.h>

// tree-sitter's own (lib/src), on this target's include path only.
#include "language.h"
#include "length.h"
#include "subtree.h"
#include "tree.h"

// A node whose children are being walked: a visible node, or a hidden one
// whose visible descendants count as children of its nearest visible
// ancestor.
typedef struct {
  const Subtree* subtree;
  uint32_t child_index;       // the next child
  uint32_t structural_index;  // the next child's index among the non-extra ones
  Length position;            // where the next child starts
  const TSSymbol* aliases;    // by structural index; NULL for none
  const TSFieldMapEntry* fields;
  const TSFieldMapEntry* fields_end;
  uint32_t visible;     // index of the node itself (visible) or of its nearest visible ancestor
  TSFieldId inherited;  // hidden: the field its own children take when they have none
  bool hidden;
} Frame;

static TSFieldId FieldOf(const Frame* f, uint32_t structural_index) {
  for (const TSFieldMapEntry* m = f->fields; m < f->fields_end; m++)
    if (!m->inherited && m->child_index == structural_index) return m->field_id;
  return 0;
}

// The field of f's child at `structural_index` (none for an extra):
// its own in f's field map, else, under a hidden f, the one f was given
// (ts_tree_cursor_current_field_id, which climbs through hidden parents).
static TSFieldId ChildField(const Frame* f, uint32_t structural_index, bool extra) {
  if (extra) return 0;
  TSFieldId field = FieldOf(f, structural_index);
  if (field == 0 && f->hidden) field = f->inherited;
  return field;
}

static void Enter(Frame* f, const TSLanguage* language, const Subtree* subtree, Length position,
                  uint32_t visible, TSFieldId inherited, bool hidden) {
  f->subtree = subtree;
  f->child_index = 0;
  f->structural_index = 0;
  f->position = position;
  const uint32_t production = subtree->ptr->production_id;
  f->aliases = ts_language_alias_sequence(language, production);
  ts_language_field_map(language, production, &f->fields, &f->fields_end);
  f->visible = visible;
  f->inherited = inherited;
  f->hidden = hidden;
}

size_t fg_ts_flatten(TSNode root, uint32_t begin, uint32_t end, FgFlatNode* nodes, size_t capacity,
                     FgFlatGrow grow, void* context) {
  if (ts_node_is_null(root)) return 0;
  const TSTree* tree = root.tree;
  const TSLanguage* language = tree->language;
  const bool whole = begin == 0 && end == UINT32_MAX;
  size_t count = 0;
  size_t depth = 0, max_depth = 64;
  Frame* stack = malloc(max_depth * sizeof(Frame));
  if (stack == NULL) return SIZE_MAX;
#define FG_ROOM()                                        \
  do {                                                   \
    if (count >= capacity) {                             \
      nodes = grow(context, count + 1, &capacity);       \
      if (nodes == NULL || capacity <= count) goto fail; \
    }                                                    \
  } while (0)
#define FG_DEEPER()                                                  \
  do {                                                               \
    if (depth == max_depth) {                                        \
      Frame* bigger = realloc(stack, 2 * max_depth * sizeof(Frame)); \
      if (bigger == NULL) goto fail;                                 \
      stack = bigger;                                                \
      max_depth *= 2;                                                \
    }                                                                \
  } while (0)

  FG_ROOM();
  nodes[0] = (FgFlatNode){root,
                          ts_node_start_byte(root),
                          ts_node_end_byte(root),
                          1,
                          FG_FLAT_NONE,
                          ts_node_symbol(root),
                          0,
                          ts_node_is_named(root),
                          ts_node_is_missing(root)};
  count = 1;
  const Subtree* root_subtree = (const Subtree*)root.id;
  if (ts_subtree_child_count(*root_subtree) == 0) {
    free(stack);
    return count;
  }
  Length root_position = {ts_node_start_byte(root), ts_node_start_point(root)};
  Enter(&stack[depth++], language, root_subtree, root_position, 0, 0, false);

  while (depth > 0) {
    Frame* f = &stack[depth - 1];
    const uint32_t child_count = f->subtree->ptr->child_count;
    if (f->child_index == child_count) {
      if (!f->hidden) nodes[f->visible].next = (uint32_t)count;
      --depth;
      continue;
    }
    const Subtree* children = ts_subtree_children(*f->subtree);
    const Subtree* child = &children[f->child_index];
    const Length position = f->position;
    const uint32_t structural = f->structural_index;
    const bool extra = ts_subtree_extra(*child);
    bool visible = ts_subtree_visible(*child);
    TSSymbol alias = 0;
    if (!extra) {
      if (f->aliases) {
        alias = f->aliases[structural];
        visible |= alias != 0;
      }
      f->structural_index++;
    }
    f->position = length_add(position, ts_subtree_size(*child));
    f->child_index++;
    if (f->child_index < child_count)
      f->position = length_add(f->position, ts_subtree_padding(children[f->child_index]));

    if (visible) {
      const TSFieldId field = ChildField(f, structural, extra);
      FG_ROOM();
      const uint32_t index = (uint32_t)count;
      const uint32_t size = ts_subtree_size(*child).bytes;
      nodes[index] = (FgFlatNode){
          ts_node_new(tree, child, position, alias),
          position.bytes,
          position.bytes + size,
          index + 1,
          f->visible,
          ts_language_public_symbol(language, alias ? alias : ts_subtree_symbol(*child)),
          field,
          alias ? ts_language_symbol_metadata(language, alias).named : ts_subtree_named(*child),
          ts_subtree_missing(*child)};
      ++count;
      const bool outside =
          !whole && f->visible == 0 && (position.bytes < begin || position.bytes >= end);
      if (!outside && ts_subtree_child_count(*child) > 0) {
        FG_DEEPER();  // f is stale from here
        Enter(&stack[depth++], language, child, position, index, 0, false);
      }
    } else if (ts_subtree_visible_child_count(*child) > 0) {
      // Entered like ts_tree_cursor_goto_first_child does: its visible
      // descendants are the children of f's visible node, and a child of it
      // without a field of its own takes this node's.
      const TSFieldId inherited = ChildField(f, structural, extra);
      const uint32_t visible_ancestor = f->visible;
      FG_DEEPER();  // f is stale from here
      Enter(&stack[depth++], language, child, position, visible_ancestor, inherited, true);
    }
  }
  free(stack);
  return count;

fail:
  free(stack);
  return SIZE_MAX;
#undef FG_ROOM
#undef FG_DEEPER
}
