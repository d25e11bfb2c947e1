#ifndef ODL_CPREFETCH_H
#define ODL_CPREFETCH_H

/// Cache prefetch hint for the forward pass's embedding gather (Swift has no prefetch
/// intrinsic). A hint only: it never faults and changes no value, whatever the address.
static inline void odl_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
