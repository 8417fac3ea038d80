/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Native journald logging with structured fields (CG_TOPIC, CODE_FILE/LINE/FUNC,
 * PRIORITY) when camgate runs under systemd. Built from log_journal.c when libsystemd is
 * available, from log_journal_none.c otherwise.
 */
#pragma once

#include <stdbool.h>

/*
 * Routes logging to the journal when stderr is connected to it ($JOURNAL_STREAM matches
 * stderr's device and inode) or when force is set. Returns true when the journal sink is
 * in use. Call once, before threads start.
 */
bool cg_log_journal_install(bool force);
