// XXH_STATIC_LINKING_ONLY exposes XXH3_state_t's layout, so the caller can allocate the state
// itself (64-byte aligned) instead of through XXH3_createState.
#define XXH_STATIC_LINKING_ONLY
#include <stddef.h>
#include <xxhash.h>

/// The size of an XXH3 streaming state, for callers that allocate it themselves.
static inline size_t speculators_xxh3_state_size(void) { return sizeof(XXH3_state_t); }
