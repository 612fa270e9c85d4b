// Test fixture shared by gateway_test.cc and admin_test.cc: the in-process CDS of
// src/cds/test_support.h, plus issuing mesh credentials for any (tenant, deployment, instance)
// running a given build. Private to the tests.
#pragma once

#include <memory>
#include <string>

#include "lunal/mesh/tls.h"
#include "test_support.h"  // src/cds/test_support.h

namespace lunal::gateway::testing {

class MeshCdsFixture : public cds::testing::CdsFixture {
 protected:
  // A CDS certificate for (tenant, deployment, instance) running `build_hash`, as credentials;
  // remembers the CDS CA in ca_pem_.
  std::shared_ptr<mesh::MeshCredentials> Issue(const std::string& build_hash,
                                               const std::string& tenant,
                                               const std::string& deployment,
                                               const std::string& instance) {
    auto in = MakeInstance(build_hash);
    auto issued = cds_->IssueCertificate(Request(in, Nonce(), tenant, deployment, instance));
    EXPECT_TRUE(issued.ok()) << issued.error();
    if (!issued.ok()) return nullptr;
    ca_pem_ = issued->ca_pem;
    auto creds = mesh::MeshCredentials::Load(issued->certificate_pem, *in.key.ToPkcs8Pem());
    EXPECT_TRUE(creds.ok()) << creds.error();
    return creds.ok() ? *creds : nullptr;
  }

  std::string ca_pem_;
};

}  // namespace lunal::gateway::testing
