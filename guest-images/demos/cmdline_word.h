/* The position just after "key" at the start of a word (space-separated) of `cmdline`, or 0.
 * Shared by the demo guests that read options from their command line. */
#pragma once

static inline const char* cmdline_word(const char* cmdline, const char* key) {
    for (const char* p = cmdline; *p; ++p) {
        if (p != cmdline && p[-1] != ' ') continue;
        const char *k = key, *q = p;
        while (*k && *q == *k) ++k, ++q;
        if (*k == 0) return q;
    }
    return 0;
}
