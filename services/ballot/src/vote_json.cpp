#include "vote_json.hpp"

#include <simdjson.h>
#include <cstdint>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "civic/domain/validation.hpp"
#include "civic/http/problem.hpp"

namespace civic::ballot {

namespace {

using nlohmann::json;

// Reads votes from SAX events. A vote object's members live at `vote_depth` (1 for a single vote,
// 3 inside {"votes":[...]}); containers that are not expected are skipped whole.
class VoteReader {
 public:
  VoteReader(bool batch, ParsedVotes& out) : batch_(batch), out_(out) {}

  bool null() { return Scalar(Value::kNull); }
  bool boolean(bool) { return Scalar(Value::kOther); }
  bool number_integer(json::number_integer_t v) {
    integer_ = v;
    return Scalar(Value::kInteger);
  }
  bool number_unsigned(json::number_unsigned_t v) {
    integer_ = v > static_cast<json::number_unsigned_t>(std::numeric_limits<int64_t>::max())
                   ? std::numeric_limits<int64_t>::max()
                   : static_cast<int64_t>(v);
    return Scalar(Value::kInteger);
  }
  bool number_float(json::number_float_t, const json::string_t&) { return Scalar(Value::kOther); }
  bool string(json::string_t& s) {
    string_ = &s;
    return Scalar(Value::kString);
  }
  bool binary(json::binary_t&) { return Scalar(Value::kOther); }
  bool key(json::string_t& k) {
    if (skip_below_ == 0) {
      key_ = k;
    }
    return true;
  }
  bool start_object(std::size_t) { return Open(true); }
  bool start_array(std::size_t) { return Open(false); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    out_.syntax_offset = position;
    return false;
  }

  // After a successful parse: the shape checks that need the whole body.
  void Finish() {
    if (out_.shape_error) {
      return;
    }
    if (batch_ && !votes_seen_) {
      out_.shape_error = Error::Invalid("votes", "must be an array of votes");
    } else if (batch_ && out_.votes.empty()) {
      out_.shape_error =
          Error::Invalid("votes", "must hold 1 to " + std::to_string(kMaxBatchVotes) + " votes");
    }
  }

 private:
  enum class Value { kNull, kInteger, kString, kOther, kContainer };

  int VoteDepth() const { return batch_ ? 3 : 1; }

  bool Scalar(Value value) {
    if (skip_below_ != 0) {
      return true;
    }
    if (depth_ == 0) {
      out_.shape_error = Error::Invalid("", "the body must be a JSON object");
      return false;
    }
    if (batch_ && depth_ == 2) {
      return Element(false);
    }
    if (depth_ == VoteDepth()) {
      Field(value);
    } else if (batch_ && depth_ == 1 && key_ == "votes") {
      out_.shape_error = Error::Invalid(
          "votes", votes_seen_ ? "is given more than once" : "must be an array of votes");
    }
    return true;
  }

  bool Open(bool object) {
    if (skip_below_ != 0) {
      ++depth_;
      return true;
    }
    if (depth_ == 0) {
      if (!object) {
        out_.shape_error = Error::Invalid("", "the body must be a JSON object");
        return false;
      }
      depth_ = 1;
      if (!batch_) {
        BeginVote();
      }
      return true;
    }
    if (batch_ && depth_ == 1 && key_ == "votes") {
      if (votes_seen_) {  // a second array would be read on top of the first
        out_.shape_error = Error::Invalid("votes", "is given more than once");
        return false;
      }
      if (object) {
        out_.shape_error = Error::Invalid("votes", "must be an array of votes");
        return Skip();
      }
      votes_seen_ = true;
      depth_ = 2;
      return true;
    }
    if (batch_ && depth_ == 2) {
      if (!Element(object)) {
        return false;
      }
      if (!object) {
        return Skip();
      }
      depth_ = 3;
      return true;
    }
    if (depth_ == VoteDepth()) {
      Field(Value::kContainer);
    }
    return Skip();
  }

  bool Close() {
    if (skip_below_ != 0) {
      if (--depth_ < skip_below_) {
        skip_below_ = 0;
      }
      return true;
    }
    if (depth_ == VoteDepth()) {
      EndVote();
    }
    --depth_;
    return true;
  }

  // Skips the container just opened (depth_ counts it).
  bool Skip() {
    ++depth_;
    skip_below_ = depth_;
    return true;
  }

  // An element of the votes array: an object starts a vote, anything else is invalid.
  bool Element(bool object) {
    if (out_.votes.size() >= kMaxBatchVotes) {
      out_.shape_error =
          Error::Invalid("votes", "must hold 1 to " + std::to_string(kMaxBatchVotes) + " votes");
      return false;
    }
    if (object) {
      BeginVote();
      return true;
    }
    ParsedVote invalid;
    invalid.errors.push_back(
        {"votes[" + std::to_string(out_.votes.size()) + "]", "must be an object"});
    out_.votes.push_back(std::move(invalid));
    return true;
  }

  void BeginVote() {
    out_.votes.emplace_back();
    prefix_ = batch_ ? "votes[" + std::to_string(out_.votes.size() - 1) + "]." : std::string();
    seen_award_ = seen_voter_ = seen_nomination_ = seen_nominee_ = false;
    present_ = 0;
    key_.clear();
  }

  void TypeError(const char* field, const char* reason) {
    out_.votes.back().errors.push_back({prefix_ + field, reason});
  }

  void Integer(Value value, const char* field, int64_t& out, bool& seen) {
    if (value == Value::kNull) {
      return;  // reported as missing
    }
    seen = true;
    if (value != Value::kInteger) {
      TypeError(field, "must be an integer");
      return;
    }
    out = integer_;
  }

  // Whether the vote's member named key_ came before; marks it as come. Only the members the
  // vote reads count: a repeated one would leave which value counts to the parser.
  bool Repeated() {
    static constexpr std::string_view kMembers[] = {"voter",      "nomination", "nominee", "award",
                                                    "client_ref", "device",     "address"};
    for (size_t i = 0; i < std::size(kMembers); ++i) {
      if (key_ == kMembers[i]) {
        const auto bit = static_cast<uint8_t>(1U << i);
        const bool before = (present_ & bit) != 0;
        present_ |= bit;
        return before;
      }
    }
    return false;
  }

  void Field(Value value) {
    ParsedVote& parsed = out_.votes.back();
    VoteInput& vote = parsed.vote;
    if (Repeated()) {
      TypeError(key_.c_str(), "is given more than once");
      return;
    }
    if (key_ == "voter") {
      if (value == Value::kNull) {
        return;
      }
      seen_voter_ = true;
      if (value != Value::kString) {
        TypeError("voter", "must be a string");
        return;
      }
      vote.voter = std::move(*string_);
    } else if (key_ == "nomination") {
      Integer(value, "nomination", vote.nomination_id, seen_nomination_);
    } else if (key_ == "nominee") {
      Integer(value, "nominee", vote.nominee_id, seen_nominee_);
    } else if (batch_ && key_ == "award") {
      Integer(value, "award", vote.award_id, seen_award_);
    } else if (key_ == "client_ref") {
      OptionalString(value, "client_ref", vote.client_ref);
    } else if (key_ == "device") {
      OptionalString(value, "device", vote.device);
    } else if (key_ == "address") {
      OptionalString(value, "address", vote.address);
    }
  }

  void OptionalString(Value value, const char* field, std::optional<std::string>& out) {
    if (value == Value::kNull) {
      out.reset();
    } else if (value != Value::kString) {
      TypeError(field, "must be a string");
    } else {
      out = std::move(*string_);
    }
  }

  void EndVote() {
    ParsedVote& parsed = out_.votes.back();
    const auto required = [&](bool seen, const char* field) {
      if (seen) {
        return;
      }
      const std::string name = prefix_ + field;
      for (const auto& error : parsed.errors) {
        if (error.field == name) {
          return;  // already has its reason (given more than once)
        }
      }
      parsed.errors.push_back({name, "is required"});
    };
    if (batch_) {
      required(seen_award_, "award");
    }
    required(seen_voter_, "voter");
    required(seen_nomination_, "nomination");
    required(seen_nominee_, "nominee");
    if (parsed.errors.empty()) {
      if (batch_ && !IdInRange(parsed.vote.award_id)) {
        parsed.errors.push_back(
            {prefix_ + "award", "must be an integer from 1 to " + std::to_string(kMaxId)});
      }
      ValidateVote(parsed.vote, prefix_, parsed.errors);
    }
  }

  const bool batch_;
  ParsedVotes& out_;
  int depth_ = 0;
  int skip_below_ = 0;  // > 0: inside a skipped container opened at this depth
  bool votes_seen_ = false;
  std::string key_;
  std::string prefix_;
  int64_t integer_ = 0;
  json::string_t* string_ = nullptr;
  bool seen_award_ = false;
  bool seen_voter_ = false;
  bool seen_nomination_ = false;
  bool seen_nominee_ = false;
  uint8_t present_ = 0;  // Repeated()'s marks
};

// Walks a body that simdjson's DOM parser has read and validated whole, giving VoteReader the
// SAX events nlohmann's parser gives it, in the same order, stopping where a handler says stop.
// Any body simdjson refuses (a syntax error, malformed UTF-8, a lone surrogate, a number it
// cannot hold, a byte-order mark, nesting past its depth limit) is left to nlohmann's parser,
// which reads it again from its start with a fresh reader: so this path never decides what a
// body outside it means, and the syntax offsets and errors are nlohmann's.
//
// The DOM API rather than On-Demand: Debian's simdjson 3.0.1 dispatches the DOM parser at run
// time to the machine's best kernels (AVX2, AVX-512), where On-Demand, compiled into this file
// for the baseline x86-64 target, would run the scalar fallback; and the DOM parser checks the
// whole body, trailing bytes included, before any event is given.
class SimdjsonSax {
 public:
  static constexpr size_t kKeptParserBytes = 64 * 1024;

  enum class Result { kParsed, kStopped, kLeftToParser };

  explicit SimdjsonSax(VoteReader& reader) : reader_(reader) {}

  Result Run(std::string_view body) {
    // A parser keeps buffers of about 15 bytes per byte of the largest body it read. Each
    // thread keeps one for single votes and small batches; a larger batch (up to 1 MiB) gets
    // its own, freed after it, so that no thread holds ~15 MiB for the rest of the process.
    thread_local simdjson::dom::parser small_parser;
    std::optional<simdjson::dom::parser> large_parser;
    simdjson::dom::parser* parser = &small_parser;
    if (body.size() > kKeptParserBytes) {
      parser = &large_parser.emplace();
    }
    simdjson::dom::element root;
    if (parser->parse(body.data(), body.size(), /*realloc_if_needed=*/true).get(root) !=
        simdjson::SUCCESS) {
      return Result::kLeftToParser;
    }
    switch (Walk(root)) {
      case Step::kOk:
        return Result::kParsed;
      case Step::kStop:
        return Result::kStopped;
      case Step::kBail:
        break;
    }
    return Result::kLeftToParser;
  }

 private:
  enum class Step { kOk, kStop, kBail };

  Step Walk(simdjson::dom::element element) {
    using Type = simdjson::dom::element_type;
    switch (element.type()) {
      case Type::OBJECT: {
        if (!reader_.start_object(static_cast<std::size_t>(-1))) {
          return Step::kStop;
        }
        simdjson::dom::object object;
        if (element.get_object().get(object) != simdjson::SUCCESS) {
          return Step::kBail;
        }
        for (const simdjson::dom::key_value_pair member : object) {
          std::string key(member.key);
          if (!reader_.key(key)) {
            return Step::kStop;
          }
          if (const Step step = Walk(member.value); step != Step::kOk) {
            return step;
          }
        }
        return reader_.end_object() ? Step::kOk : Step::kStop;
      }
      case Type::ARRAY: {
        if (!reader_.start_array(static_cast<std::size_t>(-1))) {
          return Step::kStop;
        }
        simdjson::dom::array array;
        if (element.get_array().get(array) != simdjson::SUCCESS) {
          return Step::kBail;
        }
        for (const simdjson::dom::element item : array) {
          if (const Step step = Walk(item); step != Step::kOk) {
            return step;
          }
        }
        return reader_.end_array() ? Step::kOk : Step::kStop;
      }
      case Type::STRING: {
        json::string_t text(element.get_string().value_unsafe());
        return reader_.string(text) ? Step::kOk : Step::kStop;
      }
      case Type::INT64:
        return reader_.number_integer(element.get_int64().value_unsafe()) ? Step::kOk : Step::kStop;
      case Type::UINT64:
        return reader_.number_unsigned(element.get_uint64().value_unsafe()) ? Step::kOk
                                                                            : Step::kStop;
      case Type::DOUBLE:
        return reader_.number_float(element.get_double().value_unsafe(), {}) ? Step::kOk
                                                                             : Step::kStop;
      case Type::BOOL:
        return reader_.boolean(element.get_bool().value_unsafe()) ? Step::kOk : Step::kStop;
      case Type::NULL_VALUE:
        return reader_.null() ? Step::kOk : Step::kStop;
    }
    return Step::kBail;
  }

  VoteReader& reader_;
};

// What a parse that ended (ok: at the end of the body) leaves in `out`, read by `reader`.
void Conclude(ParsedVotes& out, VoteReader& reader, bool ok) {
  if (ok) {
    reader.Finish();
  } else if (!out.shape_error && !out.syntax_offset) {
    out.syntax_offset = 0;
  }
  if (out.shape_error || out.syntax_offset) {
    out.votes.clear();
  }
}

void AppendInt(std::string& out, int64_t v) { out += std::to_string(v); }

// "counted" (new), "already_counted", "held" (new or again), "rejected" (again).
const char* StandingName(const VoteOutcome& outcome) {
  switch (outcome.standing) {
    case Standing::kHeld:
      return "held";
    case Standing::kRejected:
      return "rejected";
    case Standing::kCounted:
      break;
  }
  return outcome.kind == VoteOutcome::Kind::kCreated ? "counted" : "already_counted";
}

}  // namespace

std::optional<ParsedVotes> FastParseVotes(std::string_view body, bool batch) {
  ParsedVotes out;
  VoteReader reader(batch, out);
  const SimdjsonSax::Result result = SimdjsonSax(reader).Run(body);
  if (result == SimdjsonSax::Result::kLeftToParser) {
    return std::nullopt;
  }
  Conclude(out, reader, result == SimdjsonSax::Result::kParsed);
  return out;
}

ParsedVotes ReferenceParseVotes(std::string_view body, bool batch) {
  ParsedVotes out;
  VoteReader reader(batch, out);
  Conclude(out, reader, json::sax_parse(body, &reader));
  return out;
}

namespace {

ParsedVotes Parse(std::string_view body, bool batch) {
  if (std::optional<ParsedVotes> fast = FastParseVotes(body, batch)) {
    return std::move(*fast);
  }
  return ReferenceParseVotes(body, batch);
}

}  // namespace

ParsedVotes ParseVoteBody(std::string_view body) { return Parse(body, false); }

ParsedVotes ParseBatchBody(std::string_view body) { return Parse(body, true); }

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);  // UTF-8 as parsed (the parser has validated it)
    }
  }
  out.push_back('"');
}

std::string VoteReceiptJson(const VoteOutcome& outcome, const VoteInput& vote) {
  std::string out;
  out.reserve(160);
  out += R"({"status":")";
  out += StandingName(outcome);
  out += R"(","receipt":)";
  AppendJsonString(out, outcome.receipt);
  out += R"(,"award_id":)";
  AppendInt(out, vote.award_id);
  out += R"(,"nomination_id":)";
  AppendInt(out, vote.nomination_id);
  out += R"(,"nominee_id":)";
  AppendInt(out, vote.nominee_id);
  if (vote.client_ref) {
    out += R"(,"client_ref":)";
    AppendJsonString(out, *vote.client_ref);
  }
  out += '}';
  return out;
}

std::string BatchResultsJson(const std::vector<VoteOutcome>& outcomes,
                             const std::vector<ParsedVote>& votes) {
  int counted = 0;
  int already = 0;
  int held = 0;
  for (const VoteOutcome& outcome : outcomes) {
    if (outcome.kind != VoteOutcome::Kind::kError && outcome.standing != Standing::kCounted) {
      held += 1;  // held or rejected: stored, not counted
      continue;
    }
    counted += outcome.kind == VoteOutcome::Kind::kCreated ? 1 : 0;
    already += outcome.kind == VoteOutcome::Kind::kExisting ? 1 : 0;
  }
  std::string out;
  out.reserve(64 + outcomes.size() * 56);
  out += R"({"counted":)";
  AppendInt(out, counted);
  out += R"(,"already_counted":)";
  AppendInt(out, already);
  out += R"(,"held":)";
  AppendInt(out, held);
  out += R"(,"rejected":)";
  AppendInt(out, static_cast<int64_t>(outcomes.size()) - counted - already - held);
  out += R"(,"results":[)";
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const VoteOutcome& outcome = outcomes[i];
    if (i > 0) {
      out += ',';
    }
    // The client's reference is echoed for every vote that carried a valid one, rejected or not.
    const auto append_client_ref = [&] {
      if (i < votes.size() && votes[i].vote.client_ref &&
          Utf8Length(*votes[i].vote.client_ref) <= kMaxClientRefChars) {
        out += R"(,"client_ref":)";
        AppendJsonString(out, *votes[i].vote.client_ref);
      }
    };
    if (outcome.kind == VoteOutcome::Kind::kError) {
      out += R"({"status":)";
      AppendInt(out, http::StatusFor(outcome.error.code));
      append_client_ref();
      out += R"(,"error":)";
      out += http::ErrorResponse(outcome.error).body;
      out += '}';
      continue;
    }
    if (outcome.standing == Standing::kHeld) {
      out += R"({"status":202,"standing":"held","receipt":)";
    } else if (outcome.standing == Standing::kRejected) {
      out += R"({"status":200,"standing":"rejected","receipt":)";
    } else {
      out += outcome.kind == VoteOutcome::Kind::kCreated ? R"({"status":201,"receipt":)"
                                                         : R"({"status":200,"receipt":)";
    }
    AppendJsonString(out, outcome.receipt);
    append_client_ref();
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace civic::ballot
