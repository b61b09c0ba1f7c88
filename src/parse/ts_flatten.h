// fg_ts_flatten: the visible nodes of a tree-sitter subtree in pre-order, as
// a TSTreeCursor walk records them, read straight from tree-sitter's subtree
// structures.
//
// A cursor step re-derives its position, alias and field from the cursor's
// stack, and a step past the last child climbs through hidden parents and
// back: about 500 instructions per node in tree-sitter 0.25, a sixth of
// parsing the file. This walk keeps that state per level instead (the
// parent's alias sequence and field map, the running position, the field
// inherited through hidden nodes), and gives the same nodes, handles,
// positions, symbols, fields and flags; flatten_test.cc checks it against
// the cursor on real crates, broken files included.
//
// It reads tree-sitter's internal headers (the vendored, pinned 0.25.1
// sources): an upgrade of tree-sitter must pass that test.
#ifndef FERROGRAPH_PARSE_TS_FLATTEN_H_
#define FERROGRAPH_PARSE_TS_FLATTEN_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tree_sitter/api.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FG_FLAT_NONE UINT32_MAX

typedef struct FgFlatNode {
  TSNode node;          // the tree-sitter handle, for the C API
  uint32_t start_byte;  // ts_node_start_byte(node)
  uint32_t end_byte;    // ts_node_end_byte(node)
  uint32_t next;        // one past the last node of this subtree
  uint32_t parent;      // index of the parent; FG_FLAT_NONE for the root
  TSSymbol symbol;      // ts_node_symbol(node) (aliases applied)
  TSFieldId field;      // field name under its parent; 0 for none
  bool named;           // ts_node_is_named(node)
  bool missing;         // ts_node_is_missing(node)
} FgFlatNode;

// Makes room for at least `min_capacity` nodes and returns the buffer (its
// first `*capacity` old nodes kept, `*capacity` set to the new size), or
// NULL when it cannot.
typedef FgFlatNode* (*FgFlatGrow)(void* context, size_t min_capacity, size_t* capacity);

// Writes `root`'s visible subtree into `nodes` (room for `capacity`),
// growing it through `grow`: index 0 is `root`; the root's children that
// start outside [begin, end) are kept as leaves (their insides not walked).
// Returns the number of nodes; 0 for a null root; SIZE_MAX when `grow`
// failed.
size_t fg_ts_flatten(TSNode root, uint32_t begin, uint32_t end, FgFlatNode* nodes, size_t capacity,
                     FgFlatGrow grow, void* context);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // FERROGRAPH_PARSE_TS_FLATTEN_H_
