// The walk of the paging demos' marker, GVA 0x7f12345679a0 (guest-images/demos/paging_map.h),
// as the demo's own mapping makes it: four levels with the indices of the GVA's bits, a 4 KiB
// page at GPA 0xabc000, KVM_TRANSLATE agreeing, slot 0, the host page (as root) and the
// marker's bytes read back. Checked for the explain port and for ctl translate alike.
#pragma once

#include <regex>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

namespace minivmm::test {

inline bool matches(const std::string& text, const std::string& pattern) {
    return std::regex_search(text, std::regex(pattern));
}

// `w`: the explanation's lines after its first ("minivmm: explain GVA ...").
inline void expect_marker_walk(const std::string& w) {
    EXPECT_TRUE(matches(w, "PML4\\[254\\] at GPA 0x[0-9a-f]+: 0x[0-9a-f]{16} P W U .*-> PDPT at GPA"));
    EXPECT_TRUE(matches(w, "PDPT\\[ 72\\] at GPA 0x[0-9a-f]+: 0x[0-9a-f]{16} P W U .*-> PD at GPA"));
    EXPECT_TRUE(matches(w, "PD  \\[418\\] at GPA 0x[0-9a-f]+: 0x[0-9a-f]{16} P W U .*-> PT at GPA"));
    EXPECT_TRUE(matches(w, "PT  \\[359\\] at GPA 0x[0-9a-f]+: 0x0000000000abc0[0-9a-f]{2} P W U"
                           ".*-> 4 KiB page at GPA 0xabc000\n"))
        << w;
    EXPECT_NE(w.find("  GPA 0xabc9a0 (page offset 0x9a0; user, writable, executable)\n"),
              std::string::npos) << w;
    EXPECT_TRUE(matches(w, "KVM_TRANSLATE: GPA 0xabc9a0: agrees\n")) << w;
    EXPECT_TRUE(matches(w, "memory slot 0: GPA 0x0-0xffffff at HVA 0x[0-9a-f]+; offset 0xabc9a0 in it\n"))
        << w;
    if (::geteuid() == 0)
        EXPECT_TRUE(matches(w, "HPA 0x[0-9a-f]*9a0 \\(host page frame 0x[0-9a-f]+, from "
                               "/proc/self/pagemap\\)\n")) << w;
    else
        EXPECT_NE(w.find("HPA not shown: the kernel hides page frame numbers"), std::string::npos);
    EXPECT_NE(w.find("read through the HVA: 68 65 6c 6c 6f 20 66 72 6f 6d 20 61 20 47 56 41 "
                     "\"hello from a GVA\"\n"),
              std::string::npos) << w;
}

} // namespace minivmm::test
