#include "lunal/net/errors.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lunal::net {
namespace {

struct MappingCase {
  Code code;
  int http_status;
};

// Every Code, so adding one without deciding its HTTP status fails here.
const std::vector<MappingCase> kMapping = {
    {Code::kInvalidArgument, 400},   {Code::kMalformed, 400},
    {Code::kUnsupported, 422},       {Code::kVerificationFailed, 422},
    {Code::kPolicyViolation, 403},   {Code::kUnavailable, 503},
    {Code::kNotFound, 404},          {Code::kPermissionDenied, 403},
    {Code::kUnauthenticated, 401},   {Code::kConflict, 409},
    {Code::kResourceExhausted, 413}, {Code::kDeadlineExceeded, 504},
    {Code::kInternal, 500},
};

TEST(HttpErrorsTest, EveryCodeHasItsStatusAndJsonBody) {
  ASSERT_EQ(kMapping.size(), static_cast<std::size_t>(Code::kInternal));  // all but kOk
  for (const MappingCase& c : kMapping) {
    SCOPED_TRACE(std::string(CodeName(c.code)));
    EXPECT_EQ(HttpStatusFor(c.code), c.http_status);
    Status status(c.code, "test.some_reason", "details 42");
    HttpResponse response = ErrorResponse(status);
    EXPECT_EQ(response.status, c.http_status);
    EXPECT_EQ(response.Header("content-type"), "application/json");
    nlohmann::json body = nlohmann::json::parse(response.body);
    EXPECT_EQ(body["error"]["code"], std::string(CodeName(c.code)));
    if (c.code == Code::kInternal) {
      EXPECT_EQ(body["error"]["reason"], "internal");
      EXPECT_EQ(body["error"]["message"], "internal error");
    } else {
      EXPECT_EQ(body["error"]["reason"], "test.some_reason");
      EXPECT_EQ(body["error"]["message"], "details 42");
    }
  }
}

TEST(HttpErrorsTest, InternalErrorsDoNotLeak) {
  Status status = Internal("db.pool.exhausted", "connection to postgres://admin:pw@10.0.0.5 lost");
  HttpResponse response = ErrorResponse(status);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("postgres"), std::string::npos) << response.body;
  EXPECT_EQ(response.body.find("db.pool"), std::string::npos) << response.body;
  EXPECT_EQ(response.body,
            R"({"error":{"code":"internal","message":"internal error","reason":"internal"}})");
}

TEST(HttpErrorsTest, OkStatusIsTreatedAsInternal) {
  HttpResponse response = ErrorResponse(Status::Ok());
  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find(R"("reason":"internal")"), std::string::npos);
}

TEST(HttpErrorsTest, ReasonRefinements) {
  EXPECT_EQ(HttpStatusFor(ResourceExhausted("api.tokens.rate_limited", "slow down")), 429);
  EXPECT_EQ(HttpStatusFor(ResourceExhausted("http.header_too_large", "x")), 431);
  EXPECT_EQ(HttpStatusFor(ResourceExhausted("http.body_too_large", "x")), 413);
  EXPECT_EQ(HttpStatusFor(DeadlineExceeded("http.request_timeout", "x")), 408);
  EXPECT_EQ(HttpStatusFor(DeadlineExceeded("pcs.fetch.timeout", "x")), 504);
  EXPECT_EQ(HttpStatusFor(InvalidArgument("http.method_not_allowed", "x")), 405);
  // A refinement applies only to its code.
  EXPECT_EQ(HttpStatusFor(NotFound("x.rate_limited", "x")), 404);
}

TEST(HttpErrorsTest, UnauthenticatedAdvertisesBearer) {
  HttpResponse response = ErrorResponse(Unauthenticated("api.token.missing", "no token"));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.Header("WWW-Authenticate"), "Bearer");
}

TEST(HttpErrorsTest, InvalidUtf8InMessageDoesNotThrow) {
  HttpResponse response = ErrorResponse(Malformed("x.y", "bad byte \xff here"));
  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(nlohmann::json::accept(response.body));
}

TEST(HttpErrorsTest, StatusRoundTripsThroughErrorBody) {
  for (const MappingCase& c : kMapping) {
    if (c.code == Code::kInternal) continue;
    SCOPED_TRACE(std::string(CodeName(c.code)));
    Status original(c.code, "tdx.qe_report.signature_invalid", "the \"quote\" is bad");
    HttpResponse response = ErrorResponse(original);
    Status back = StatusFromErrorBody(response.status, response.body);
    EXPECT_EQ(back, original) << back.ToString();
  }
  Status internal = StatusFromErrorBody(500, ErrorResponse(Internal("a.b", "secret")).body);
  EXPECT_EQ(internal.code(), Code::kInternal);
  EXPECT_EQ(internal.reason(), "internal");
  EXPECT_EQ(internal.message(), "internal error");
}

TEST(HttpErrorsTest, NonLunalErrorBodiesFallBackToTheHttpStatus) {
  Status proxy = StatusFromErrorBody(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(proxy.code(), Code::kUnavailable);
  EXPECT_EQ(proxy.reason(), "net.http_error");
  EXPECT_NE(proxy.message().find("502"), std::string::npos);
  EXPECT_NE(proxy.message().find("Bad Gateway"), std::string::npos);

  EXPECT_EQ(StatusFromErrorBody(404, "").code(), Code::kNotFound);
  EXPECT_EQ(StatusFromErrorBody(429, "{}").code(), Code::kResourceExhausted);
  EXPECT_EQ(StatusFromErrorBody(418, "teapot").code(), Code::kInvalidArgument);
  EXPECT_EQ(StatusFromErrorBody(599, "").code(), Code::kInternal);
  // Wrong shapes: error not an object, reason not a string, empty reason.
  EXPECT_EQ(StatusFromErrorBody(403, R"({"error": "nope"})").reason(), "net.http_error");
  EXPECT_EQ(StatusFromErrorBody(403, R"({"error": {"reason": 7}})").reason(), "net.http_error");
  EXPECT_EQ(StatusFromErrorBody(403, R"({"error": {"reason": ""}})").reason(), "net.http_error");
  // An unknown code name keeps the reason, takes the code from the HTTP status.
  Status unknown = StatusFromErrorBody(409, R"({"error": {"code": "brand_new", "reason": "x.y"}})");
  EXPECT_EQ(unknown.code(), Code::kConflict);
  EXPECT_EQ(unknown.reason(), "x.y");
  // "ok" is not an error code.
  EXPECT_EQ(StatusFromErrorBody(400, R"({"error": {"code": "ok", "reason": "x.y"}})").code(),
            Code::kInvalidArgument);
  // Control characters in a quoted body are neutralised.
  EXPECT_EQ(StatusFromErrorBody(500, "a\x1b[31mb").message(), "HTTP 500: a?[31mb");
}

TEST(HttpErrorsTest, SuccessIsNotAnError) {
  Status status = StatusFromErrorBody(200, "{}");
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.reason(), "net.not_an_error");
}

}  // namespace
}  // namespace lunal::net
