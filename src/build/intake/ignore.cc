// gitignore(5) patterns. Section names below are those of the git 2.39 manual page
// ("PATTERN FORMAT", "NOTES"); the matching rules of '*', '?', "[...]" and "**" follow its
// "PATTERN FORMAT" list and fnmatch(3) with FNM_PATHNAME, as git's wildmatch applies them.
#include "lunal/build/ignore.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

namespace lunal::build {
namespace {

// One match of a glob against a text, with an optional memo of failed (pattern, text) positions
// once the pattern has two or more stars (the only case where backtracking can blow up).
class Glob {
 public:
  Glob(std::string_view p, std::string_view t) : p_(p), t_(t) {
    if (std::count(p.begin(), p.end(), '*') >= 2) {
      failed_.assign((p.size() + 1) * (t.size() + 1), false);
    }
  }
  bool Run() { return Match(0, 0); }

 private:
  bool Match(std::size_t pi, std::size_t ti) {
    if (failed_.empty()) return MatchAt(pi, ti);
    std::size_t key = pi * (t_.size() + 1) + ti;
    if (failed_[key]) return false;
    bool ok = MatchAt(pi, ti);
    if (!ok) failed_[key] = true;
    return ok;
  }

  bool MatchAt(std::size_t pi, std::size_t ti) {
    while (pi < p_.size()) {
      char c = p_[pi];
      if (c == '*') return Star(pi, ti);
      if (ti >= t_.size()) return false;
      if (c == '?') {
        if (t_[ti] == '/') return false;
        ++pi;
        ++ti;
        continue;
      }
      if (c == '[') {
        std::size_t next = 0;
        if (!Bracket(pi, t_[ti], &next)) return false;
        pi = next;
        ++ti;
        continue;
      }
      if (c == '\\') {
        ++pi;  // a trailing '\' matches nothing (git's wildmatch aborts on it)
        if (pi >= p_.size()) return false;
        c = p_[pi];
      }
      if (t_[ti] != c) return false;
      ++pi;
      ++ti;
    }
    return ti == t_.size();
  }

  // '*' never crosses '/'; "**" does when it stands alone between slashes or pattern ends
  // ("PATTERN FORMAT": leading "**/", trailing "/**", and "/**/"); any other run of stars is "*".
  bool Star(std::size_t pi, std::size_t ti) {
    std::size_t start = pi;
    while (pi < p_.size() && p_[pi] == '*') ++pi;
    bool double_star = pi - start >= 2 && (start == 0 || p_[start - 1] == '/') &&
                       (pi == p_.size() || p_[pi] == '/');
    if (double_star) {
      if (pi == p_.size()) return true;  // "/**" or "**": everything below
      // "**/": zero or more whole folders, then the rest after the '/'.
      if (Match(pi + 1, ti)) return true;
      for (std::size_t i = ti; i < t_.size(); ++i) {
        if (t_[i] == '/' && Match(pi + 1, i + 1)) return true;
      }
      return false;
    }
    if (pi == p_.size()) return t_.find('/', ti) == std::string_view::npos;
    for (std::size_t i = ti; i <= t_.size(); ++i) {
      if (Match(pi, i)) return true;
      if (i < t_.size() && t_[i] == '/') break;
    }
    return false;
  }

  static bool InClass(std::string_view name, unsigned char ch) {
    if (name == "alnum") return std::isalnum(ch);
    if (name == "alpha") return std::isalpha(ch);
    if (name == "blank") return ch == ' ' || ch == '\t';
    if (name == "cntrl") return std::iscntrl(ch);
    if (name == "digit") return std::isdigit(ch);
    if (name == "graph") return std::isgraph(ch);
    if (name == "lower") return std::islower(ch);
    if (name == "print") return std::isprint(ch);
    if (name == "punct") return std::ispunct(ch);
    if (name == "space") return std::isspace(ch);
    if (name == "upper") return std::isupper(ch);
    if (name == "xdigit") return std::isxdigit(ch);
    return false;
  }

  // "[...]" at p_[pi]: sets *next past the ']' and says whether `ch` is in the set. An
  // unterminated bracket or an unknown "[:class:]" matches nothing, as in git.
  bool Bracket(std::size_t pi, char ch, std::size_t* next) {
    auto uch = static_cast<unsigned char>(ch);
    std::size_t i = pi + 1;
    bool negate = false;
    if (i < p_.size() && (p_[i] == '!' || p_[i] == '^')) {
      negate = true;
      ++i;
    }
    bool matched = false;
    bool first = true;
    int prev = -1;  // the previous single character, for ranges
    while (true) {
      if (i >= p_.size()) return false;
      char c = p_[i];
      if (c == ']' && !first) break;
      first = false;
      if (c == '\\') {
        if (++i >= p_.size()) return false;
        c = p_[i];
      } else if (c == '-' && prev >= 0 && i + 1 < p_.size() && p_[i + 1] != ']') {
        ++i;
        char hi = p_[i];
        if (hi == '\\') {
          if (++i >= p_.size()) return false;
          hi = p_[i];
        }
        if (uch >= prev && uch <= static_cast<unsigned char>(hi)) matched = true;
        prev = -1;
        ++i;
        continue;
      } else if (c == '[' && i + 1 < p_.size() && p_[i + 1] == ':') {
        std::size_t end = p_.find(":]", i + 2);
        if (end == std::string_view::npos) return false;
        std::string_view name = p_.substr(i + 2, end - i - 2);
        static constexpr std::string_view kClasses[] = {"alnum", "alpha", "blank", "cntrl",
                                                        "digit", "graph", "lower", "print",
                                                        "punct", "space", "upper", "xdigit"};
        if (std::find(std::begin(kClasses), std::end(kClasses), name) == std::end(kClasses)) {
          return false;
        }
        if (InClass(name, uch)) matched = true;
        prev = -1;
        i = end + 2;
        continue;
      }
      if (static_cast<unsigned char>(c) == uch) matched = true;
      prev = static_cast<unsigned char>(c);
      ++i;
    }
    *next = i + 1;
    if (ch == '/') return false;  // FNM_PATHNAME: a bracket never matches '/'
    return matched != negate;
  }

  std::string_view p_;
  std::string_view t_;
  std::vector<bool> failed_;
};

// "PATTERN FORMAT": "Trailing spaces are ignored unless they are quoted with backslash".
std::string_view TrimTrailingSpaces(std::string_view line) {
  std::size_t keep = 0;  // length up to the last non-space (or escaped) character
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      ++i;
      keep = i + 1;
    } else if (line[i] != ' ') {
      keep = i + 1;
    }
  }
  return line.substr(0, keep);
}

std::string_view Basename(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  return Glob(pattern, text).Run();
}

IgnoreFile IgnoreFile::Parse(std::string_view text, std::string_view base) {
  IgnoreFile file;
  file.base_ = std::string(base);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 BOM, as git skips
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // "A blank line matches no files"; "A line starting with # serves as a comment".
    if (line.empty() || line.front() == '#') continue;
    line = TrimTrailingSpaces(line);
    if (line.empty()) continue;
    Pattern p;
    // "An optional prefix "!" which negates the pattern"; "\!" is a literal '!', left for the
    // glob to unquote.
    if (line.front() == '!') {
      p.negated = true;
      line.remove_prefix(1);
    }
    // "If there is a separator at the end of the pattern then the pattern will only match
    // directories".
    if (!line.empty() && line.back() == '/') {
      p.dir_only = true;
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    // "If there is a separator at the beginning or middle (or both) of the pattern, then the
    // pattern is relative to the directory level of the particular .gitignore file itself.
    // Otherwise the pattern may also match at any level below the .gitignore level."
    p.basename_only = line.find('/') == std::string_view::npos;
    if (line.front() == '/') line.remove_prefix(1);
    p.glob = std::string(line);
    file.patterns_.push_back(std::move(p));
  }
  return file;
}

IgnoreFile::Verdict IgnoreFile::Match(std::string_view path, bool is_dir) const {
  std::string_view relative = path;
  if (!base_.empty()) {
    if (path.size() <= base_.size() || path.substr(0, base_.size()) != base_ ||
        path[base_.size()] != '/') {
      return Verdict::kNoMatch;
    }
    relative = path.substr(base_.size() + 1);
  }
  // "within one level of precedence, the last matching pattern decides the outcome".
  for (auto it = patterns_.rbegin(); it != patterns_.rend(); ++it) {
    if (it->dir_only && !is_dir) continue;
    bool hit =
        it->basename_only ? GlobMatch(it->glob, Basename(relative)) : GlobMatch(it->glob, relative);
    if (hit) return it->negated ? Verdict::kIncluded : Verdict::kIgnored;
  }
  return Verdict::kNoMatch;
}

void IgnoreMatcher::AddIgnoreFile(IgnoreFile file) {
  std::string base = file.base();
  files_.insert_or_assign(std::move(base), std::move(file));
}

void IgnoreMatcher::SetOverride(IgnoreFile file) { override_ = std::move(file); }

bool IgnoreMatcher::Excludes(std::string_view path, bool is_dir) const {
  if (override_) {
    IgnoreFile::Verdict v = override_->Match(path, is_dir);
    if (v != IgnoreFile::Verdict::kNoMatch) return v == IgnoreFile::Verdict::kIgnored;
  }
  // Deepest .gitignore first: "the higher level files ... being overridden by those in lower
  // level files down to the directory containing the file".
  std::string_view dir = path;
  while (true) {
    std::size_t slash = dir.rfind('/');
    dir = slash == std::string_view::npos ? std::string_view() : dir.substr(0, slash);
    if (auto it = files_.find(dir); it != files_.end()) {
      IgnoreFile::Verdict v = it->second.Match(path, is_dir);
      if (v != IgnoreFile::Verdict::kNoMatch) return v == IgnoreFile::Verdict::kIgnored;
    }
    if (dir.empty()) return false;
  }
}

bool IgnoreMatcher::IsIgnored(std::string_view path, bool is_dir) const {
  for (std::size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (Excludes(path.substr(0, slash), true)) return true;
  }
  return Excludes(path, is_dir);
}

}  // namespace lunal::build
