// Every test includes Catch2 through this header. c10/util/Logging.h defines its own CHECK
// macro; if it is included after Catch2 it silently replaces Catch's CHECK (assertions that
// never count, or compile errors with braces). Pull c10's in first, drop its CHECK, then Catch.
#pragma once

#include <c10/util/Logging.h>
#undef CHECK

#include <catch2/catch.hpp>
