// allowed_signers parsing and the signer decision. Format: ssh-keygen(1) "ALLOWED SIGNERS";
// pattern-lists: ssh_config(5) "PATTERNS"; times: ssh-keygen(1) valid-after/valid-before.
#include "lunal/sign/allowed_signers.h"

#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <string>

#include "lunal/common/files.h"

namespace lunal::sign {
namespace {

constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;

// '*' matches any run, '?' one character (ssh_config(5) PATTERNS).
bool MatchPattern(std::string_view text, std::string_view pattern) {
  std::size_t t = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++t;
      ++p;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsKeyTypeName(std::string_view token) {
  return token == "ssh-ed25519" || token == "ecdsa-sha2-nistp256" ||
         token == "ecdsa-sha2-nistp384" || token == "ssh-rsa";
}

// One line, split into fields with 1-based columns. Quotes group spaces (principals, options).
class LineParser {
 public:
  LineParser(std::string_view source, int line_no, std::string_view line)
      : source_(source), line_no_(line_no), line_(line) {}

  std::string Where(std::size_t pos) const {
    return fmt::format("{}:{}:{}", source_, line_no_, pos + 1);
  }
  void SkipSpace() {
    while (pos_ < line_.size() && (line_[pos_] == ' ' || line_[pos_] == '\t')) ++pos_;
  }
  bool AtEnd() const { return pos_ >= line_.size(); }
  std::size_t pos() const { return pos_; }

  // The next field; double quotes keep spaces inside it. Sets *unterminated on a lone quote.
  std::string_view Field(bool* unterminated) {
    std::size_t start = pos_;
    bool quoted = false;
    while (pos_ < line_.size()) {
      char c = line_[pos_];
      if (c == '"') quoted = !quoted;
      if (!quoted && (c == ' ' || c == '\t')) break;
      ++pos_;
    }
    *unterminated = quoted;
    return line_.substr(start, pos_ - start);
  }
  std::string_view Rest() const { return line_.substr(pos_); }
  void Advance(std::size_t n) { pos_ += n; }

 private:
  std::string_view source_;
  int line_no_;
  std::string_view line_;
  std::size_t pos_ = 0;
};

// ssh-keygen(1): YYYYMMDD or YYYYMMDDHHMM[SS], optionally followed by Z for UTC.
std::optional<Timestamp> ParseSshTime(std::string_view text) {
  bool utc = !text.empty() && (text.back() == 'Z' || text.back() == 'z');
  if (utc) text.remove_suffix(1);
  if (text.size() != 8 && text.size() != 12 && text.size() != 14) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto num = [&text](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  if (text.size() >= 12) {
    tm.tm_hour = num(8, 2);
    tm.tm_min = num(10, 2);
  }
  if (text.size() == 14) tm.tm_sec = num(12, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_isdst = -1;
  std::tm wanted = tm;
  std::time_t t = utc ? ::timegm(&tm) : std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  // timegm/mktime normalise (Feb 31 becomes Mar 3): refuse dates that do not exist.
  if (tm.tm_mday != wanted.tm_mday || tm.tm_mon != wanted.tm_mon || tm.tm_year != wanted.tm_year) {
    return std::nullopt;
  }
  return FromUnixSeconds(static_cast<std::int64_t>(t));
}

// Options: comma-separated, no spaces outside quotes; values must be double-quoted.
Status ParseOptions(std::string_view options, std::size_t column0, const LineParser& lp,
                    AllowedSigner& entry) {
  std::size_t i = 0;
  while (i <= options.size()) {
    std::size_t start = i;
    bool quoted = false;
    while (i < options.size() && (quoted || options[i] != ',')) {
      if (options[i] == '"') quoted = !quoted;
      ++i;
    }
    std::string_view option = options.substr(start, i - start);
    std::string where = lp.Where(column0 + start);
    std::size_t eq = option.find('=');
    std::string_view name = option.substr(0, eq);
    if (eq == std::string_view::npos && EqualsIgnoreCase(name, "cert-authority")) {
      return Unsupported("sign.allowed_signers.cert_authority",
                         "{}: cert-authority entries are not supported (certificates are not "
                         "accepted as signers)",
                         where);
    }
    bool known = EqualsIgnoreCase(name, "namespaces") || EqualsIgnoreCase(name, "valid-after") ||
                 EqualsIgnoreCase(name, "valid-before");
    if (!known || eq == std::string_view::npos) {
      return Malformed("sign.allowed_signers.options.unknown",
                       "{}: unknown option \"{}\" (namespaces=\"...\", valid-after=\"...\", "
                       "valid-before=\"...\" are supported)",
                       where, option);
    }
    std::string_view value = option.substr(eq + 1);
    if (value.size() < 2 || value.front() != '"' || value.back() != '"') {
      return Malformed("sign.allowed_signers.options.missing_quote",
                       "{}: the value of {} must be in double quotes", where, name);
    }
    value = value.substr(1, value.size() - 2);
    if (EqualsIgnoreCase(name, "namespaces")) {
      if (entry.namespaces) {
        return Malformed("sign.allowed_signers.options.duplicate", "{}: namespaces given twice",
                         where);
      }
      entry.namespaces = std::string(value);
    } else {
      bool after = EqualsIgnoreCase(name, "valid-after");
      std::optional<Timestamp>& slot = after ? entry.valid_after : entry.valid_before;
      if (slot) {
        return Malformed("sign.allowed_signers.options.duplicate", "{}: {} given twice", where,
                         name);
      }
      slot = ParseSshTime(value);
      if (!slot) {
        return Malformed("sign.allowed_signers.options.bad_time",
                         "{}: {}=\"{}\" is not YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]", where, name,
                         value);
      }
    }
    ++i;  // past the comma (or the end)
  }
  return Status();
}

Result<AllowedSigner> ParseLine(std::string_view source, int line_no, std::string_view line,
                                std::size_t first) {
  LineParser lp(source, line_no, line);
  lp.Advance(first);
  bool unterminated = false;
  std::size_t principals_at = lp.pos();
  std::string_view principals = lp.Field(&unterminated);
  if (unterminated) {
    return Malformed("sign.allowed_signers.principals.unterminated_quote",
                     "{}: unterminated quote in principals", lp.Where(principals_at));
  }
  if (principals.size() >= 2 && principals.front() == '"' && principals.back() == '"') {
    principals = principals.substr(1, principals.size() - 2);
  }
  if (principals.empty() || principals.find('"') != std::string_view::npos) {
    return Malformed("sign.allowed_signers.principals.missing", "{}: expected principals",
                     lp.Where(principals_at));
  }
  lp.SkipSpace();
  std::size_t field_at = lp.pos();
  std::string_view field = lp.Field(&unterminated);
  if (unterminated) {
    return Malformed("sign.allowed_signers.options.missing_quote", "{}: unterminated quote",
                     lp.Where(field_at));
  }
  if (field.empty()) {
    return Malformed("sign.allowed_signers.key.missing", "{}: expected a key after principals",
                     lp.Where(field_at));
  }
  // The field after the principals is the options unless it is a key type. An unknown key type
  // is told from an unknown option by what follows: options are followed by a key type.
  LineParser peek = lp;
  peek.SkipSpace();
  bool ignored = false;
  bool next_is_key_type = IsKeyTypeName(peek.Field(&ignored));
  std::optional<std::string_view> options;
  if (!IsKeyTypeName(field) &&
      (next_is_key_type || field.find('=') != std::string_view::npos ||
       field.find(',') != std::string_view::npos || EqualsIgnoreCase(field, "cert-authority"))) {
    options = field;
    lp.SkipSpace();
  }
  std::size_t options_at = field_at;
  std::size_t key_at = options ? lp.pos() : field_at;
  if (options && lp.AtEnd()) {
    return Malformed("sign.allowed_signers.key.missing", "{}: expected a key after the options",
                     lp.Where(key_at));
  }
  std::string_view key_text = options ? lp.Rest() : line.substr(field_at);
  auto key = SshPublicKey::FromOpenSshLine(key_text);
  if (!key.ok()) return std::move(key).error().WithContext(lp.Where(key_at));
  AllowedSigner entry{.line = line_no,
                      .principals = std::string(principals),
                      .namespaces = std::nullopt,
                      .valid_after = std::nullopt,
                      .valid_before = std::nullopt,
                      .key = std::move(*key)};
  if (options) LUNAL_RETURN_IF_ERROR(ParseOptions(*options, options_at, lp, entry));
  return entry;
}

}  // namespace

bool MatchPatternList(std::string_view text, std::string_view pattern_list) {
  bool positive = false;
  std::size_t start = 0;
  while (start <= pattern_list.size()) {
    std::size_t comma = pattern_list.find(',', start);
    if (comma == std::string_view::npos) comma = pattern_list.size();
    std::string_view pattern = pattern_list.substr(start, comma - start);
    bool negated = !pattern.empty() && pattern[0] == '!';
    if (negated) pattern.remove_prefix(1);
    if (MatchPattern(text, pattern)) {
      if (negated) return false;  // a matching negation overrides everything (ssh_config(5))
      positive = true;
    }
    start = comma + 1;
  }
  return positive;
}

Result<AllowedSigners> AllowedSigners::Parse(std::string_view text, std::string_view source) {
  if (text.size() > kMaxFileBytes) {
    return ResourceExhausted("sign.allowed_signers.too_large", "{}: larger than {} bytes", source,
                             kMaxFileBytes);
  }
  AllowedSigners signers;
  int line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    LUNAL_ASSIGN_OR_RETURN(AllowedSigner entry, ParseLine(source, line_no, line, first));
    signers.entries_.push_back(std::move(entry));
  }
  return signers;
}

Result<AllowedSigners> AllowedSigners::Load(const std::string& path) {
  auto text =
      ReadFile(path, {.max_bytes = kMaxFileBytes, .require_private = false, .no_follow = false});
  if (!text.ok()) return std::move(text).error();
  return Parse(*text, path);
}

Result<const AllowedSigner*> AllowedSigners::Authorize(std::string_view identity,
                                                       const SshPublicKey& key,
                                                       std::string_view namespace_,
                                                       Timestamp as_of) const {
  std::optional<Status> refusal;
  for (const AllowedSigner& entry : entries_) {
    if (entry.key != key || !MatchPatternList(identity, entry.principals)) continue;
    if (entry.namespaces && !MatchPatternList(namespace_, *entry.namespaces)) {
      refusal = VerificationFailed("sign.signer.namespace_not_allowed",
                                   "line {}: key {} may sign for \"{}\" only in namespaces \"{}\", "
                                   "not \"{}\"",
                                   entry.line, key.Id().fingerprint, identity, *entry.namespaces,
                                   namespace_);
      continue;
    }
    if (entry.valid_after && as_of < *entry.valid_after) {
      refusal =
          VerificationFailed("sign.signer.not_yet_valid", "line {}: valid after {}, now {}",
                             entry.line, FormatRfc3339(*entry.valid_after), FormatRfc3339(as_of));
      continue;
    }
    if (entry.valid_before && as_of > *entry.valid_before) {
      refusal =
          VerificationFailed("sign.signer.expired", "line {}: valid before {}, now {}", entry.line,
                             FormatRfc3339(*entry.valid_before), FormatRfc3339(as_of));
      continue;
    }
    return &entry;
  }
  if (refusal) return *refusal;
  return VerificationFailed("sign.signer.not_allowed",
                            "no allowed_signers entry lists key {} for identity \"{}\"",
                            key.Id().fingerprint, identity);
}

Result<VerifiedSignature> VerifyWithAllowedSigners(
    ByteSpan message, std::string_view armored_signature, const AllowedSigners& signers,
    std::string_view identity, std::string_view expected_namespace, Timestamp as_of) {
  LUNAL_ASSIGN_OR_RETURN(SshSignature sig, ParseArmoredSshSignature(armored_signature));
  LUNAL_RETURN_IF_ERROR(VerifySshSignature(sig, message, expected_namespace));
  LUNAL_ASSIGN_OR_RETURN(const AllowedSigner* entry,
                         signers.Authorize(identity, sig.public_key, sig.namespace_, as_of));
  return VerifiedSignature{.key_id = sig.public_key.Id(),
                           .key_type = std::string(SshKeyTypeName(sig.public_key.type())),
                           .signature_type = sig.signature_type,
                           .hash_algorithm = sig.hash_algorithm,
                           .namespace_ = sig.namespace_,
                           .identity = std::string(identity),
                           .allowed_signers_line = entry->line};
}

}  // namespace lunal::sign
