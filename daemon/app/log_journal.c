/* SPDX-License-Identifier: GPL-3.0-or-later */
#define SD_JOURNAL_SUPPRESS_LOCATION /* we pass the caller's location ourselves */

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "app/log_journal.h"
#include "util/log.h"

static void journal_sink(enum cg_log_level level, const char *topic, const char *file, int line,
			 const char *func, const char *message)
{
	/* Trace maps to debug: syslog has nothing below it. */
	int priority = level > CG_LOG_DEBUG ? CG_LOG_DEBUG : (int)level;

	sd_journal_send("MESSAGE=%s: %s", topic, message, "PRIORITY=%d", priority, "CG_TOPIC=%s",
			topic, "CODE_FILE=%s", file, "CODE_LINE=%d", line, "CODE_FUNC=%s", func,
			"SYSLOG_IDENTIFIER=camgate", NULL);
}

static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

bool cg_log_journal_install(bool force)
{
	if (!force && !stderr_is_journal())
		return false;
	cg_log_set_sink(journal_sink);
	return true;
}
