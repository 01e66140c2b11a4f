#include "http_answers.hpp"

#include "civic/http/server.hpp"

namespace civic::ballot {

size_t HttpAnswers::Deliver(const std::function<void()>& complete) {
  http::WriteBatch writes;
  complete();
  return writes.Send();
}

}  // namespace civic::ballot
