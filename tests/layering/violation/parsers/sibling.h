// Fixture: parsers/ includes its sibling tools/ (planted violation).
#pragma once
#include "parsers/dsml_stream.h"
#include "tools/tool.h"
