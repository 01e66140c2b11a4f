#pragma once

// Where the committer hands the answers of committed votes. The committer calls Deliver with a
// function that completes each waiting request (each request's responder then writes its
// answer); the sink decides how those answers leave. The HTTP side's sink (http_answers.hpp)
// sends a group's answers to their sockets in one system call; DirectAnswers lets each leave as
// it is completed. So the committer knows nothing of HTTP.

#include <cstddef>
#include <functional>

namespace civic::ballot {

class AnswerSink {
 public:
  virtual ~AnswerSink() = default;
  // Runs `complete`, which completes the requests of one or more commits; returns how many
  // answers left together (0: each left on its own). Called from the committer's answer thread.
  virtual size_t Deliver(const std::function<void()>& complete) = 0;
};

// Each answer leaves as its request is completed.
class DirectAnswers final : public AnswerSink {
 public:
  size_t Deliver(const std::function<void()>& complete) override {
    complete();
    return 0;
  }
};

}  // namespace civic::ballot
