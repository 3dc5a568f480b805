// The token ids of a rendered chat prompt as the model sees them: special
// tokens matched only inside the encoder's structure (everything else is
// encoded literally, so message text cannot forge a turn), and BOS first
// (added when the prompt does not start with it, as the engine does for a
// text prompt of a new sequence). Shared by the local agent backend and the
// HTTP server, so both produce the same ids and hit the same cached prefixes.
#pragma once

#include <cstdint>
#include <vector>

#include "parsers/rendered_prompt.h"

namespace v4rt::runtime {

class Tokenizer;

std::vector<int32_t> prompt_token_ids(const Tokenizer& tokenizer, const parsers::RenderedPrompt& prompt,
                                      int32_t bos_id);

}  // namespace v4rt::runtime
