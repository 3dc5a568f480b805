// Fixture for tests/layering/check_layering_test.cmake: an include the rules allow.
#pragma once
#include "base/status.h"
