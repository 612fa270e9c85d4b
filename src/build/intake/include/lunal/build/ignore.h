// A gitignore matcher: the pattern language of gitignore(5) (git 2.39), written from that manual
// page and checked against `git check-ignore --no-index` in ignore_test.cc.
//
//   IgnoreMatcher m;
//   m.AddIgnoreFile(IgnoreFile::Parse(root_gitignore_text, ""));
//   m.AddIgnoreFile(IgnoreFile::Parse(sub_gitignore_text, "src/sub"));
//   bool out = m.IsIgnored("src/sub/x.o", /*is_dir=*/false);
//
// Paths are relative to the root, '/'-separated, without a trailing '/'; whether a path is a
// folder is the caller's knowledge (gitignore(5): a trailing '/' in a pattern matches folders
// only). Matching is byte-wise and case-sensitive (core.ignoreCase=false, as on Linux).
//
// Precedence (gitignore(5) "DESCRIPTION"): within one file the last matching pattern decides;
// a file in a deeper folder overrides the files above it; an override file (.lunalignore) set
// with SetOverride decides before every .gitignore. A path under an excluded folder is ignored
// whatever later patterns say ("It is not possible to re-include a file if a parent directory
// of that file is excluded").
//
// Matching cost is bounded: patterns with several '*' are matched with a memo of failed
// (pattern, text) positions, so hostile patterns cannot backtrack exponentially.
//
// Plain values; const methods are thread-safe, mutation is not.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lunal::build {

// Whether `pattern` matches all of `text` under git's wildmatch rules with WM_PATHNAME: '*' and
// '?' and "[...]" never match '/'; "**" between slashes (or at the start/end) matches across
// folders; '\' quotes the next character; "[!...]"/"[^...]" negate; "[:alpha:]"-style classes.
bool GlobMatch(std::string_view pattern, std::string_view text);

// The patterns of one ignore file.
class IgnoreFile {
 public:
  enum class Verdict { kNoMatch, kIgnored, kIncluded };

  IgnoreFile() = default;
  // `text`: the file's bytes (a UTF-8 BOM, "\r\n" line ends, comments, blank lines and trailing
  // unescaped spaces are handled as git does). `base`: the folder holding the file, relative to
  // the root ("" for the root, "a/b" otherwise); anchored patterns are relative to it and the
  // file says nothing about paths outside it. Never fails: gitignore(5) has no invalid lines
  // (a pattern that cannot match, like an unterminated "[", simply matches nothing).
  static IgnoreFile Parse(std::string_view text, std::string_view base);

  // The last pattern of this file matching `path` (relative to the root), if any.
  Verdict Match(std::string_view path, bool is_dir) const;

  const std::string& base() const { return base_; }
  std::size_t pattern_count() const { return patterns_.size(); }

 private:
  struct Pattern {
    std::string glob;            // leading '/' and trailing '/' removed
    bool negated = false;        // "!pattern"
    bool dir_only = false;       // "pattern/"
    bool basename_only = false;  // no '/' (other than a trailing one): matches at any depth
  };
  std::string base_;
  std::vector<Pattern> patterns_;
};

// The .gitignore files of a tree (at most one per folder) plus an optional override file.
class IgnoreMatcher {
 public:
  // Adds (or replaces) the .gitignore of file.base().
  void AddIgnoreFile(IgnoreFile file);
  // The top-level .lunalignore: consulted before every .gitignore (see above).
  void SetOverride(IgnoreFile file);

  // The verdict for `path` itself, assuming none of its parent folders is excluded: what a
  // walker that never descends into excluded folders needs.
  bool Excludes(std::string_view path, bool is_dir) const;
  // The verdict with the parent folders considered: true when any leading folder is excluded.
  bool IsIgnored(std::string_view path, bool is_dir) const;

 private:
  std::map<std::string, IgnoreFile, std::less<>> files_;  // keyed by base
  std::optional<IgnoreFile> override_;
};

}  // namespace lunal::build
