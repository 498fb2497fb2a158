/* fuzz.h: the libFuzzer entry point every harness in tests/fuzz/ defines; replay.c feeds
 * it a corpus without libFuzzer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
