// The v4rt subcommands. Each lives in its own file agents/cli/cmd_<name>.cpp,
// parses its flags with FlagSet and calls into the libraries. Adding a command:
// declare its entry function here and add one row to kCommands in main.cpp.
#pragma once

namespace v4rt::cli {

// Each returns the process exit code. argv excludes "v4rt" and the command name.
int cmd_version(int argc, char** argv);
// `v4rt model inspect|init`: cmd_model dispatches; init lives in cmd_model_init.cpp.
int cmd_model(int argc, char** argv);
int cmd_model_init(int argc, char** argv);
// `v4rt chat render|parse`: cmd_chat dispatches (render in cmd_chat.cpp); parse lives in cmd_chat_parse.cpp.
int cmd_chat(int argc, char** argv);
int cmd_chat_parse(int argc, char** argv);
// `v4rt code`: the repository coding agent (cmd_code.cpp; REPL in code_repl.cpp).
int cmd_code(int argc, char** argv);
// `v4rt tools list`: every tool a coding session offers, with its source and permission (cmd_tools.cpp).
int cmd_tools(int argc, char** argv);
// `v4rt tokenize`: JSON Lines text <-> ids through runtime::Tokenizer (cmd_tokenize.cpp).
int cmd_tokenize(int argc, char** argv);

// `v4rt generate`: one streamed completion from a local checkpoint (cmd_generate.cpp).
int cmd_generate(int argc, char** argv);
// `v4rt bench`: prefill/decode speed, MTP speed-up, memory, KV bytes per token (cmd_bench.cpp).
int cmd_bench(int argc, char** argv);
// `v4rt logits`: raw next-token logits of a token sequence as .npy, for parity checks (cmd_logits.cpp).
int cmd_logits(int argc, char** argv);

// `v4rt serve`: the OpenAI/Anthropic-compatible HTTP server (cmd_serve.cpp; runtime/server/).
int cmd_serve(int argc, char** argv);

// `v4rt session list|show|fork|rm|pin|unpin|gc|check|export|import`: the KV session store (cmd_session.cpp).
int cmd_session(int argc, char** argv);

}  // namespace v4rt::cli
