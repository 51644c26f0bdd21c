// Tests of firmware/acpi/aml: byte encodings checked against ACPI 6.5 §20.2 and §6.4.
#include "acpi/aml.hpp"

#include <gtest/gtest.h>

namespace minivmm::acpi {
namespace {

using B = AmlBytes;

TEST(AmlPkgLength, OneByteUpTo63) {
    EXPECT_EQ(aml_pkg_length(0), (B{0x01}));
    EXPECT_EQ(aml_pkg_length(62), (B{0x3f}));
}

TEST(AmlPkgLength, MultiByteEncodingCountsItself) {
    // 63 content bytes + 2 length bytes = 65 = 0x41: lead 0x40 | 0x1, then 0x41 >> 4.
    EXPECT_EQ(aml_pkg_length(63), (B{0x41, 0x04}));
    EXPECT_EQ(aml_pkg_length(0xffd), (B{0x4f, 0xff}));      // 0xfff total
    EXPECT_EQ(aml_pkg_length(0xffe), (B{0x81, 0x00, 0x01})); // 0x1001 total
    EXPECT_EQ(aml_pkg_length(0x100000), (B{0xc4, 0x00, 0x00, 0x01}));
}

TEST(AmlNameString, PadsSegmentsAndEncodesPrefixes) {
    EXPECT_EQ(aml_name_string("COM1"), (B{'C', 'O', 'M', '1'}));
    EXPECT_EQ(aml_name_string("_S5"), (B{'_', 'S', '5', '_'}));
    EXPECT_EQ(aml_name_string("\\_SB_"), (B{'\\', '_', 'S', 'B', '_'}));
    EXPECT_EQ(aml_name_string("\\_SB.COM1"),
              (B{'\\', 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1'}));
    EXPECT_EQ(aml_name_string("A.B.C"), (B{0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C',
                                           '_', '_', '_'}));
}

TEST(AmlInteger, UsesTheSmallestEncoding) {
    EXPECT_EQ(aml_integer(0), (B{0x00}));
    EXPECT_EQ(aml_integer(1), (B{0x01}));
    EXPECT_EQ(aml_integer(5), (B{0x0a, 0x05}));
    EXPECT_EQ(aml_integer(0x3f8), (B{0x0b, 0xf8, 0x03}));
    EXPECT_EQ(aml_integer(0xd0000000), (B{0x0c, 0x00, 0x00, 0x00, 0xd0}));
    EXPECT_EQ(aml_integer(0x100000000), (B{0x0e, 0, 0, 0, 0, 1, 0, 0, 0}));
}

TEST(AmlEisaId, CompressesPnpIds) {
    EXPECT_EQ(aml_eisa_id("PNP0501"), (B{0x0c, 0x41, 0xd0, 0x05, 0x01})); // 0x0105d041
    EXPECT_EQ(aml_eisa_id("PNP0A03"), (B{0x0c, 0x41, 0xd0, 0x0a, 0x03}));
}

TEST(AmlString, IsNulTerminated) {
    EXPECT_EQ(aml_string("AB"), (B{0x0d, 'A', 'B', 0x00}));
}

TEST(AmlPackage, HasLengthAndElementCount) {
    EXPECT_EQ(aml_package({aml_integer(5), aml_integer(0)}),
              (B{0x12, 0x05, 0x02, 0x0a, 0x05, 0x00}));
}

TEST(AmlName, DeviceAndScopeWrapTheirTerms) {
    EXPECT_EQ(aml_name("_UID", aml_integer(0)), (B{0x08, '_', 'U', 'I', 'D', 0x00}));
    EXPECT_EQ(aml_device("COM1", {}), (B{0x5b, 0x82, 0x05, 'C', 'O', 'M', '1'}));
    EXPECT_EQ(aml_scope("\\_SB_", {aml_integer(1)}),
              (B{0x10, 0x07, '\\', '_', 'S', 'B', '_', 0x01}));
}

TEST(AmlResources, DescriptorsMatchTheSpecLayouts) {
    EXPECT_EQ(aml_io(0x3f8, 8), (B{0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08}));
    EXPECT_EQ(aml_irq_no_flags(4), (B{0x22, 0x10, 0x00}));
    EXPECT_EQ(aml_memory32_fixed(0xd0001000, 0x200),
              (B{0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00}));
    EXPECT_EQ(aml_interrupt(5), (B{0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00}));
}

TEST(AmlResources, TemplateIsABufferEndingWithEndTag) {
    // Buffer(PkgLength, BufferSize 5, IRQNoFlags {4}, EndTag).
    EXPECT_EQ(aml_resource_template({aml_irq_no_flags(4)}),
              (B{0x11, 0x08, 0x0a, 0x05, 0x22, 0x10, 0x00, 0x79, 0x00}));
}

} // namespace
} // namespace minivmm::acpi
