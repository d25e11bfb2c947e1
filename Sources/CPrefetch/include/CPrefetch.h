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

#include <sched.h>

/// Moves the calling thread to SCHED_IDLE (Linux: it runs only when a CPU would otherwise idle).
/// Returns 0, or -1 where the policy is refused or unknown (the thread keeps its policy).
static inline int odl_thread_sched_idle(void) {
#if defined(__linux__)
    struct sched_param param = { 0 };
    return sched_setscheduler(0, 5 /* SCHED_IDLE */, &param);
#else
    return -1;
#endif
}

#endif
