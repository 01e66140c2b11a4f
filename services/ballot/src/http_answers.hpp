#pragma once

// The HTTP side's AnswerSink: the answers completed by one Deliver are collected in an
// http::WriteBatch and go to their sockets together (one io_uring submission where the kernel
// allows it; see libs/http).

#include "answer_sink.hpp"

namespace civic::ballot {

class HttpAnswers final : public AnswerSink {
 public:
  size_t Deliver(const std::function<void()>& complete) override;
};

}  // namespace civic::ballot
