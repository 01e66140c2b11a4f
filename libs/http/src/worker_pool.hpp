// WorkerPool: the threads that run offloaded handlers (SQLite work, outbound HTTP), fed from a
// bounded queue so that an overloaded server answers 503 instead of queueing without end.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace civic::http {

// A bounded FIFO of jobs run by a fixed set of threads.
class WorkerPool {
 public:
  void Start(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Run(); });
    }
  }
  // Returns false when the queue is full or the pool stopped.
  bool Post(std::function<void()> job, size_t max_queued) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_ || queue_.size() >= max_queued) {
        return false;
      }
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
    for (auto& thread : threads_) {
      if (thread.joinable()) {
        thread.join();
      }
    }
    threads_.clear();
  }
  size_t queued() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
        if (queue_.empty()) {
          return;  // stopped and drained
        }
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;  // guards queue_ and stopped_
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace civic::http
