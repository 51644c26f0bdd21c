// fmt's implementation, compiled once for the static build (MINIVMM_STATIC).
//
// Debian's libfmt-dev ships the library as a shared object only (no libfmt.a). Rather than
// define FMT_HEADER_ONLY everywhere, which compiles the whole implementation into every file
// that formats (the build became several times slower), the other files use fmt's headers as
// with the shared library, and this file defines what they link to: the functions of
// <fmt/format-inl.h> (not inline without FMT_HEADER_ONLY) and the templates that <fmt/format.h>
// declares `extern template`, instantiated here for char, the only character type we format.
#ifdef FMT_HEADER_ONLY
#error "fmt_compiled.cpp is for builds that do not use fmt header-only"
#endif
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template locale_ref::locale_ref(const std::locale& loc);
template auto locale_ref::get<std::locale>() const -> std::locale;
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl(locale_ref) -> char;
template void buffer<char>::append(const char*, const char*);
template void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>,
                         locale_ref);
}  // namespace detail
FMT_END_NAMESPACE
