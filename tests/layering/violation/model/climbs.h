// Fixture: model/ includes a folder above it (planted violation).
#pragma once
#include "base/status.h"
#include "runtime/engine.h"
