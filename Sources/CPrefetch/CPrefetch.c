// The module's code is the inline function of include/CPrefetch.h; SwiftPM needs one source file.
#include "CPrefetch.h"
