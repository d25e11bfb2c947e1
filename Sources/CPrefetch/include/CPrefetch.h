#ifndef ODL_CPREFETCH_H
#define ODL_CPREFETCH_H

/// Cache prefetch hint for the forward pass's embedding gather (Swift has no prefetch
/// intrinsic). A hint only: it never faults and changes no value, whatever the address.
static inline void odl_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#include <stddef.h>

/// Rewrites one byte of every page of [start, start + length) with its own value, through
/// volatile accesses so the compiler keeps the writes: breaks copy-on-write of a private file
/// mapping before the first real write there. Not atomic: the caller must exclude every other
/// writer (and reader) of these bytes for the duration (ParameterStore holds its write lock).
static inline void odl_touch_pages_for_write(void *start, size_t length, size_t page) {
    volatile unsigned char *p = (volatile unsigned char *)start;
    if (length == 0 || page == 0) return;
    for (size_t off = 0; off < length; off += page) { p[off] = p[off]; }
    p[length - 1] = p[length - 1];
}

#endif
