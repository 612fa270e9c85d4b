// Test support: the TDX rows of ../shared/evidence/README.md's "Expected results" table, and
// helpers that locate and edit fields of real quotes (offsets come from a parsed QuoteView, never
// from hand-typed numbers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/quote.h"
#include "lunal/common/bytes.h"

namespace lunal::attest::tdx::testing {

struct EvidenceQuote {
  std::string path;  // relative to ../shared/evidence
  Container container;
  std::uint16_t version;
  BodyType body_type;
  std::string mr_td_prefix;  // the README's "MRTD" column
  bool debug;                // the README's "debug" column
  bool nonzero_trailing;     // bytes after the quote that are not zero padding
};

// gtest prints a parameter by its path.
inline void PrintTo(const EvidenceQuote& quote, std::ostream* os) { *os << quote.path; }

// Every TDX row of the README table (14 files).
const std::vector<EvidenceQuote>& EvidenceQuotes();

// Reads ../shared/evidence/<path> (fails the test if missing).
Bytes ReadEvidence(std::string_view path);

// A real quote file's bytes, parsed; for the mutation tests.
std::string_view Quote4Path();  // v4, TD1.0, no padding
std::string_view Quote5Path();  // v5, TD1.5, no padding

// Absolute offsets of a parsed quote's structures within `base` (the buffer it was parsed from).
struct Offsets {
  std::size_t body;           // TD report body
  std::size_t body_end;       // = signature data length field
  std::size_t sig_data;       // signature data (after the u32 length)
  std::size_t cert_header;    // outer certification data header (type 6)
  std::size_t qe_report;      // = outer certification data contents
  std::size_t auth_size;      // QE auth data size (u16)
  std::size_t nested_header;  // nested certification data header (type 5)
  std::size_t pem;            // PCK chain bytes
  std::size_t end;            // end of the quote
};
Offsets OffsetsOf(const QuoteView& view, ByteSpan base);

// Little-endian field edits for mutations.
std::uint32_t GetU32(const Bytes& bytes, std::size_t offset);
void PutU16(Bytes& bytes, std::size_t offset, std::uint16_t value);
void PutU32(Bytes& bytes, std::size_t offset, std::uint32_t value);

// Number of "-----BEGIN CERTIFICATE-----" lines in a PEM text.
std::size_t CountPemCertificates(std::string_view pem);

}  // namespace lunal::attest::tdx::testing
