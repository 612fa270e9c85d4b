// ParseTdReport: TDREPORT_STRUCT by its layout table (td_report.h).
#include "lunal/attest/tdx/td_report.h"

#include "lunal/common/byte_reader.h"

namespace lunal::attest::tdx {

Result<TdReportView> ParseTdReport(ByteSpan bytes) {
  namespace t = tdreport;
  if (bytes.size() != t::kSize) {
    return Malformed("tdx.tdreport.bad_size", "a TDREPORT is {} bytes, have {}", t::kSize,
                     bytes.size());
  }
  ByteReader r(bytes);
  TdReportView v;
  LUNAL_ASSIGN_OR_RETURN(auto type, Take<t::kReportType>(r, "tdx.tdreport.report_type"));
  v.type = type[0];
  v.subtype = type[1];
  v.version = type[2];
  if (v.type != t::kTypeTdx) {
    return Malformed("tdx.tdreport.bad_type", "REPORTTYPE.TYPE is 0x{:02x}, want 0x81 (TDX)",
                     v.type);
  }
  LUNAL_RETURN_IF_ERROR(r.Skip(t::kReserved0.size, "tdx.tdreport.reserved"));
  LUNAL_ASSIGN_OR_RETURN(v.cpu_svn, Take<t::kCpuSvn>(r, "tdx.tdreport.cpu_svn"));
  LUNAL_RETURN_IF_ERROR(
      r.Skip(t::kTeeTcbInfoHash.size + t::kTeeInfoHash.size, "tdx.tdreport.hashes"));
  LUNAL_ASSIGN_OR_RETURN(v.report_data, Take<t::kReportData>(r, "tdx.tdreport.report_data"));
  LUNAL_RETURN_IF_ERROR(r.Skip(t::kReserved1.size, "tdx.tdreport.reserved"));
  LUNAL_ASSIGN_OR_RETURN(v.mac, Take<t::kMac>(r, "tdx.tdreport.mac"));
  LUNAL_RETURN_IF_ERROR(r.Skip(t::kTcbValid.size, "tdx.tdreport.tee_tcb_info.valid"));
  LUNAL_ASSIGN_OR_RETURN(v.tee_tcb_svn, Take<t::kTeeTcbSvn>(r, "tdx.tdreport.tee_tcb_svn"));
  LUNAL_ASSIGN_OR_RETURN(v.mr_seam, Take<t::kMrSeam>(r, "tdx.tdreport.mr_seam"));
  LUNAL_ASSIGN_OR_RETURN(v.mr_signer_seam,
                         Take<t::kMrSignerSeam>(r, "tdx.tdreport.mr_signer_seam"));
  LUNAL_ASSIGN_OR_RETURN(v.seam_attributes,
                         Take<t::kSeamAttributes>(r, "tdx.tdreport.seam_attributes"));
  LUNAL_RETURN_IF_ERROR(r.Skip(t::kTdAttributes.offset - r.position(), "tdx.tdreport.reserved"));
  LUNAL_ASSIGN_OR_RETURN(v.td_attributes, Take<t::kTdAttributes>(r, "tdx.tdreport.td_attributes"));
  LUNAL_ASSIGN_OR_RETURN(v.xfam, Take<t::kXfam>(r, "tdx.tdreport.xfam"));
  LUNAL_ASSIGN_OR_RETURN(v.mr_td, Take<t::kMrTd>(r, "tdx.tdreport.mr_td"));
  LUNAL_ASSIGN_OR_RETURN(v.mr_config_id, Take<t::kMrConfigId>(r, "tdx.tdreport.mr_config_id"));
  LUNAL_ASSIGN_OR_RETURN(v.mr_owner, Take<t::kMrOwner>(r, "tdx.tdreport.mr_owner"));
  LUNAL_ASSIGN_OR_RETURN(v.mr_owner_config,
                         Take<t::kMrOwnerConfig>(r, "tdx.tdreport.mr_owner_config"));
  LUNAL_ASSIGN_OR_RETURN(v.rtmr[0], Take<t::kRtmr0>(r, "tdx.tdreport.rtmr0"));
  LUNAL_ASSIGN_OR_RETURN(v.rtmr[1], Take<t::kRtmr1>(r, "tdx.tdreport.rtmr1"));
  LUNAL_ASSIGN_OR_RETURN(v.rtmr[2], Take<t::kRtmr2>(r, "tdx.tdreport.rtmr2"));
  LUNAL_ASSIGN_OR_RETURN(v.rtmr[3], Take<t::kRtmr3>(r, "tdx.tdreport.rtmr3"));
  LUNAL_ASSIGN_OR_RETURN(v.servtd_hash, Take<t::kServTdHash>(r, "tdx.tdreport.servtd_hash"));
  return v;
}

}  // namespace lunal::attest::tdx
