#pragma once

// GET /v1/receipts/{receipt}: whether a vote with this receipt is counted, held or rejected
// (public; the receipt is its own proof, verified against the vote log's row).

#include "civic/http/message.hpp"
#include "crypto.hpp"
#include "vote_log.hpp"

namespace civic::ballot {

class GetReceipt {
 public:
  GetReceipt(const VoteReader& reader, const Keys& crypto) : reader_(reader), crypto_(crypto) {}
  http::Response operator()(const http::Request& request);

 private:
  const VoteReader& reader_;
  const Keys& crypto_;
};

}  // namespace civic::ballot
