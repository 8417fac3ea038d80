/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The libFuzzer entry point every target defines and standalone.c calls. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
