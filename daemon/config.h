/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The daemon's configuration: parsed once from the command line into an immutable
 * snapshot that every module reads. Control thread creates and frees it; any thread may
 * read it while the daemon runs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cg_config {
	char *source;	     /* "test" */
	char *encoder;	     /* "auto", "x264" */
	char *listen_host;   /* "127.0.0.1", "0.0.0.0", "::" */
	uint16_t listen_port;
	uint32_t width;
	uint32_t height;
	uint32_t fps;
	uint32_t bitrate_kbps;	   /* start (and, without adaptation, constant) bitrate */
	uint32_t min_bitrate_kbps; /* floor and ceiling for bandwidth adaptation */
	uint32_t max_bitrate_kbps;
	uint32_t keyframe_interval_frames;
	uint32_t min_keyframe_interval_ms; /* keyframe arbiter: at most one IDR per interval */
	unsigned workers;		   /* network worker threads */
	unsigned max_viewers;
	int log_level;
	bool list_devices; /* --list-devices: print cameras and encoders, then exit */
};

/*
 * Parses argv into a new configuration. Returns 0 with *ret set (free with
 * cg_config_free), 1 when --help or --version was printed (the caller exits 0), or -EINVAL
 * with the reason printed to stderr.
 */
int cg_config_from_args(int argc, char **argv, struct cg_config **ret);

struct cg_config *cg_config_free(struct cg_config *cfg);

/* True when the HTTP listen address is a loopback address. */
bool cg_config_listens_on_loopback(const struct cg_config *cfg);
