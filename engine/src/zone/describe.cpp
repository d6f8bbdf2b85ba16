// The model-independent parts of the describer (describe.hpp).
#include <worldlog/zone/describe.hpp>

#include <cstdint>
#include <utility>

namespace worldlog::zone {

namespace json = boost::json;

json::string utf8_text(std::string_view text) {
  json::string valid;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<std::uint8_t>(text[i]);
    const std::size_t length = lead < 0x80             ? 1
                               : (lead & 0xe0) == 0xc0 ? 2
                               : (lead & 0xf0) == 0xe0 ? 3
                               : (lead & 0xf8) == 0xf0 ? 4
                                                       : 0;
    bool ok =
        length != 0 && i + length <= text.size() && !(lead == 0xc0 || lead == 0xc1) && lead <= 0xf4;
    for (std::size_t j = 1; ok && j < length; ++j)
      ok = (static_cast<std::uint8_t>(text[i + j]) & 0xc0) == 0x80;
    if (ok && length > 2) {
      // Overlong forms, surrogates and code points past U+10FFFF.
      const auto second = static_cast<std::uint8_t>(text[i + 1]);
      ok = !(lead == 0xe0 && second < 0xa0) && !(lead == 0xed && second >= 0xa0) &&
           !(lead == 0xf0 && second < 0x90) && !(lead == 0xf4 && second >= 0x90);
    }
    if (ok) {
      valid.append(text.substr(i, length));
      i += length;
    } else {
      valid.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return valid;
}

json::object typed(std::string_view type, json::object fields) {
  json::object described;
  described["type"] = type;
  for (auto& field : fields)
    described.emplace(field.key(), std::move(field.value()));
  return described;
}

} // namespace worldlog::zone
