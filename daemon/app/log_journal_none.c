/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Built without libsystemd: logging stays on stderr, which systemd also collects. */
#include "app/log_journal.h"

bool cg_log_journal_install(bool force)
{
	return false;
}
