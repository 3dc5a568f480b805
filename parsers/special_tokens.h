// Special strings of the DeepSeek-V4 chat format (spec §6.1), shared by the
// chat encoder (parsers/chat_encoder.h) and the DSML parser
// (parsers/dsml_stream.h). Constants only; thread-safe.
//
// The bars are U+FF5C (fullwidth vertical line, UTF-8 EF BD 9C) and the
// separator in BOS/EOS is U+2581 (lower one eighth block, UTF-8 E2 96 81).
// The token ids are those listed in spec §6.1 (third-party tokenizer tests;
// verify against tokenizer.json before relying on them).
#pragma once

#include <cstdint>
#include <string_view>

namespace v4rt::parsers::tokens {

// Sentence delimiters.
inline constexpr std::string_view kBos = "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>";  // id 0
inline constexpr std::string_view kEos = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";    // id 1

// Turn prefixes.
inline constexpr std::string_view kUser = "<\uFF5CUser\uFF5C>";                      // id 128803
inline constexpr std::string_view kAssistant = "<\uFF5CAssistant\uFF5C>";            // id 128804
inline constexpr std::string_view kLatestReminder = "<\uFF5Clatest_reminder\uFF5C>";  // id 128828

// Reasoning delimiters.
inline constexpr std::string_view kThinkStart = "<think>";   // id 128821
inline constexpr std::string_view kThinkEnd = "</think>";    // id 128822

// DSML marker (id 128825), used as a tag-name prefix, e.g. "<｜DSML｜invoke".
inline constexpr std::string_view kDsml = "\uFF5CDSML\uFF5C";

// DSML tags as they appear in rendered / generated text.
inline constexpr std::string_view kToolCallsOpen = "<\uFF5CDSML\uFF5Ctool_calls>";
inline constexpr std::string_view kToolCallsClose = "</\uFF5CDSML\uFF5Ctool_calls>";
inline constexpr std::string_view kInvokeOpenPrefix = "<\uFF5CDSML\uFF5Cinvoke";       // + ' name="N">'
inline constexpr std::string_view kInvokeClose = "</\uFF5CDSML\uFF5Cinvoke>";
inline constexpr std::string_view kParameterOpenPrefix = "<\uFF5CDSML\uFF5Cparameter";  // + ' name="K" string="true|false">'
inline constexpr std::string_view kParameterClose = "</\uFF5CDSML\uFF5Cparameter>";
// What a generated completion contains right before the tool-call block:
// exactly two newlines then the opener without its '>' (spec §6.7 "TCS").
inline constexpr std::string_view kToolCallsStart = "\n\n<\uFF5CDSML\uFF5Ctool_calls";

// Tool results inside a user turn (ordinary text, not special tokens).
inline constexpr std::string_view kToolResultOpen = "<tool_result>";
inline constexpr std::string_view kToolResultClose = "</tool_result>";

// Quick-instruction ("task") tokens.
inline constexpr std::string_view kAction = "<\uFF5Caction\uFF5C>";        // id 128829
inline constexpr std::string_view kQuery = "<\uFF5Cquery\uFF5C>";          // id 128830
inline constexpr std::string_view kAuthority = "<\uFF5Cauthority\uFF5C>";  // id 128831
inline constexpr std::string_view kDomain = "<\uFF5Cdomain\uFF5C>";        // id 128832
inline constexpr std::string_view kTitle = "<\uFF5Ctitle\uFF5C>";          // id 128836
inline constexpr std::string_view kReadUrl = "<\uFF5Cread_url\uFF5C>";     // id 128845

// Token ids (spec §6.1).
inline constexpr int32_t kBosId = 0;
inline constexpr int32_t kEosId = 1;
inline constexpr int32_t kUserId = 128803;
inline constexpr int32_t kAssistantId = 128804;
inline constexpr int32_t kThinkStartId = 128821;
inline constexpr int32_t kThinkEndId = 128822;
inline constexpr int32_t kDsmlId = 128825;
inline constexpr int32_t kLatestReminderId = 128828;
inline constexpr int32_t kActionId = 128829;
inline constexpr int32_t kQueryId = 128830;
inline constexpr int32_t kAuthorityId = 128831;
inline constexpr int32_t kDomainId = 128832;
inline constexpr int32_t kTitleId = 128836;
inline constexpr int32_t kReadUrlId = 128845;

// The V4 chat specials with their release ids, in id order: the one table the
// tokenizer files of `v4rt model init` (runtime/tokenizer/tokenizer_files.cpp)
// are built from. A reduced vocabulary puts them at its last ids in this order,
// so the order is part of every generated tokenizer.json.
struct ChatSpecial {
  std::string_view text;
  int32_t id;
};
inline constexpr ChatSpecial kChatSpecials[] = {
    {kUser, kUserId},           {kAssistant, kAssistantId},           {kThinkStart, kThinkStartId},
    {kThinkEnd, kThinkEndId},   {kDsml, kDsmlId},                     {kLatestReminder, kLatestReminderId},
    {kAction, kActionId},       {kQuery, kQueryId},                   {kAuthority, kAuthorityId},
    {kDomain, kDomainId},       {kTitle, kTitleId},                   {kReadUrl, kReadUrlId},
};

}  // namespace v4rt::parsers::tokens
