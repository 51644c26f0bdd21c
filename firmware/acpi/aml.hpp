// A tiny AML byte writer (ACPI 6.5 §20.2 AML grammar, §6.4 resource descriptors): just the
// terms minivmm's DSDT needs. Each function returns the encoded bytes of one term, so terms nest
// by value: aml_scope("\\_SB_", {aml_device("COM1", {...})}).
//
// Names and other arguments are minivmm's own constants, not guest or user input; a malformed
// one is a programming error and hits MINIVMM_ASSERT.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace minivmm::acpi {

using AmlBytes = std::vector<uint8_t>;
using AmlTerms = std::vector<AmlBytes>;

// §20.2.4 PkgLength for `content_length` bytes that follow it (the encoding counts itself).
AmlBytes aml_pkg_length(uint64_t content_length);
// §20.2.2 NameString: optional root prefix '\', then NameSegs joined by '.'; a segment shorter
// than 4 characters is padded with '_' ("_S5" -> "_S5_").
AmlBytes aml_name_string(std::string_view path);

// §20.2.3 data objects.
AmlBytes aml_integer(uint64_t value);      // ZeroOp, OneOp or the smallest Byte..QWord prefix
AmlBytes aml_string(std::string_view text); // StringPrefix, ASCII, NUL
AmlBytes aml_eisa_id(std::string_view id);  // "PNP0501" compressed to a DWord (§6.1.5 _HID)
AmlBytes aml_package(const AmlTerms& elements);
AmlBytes aml_buffer(const AmlBytes& data);

// §20.2.5 named objects and namespace modifiers.
AmlBytes aml_name(std::string_view name, const AmlBytes& value); // Name(name, value)
AmlBytes aml_scope(std::string_view path, const AmlTerms& terms); // Scope(path) { terms }
AmlBytes aml_device(std::string_view name, const AmlTerms& terms); // Device(name) { terms }

// §6.4 resource descriptors, combined by aml_resource_template into a Buffer with an End Tag.
AmlBytes aml_io(uint16_t base, uint8_t length);   // §6.4.2.5 IO(Decode16, base, base, 0, length)
AmlBytes aml_irq_no_flags(uint8_t irq);            // §6.4.2.1 IRQNoFlags() {irq}, irq < 16
AmlBytes aml_memory32_fixed(uint32_t base, uint32_t length); // §6.4.3.4 ReadWrite
// §6.4.3.6 Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) {gsi}
AmlBytes aml_interrupt(uint32_t gsi);
AmlBytes aml_resource_template(const AmlTerms& descriptors);

} // namespace minivmm::acpi
