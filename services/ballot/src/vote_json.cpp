#include "vote_json.hpp"

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
    static constexpr std::string_view kMembers[] = {"voter", "nomination", "nominee", "award",
                                                    "client_ref"};
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
      if (value == Value::kNull) {
        vote.client_ref.reset();
      } else if (value != Value::kString) {
        TypeError("client_ref", "must be a string");
      } else {
        vote.client_ref = std::move(*string_);
      }
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

// The common body, tokenised by hand into the same SAX events nlohmann's parser gives VoteReader,
// in the same order, stopping where a handler says stop: plain JSON of objects, arrays, keys and
// strings of well-formed UTF-8 without escapes, non-negative integers of up to 18 digits, and
// null. Anything else (an escape, a control character, a malformed UTF-8 sequence, a negative or
// fractional number, true/false, nesting past kMaxDepth, any syntax error) is left to nlohmann's
// parser, which reads the body again from its start with a fresh reader: so the fast path never
// decides what a body outside it means, and cannot differ from the reference parse where it
// answers.
class FastSax {
 public:
  enum class Result { kParsed, kStopped, kLeftToParser };

  FastSax(std::string_view body, VoteReader& reader)
      : p_(body.data()), end_(body.data() + body.size()), reader_(reader) {}

  Result Run() {
    SkipSpace();
    if (p_ == end_) {
      return Result::kLeftToParser;
    }
    const Step step = Value(0);
    if (step != Step::kOk) {
      return step == Step::kStop ? Result::kStopped : Result::kLeftToParser;
    }
    SkipSpace();
    return p_ == end_ ? Result::kParsed : Result::kLeftToParser;
  }

 private:
  enum class Step { kOk, kStop, kBail };
  static constexpr int kMaxDepth = 16;
  static constexpr int kMaxDigits = 18;  // below 10^18: exact in int64

  static Step Handled(bool go_on) { return go_on ? Step::kOk : Step::kStop; }

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }

  // At an opening quote: the string's bytes into `out`, past the closing quote.
  bool String(std::string& out) {
    const char* start = ++p_;
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.assign(start, p_);
        ++p_;
        return true;
      }
      if (c >= 0x80) {  // well-formed UTF-8 as nlohmann's lexer takes it, or no answer
        size_t used = 0;
        if (DecodeUtf8(std::string_view(p_, static_cast<size_t>(end_ - p_)), used) < 0) {
          return false;
        }
        p_ += used;
        continue;
      }
      if (c == '\\' || c < 0x20) {
        return false;
      }
      ++p_;
    }
    return false;
  }

  Step Value(int depth) {
    if (p_ == end_) {
      return Step::kBail;
    }
    const char c = *p_;
    if (c == '{' || c == '[') {
      return depth >= kMaxDepth ? Step::kBail : Container(c == '{', depth + 1);
    }
    if (c == '"') {
      if (!String(string_)) {
        return Step::kBail;
      }
      return Handled(reader_.string(string_));
    }
    if (c >= '0' && c <= '9') {
      const char* start = p_;
      uint64_t v = 0;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
        v = v * 10 + static_cast<uint64_t>(*p_ - '0');
        ++p_;
      }
      const auto digits = p_ - start;
      if (digits > kMaxDigits || (digits > 1 && *start == '0') ||
          (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E'))) {
        return Step::kBail;
      }
      return Handled(reader_.number_unsigned(v));
    }
    if (end_ - p_ >= 4 && std::string_view(p_, 4) == "null") {
      p_ += 4;
      return Handled(reader_.null());
    }
    return Step::kBail;
  }

  Step Container(bool object, int depth) {
    ++p_;
    if (!(object ? reader_.start_object(static_cast<std::size_t>(-1))
                 : reader_.start_array(static_cast<std::size_t>(-1)))) {
      return Step::kStop;
    }
    const char close = object ? '}' : ']';
    SkipSpace();
    if (p_ != end_ && *p_ == close) {
      ++p_;
      return Handled(object ? reader_.end_object() : reader_.end_array());
    }
    for (;;) {
      if (object) {
        if (p_ == end_ || *p_ != '"' || !String(key_)) {
          return Step::kBail;
        }
        if (!reader_.key(key_)) {
          return Step::kStop;
        }
        SkipSpace();
        if (p_ == end_ || *p_ != ':') {
          return Step::kBail;
        }
        ++p_;
        SkipSpace();
      }
      const Step step = Value(depth);
      if (step != Step::kOk) {
        return step;
      }
      SkipSpace();
      if (p_ == end_) {
        return Step::kBail;
      }
      if (*p_ == close) {
        ++p_;
        return Handled(object ? reader_.end_object() : reader_.end_array());
      }
      if (*p_ != ',') {
        return Step::kBail;
      }
      ++p_;
      SkipSpace();
    }
  }

  const char* p_;
  const char* end_;
  VoteReader& reader_;
  json::string_t key_;
  json::string_t string_;
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

}  // namespace

std::optional<ParsedVotes> FastParseVotes(std::string_view body, bool batch) {
  ParsedVotes out;
  VoteReader reader(batch, out);
  const FastSax::Result result = FastSax(body, reader).Run();
  if (result == FastSax::Result::kLeftToParser) {
    return std::nullopt;
  }
  Conclude(out, reader, result == FastSax::Result::kParsed);
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
  out += outcome.kind == VoteOutcome::Kind::kCreated ? R"({"status":"counted","receipt":)"
                                                     : R"({"status":"already_counted","receipt":)";
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
  for (const VoteOutcome& outcome : outcomes) {
    counted += outcome.kind == VoteOutcome::Kind::kCreated ? 1 : 0;
    already += outcome.kind == VoteOutcome::Kind::kExisting ? 1 : 0;
  }
  std::string out;
  out.reserve(64 + outcomes.size() * 56);
  out += R"({"counted":)";
  AppendInt(out, counted);
  out += R"(,"already_counted":)";
  AppendInt(out, already);
  out += R"(,"rejected":)";
  AppendInt(out, static_cast<int64_t>(outcomes.size()) - counted - already);
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
    out += outcome.kind == VoteOutcome::Kind::kCreated ? R"({"status":201,"receipt":)"
                                                       : R"({"status":200,"receipt":)";
    AppendJsonString(out, outcome.receipt);
    append_client_ref();
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace civic::ballot
