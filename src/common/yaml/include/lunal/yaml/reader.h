// Strict, position-aware reading of yaml-cpp nodes for schema parsers (the appraisal policy,
// lunal.config.yaml). Every error names "<source>:<line>:<column>: <field>: ..." and carries a
// stable reason "<prefix>.<what>", where the prefix is the caller's ("policy", "config"):
//
//   <prefix>.syntax        the text is not YAML (Load)
//   <prefix>.encoding      the text is not UTF-8 (Load)
//   <prefix>.wrong_type    a mapping, list, number, boolean or string was expected; also keys that
//                          are not strings and keys with no value
//   <prefix>.unknown_key   a key the schema does not know (the message suggests the closest known
//                          key: `did you mean "x"?`)
//   <prefix>.duplicate_key a key given twice in one mapping
//   <prefix>.bad_value     a value of the right type outside its range or set
//
// Booleans must be plain `true`/`false` (YAML 1.1's yes/no/on/off are refused) and numbers plain
// decimal digits, so a value never silently changes meaning between YAML versions.
//
// Two modes. By default the first error stops the walk and is returned (the policy parser). With
// CollectErrors(&sink), every error is also recorded as a Diagnostic, and ForEachEntry /
// ForEachElement record and skip a failing entry instead of stopping, so one pass reports every
// error in a document (lunal config validate).
//
// yaml-cpp is part of this interface: include it only from parser implementations, never from
// a component's public headers. A Reader is cheap, not thread-safe, and borrows nothing.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::yaml {

// Levenshtein distance (insertions, deletions, substitutions; each costs 1).
std::size_t EditDistance(std::string_view a, std::string_view b);
// The known name closest to `key` if it is close enough to be a plausible typo (at most 2 edits,
// or a third of the longer name), else nullopt.
std::optional<std::string_view> ClosestName(std::string_view key,
                                            std::span<const std::string_view> known);

// "a.b" from ("a", "b"); "b" from ("", "b").
std::string FieldPath(std::string_view parent, std::string_view key);

// One error with its parts kept apart (for tables of errors and --json output).
struct Diagnostic {
  std::string reason;      // "config.unknown_key"
  std::string source;      // the file name given to the Reader
  std::size_t line = 0;    // 1-based; 0 when the error has no position
  std::size_t column = 0;  // 1-based; 0 when the error has no position
  std::string field;       // "autoscaling.metrics[1].target"; empty for the whole document
  std::string message;     // without the position and field
  // "<source>:<line>:<column>: <field>: <message>", the same text as the Status message.
  std::string ToString() const;
};

class Reader {
 public:
  Reader(std::string_view source, std::string_view reason_prefix)
      : source_(source), prefix_(reason_prefix) {}

  // Every later error is also appended to *sink, and walks continue past failing entries.
  void CollectErrors(std::vector<Diagnostic>* sink) { sink_ = sink; }

  const std::string& source() const { return source_; }
  // "<prefix>.<what>".
  std::string Reason(std::string_view what) const;

  // Parses `text` (one document, UTF-8). Errors: <prefix>.encoding at the first byte that is not
  // UTF-8; <prefix>.syntax with the position yaml-cpp reports.
  Result<YAML::Node> Load(std::string_view text) const;

  // "<source>:<line>:<column>" of a node (1-based).
  std::string Where(const YAML::Mark& mark) const;
  // An InvalidArgument error "<where of at>: <field or (document)>: <message>" (recorded when
  // collecting). `reason` is the full reason ("policy.bad_value").
  Status Error(std::string reason, const YAML::Node& at, std::string_view field,
               std::string_view message) const;
  Status ErrorAt(std::string reason, const YAML::Mark& mark, std::string_view field,
                 std::string_view message) const;

  using EntryFn = std::function<Status(std::string_view key, const YAML::Node& value,
                                       const std::string& field)>;
  // `node` must be a mapping whose keys are scalars from `known`, each at most once; calls `fn`
  // for each entry in document order. An unknown key's error suggests the closest known one.
  Status ForEachEntry(const YAML::Node& node, std::string_view field,
                      std::span<const std::string_view> known, const EntryFn& fn) const;
  // `node` must be a sequence; calls `fn` for each element with the field "field[i]".
  Status ForEachElement(
      const YAML::Node& node, std::string_view field,
      const std::function<Status(const YAML::Node&, const std::string&)>& fn) const;

  // Scalars. Booleans and numbers must be plain (unquoted) scalars: "true"/"false" only (not
  // YAML 1.1's yes/no/on/off), decimal digits only, at most `max`.
  Result<bool> Bool(const YAML::Node& node, std::string_view field) const;
  Result<std::uint64_t> Uint(const YAML::Node& node, std::string_view field,
                             std::uint64_t max) const;
  // As Uint, and at least `min` (bad_value "must be between min and max").
  Result<std::uint64_t> UintInRange(const YAML::Node& node, std::string_view field,
                                    std::uint64_t min, std::uint64_t max) const;
  Result<std::string> String(const YAML::Node& node, std::string_view field) const;
  // Hex of exactly `size` bytes (either case).
  Result<Bytes> Hex(const YAML::Node& node, std::string_view field, std::size_t size) const;

  // "expected <want>, got <kind of node>" as <prefix>.wrong_type.
  Status WrongType(const YAML::Node& node, std::string_view field, std::string_view want) const;

 private:
  // Runs `fn`; when collecting, a failure is recorded (if fn did not record it already) and
  // swallowed so that the walk continues.
  Status Continue(const std::function<Status()>& fn) const;

  std::string source_;
  std::string prefix_;
  std::vector<Diagnostic>* sink_ = nullptr;
};

// "a mapping", "a list", "null", "a plain scalar", "a quoted string".
std::string_view KindName(const YAML::Node& node);

}  // namespace lunal::yaml
