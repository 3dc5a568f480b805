// Fixture: the tokenizer is a leaf of runtime/ and may not include the Engine (planted violation).
#pragma once
#include "parsers/special_tokens.h"
#include "runtime/tokenizer/bpe.h"
#include "runtime/engine.h"
