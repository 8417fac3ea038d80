/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The software encoder's speed policy (--x264-preset=auto): which x264 preset a camera
 * encodes with, from the time its recent frames took. Pure: encode times come in as
 * numbers, nothing is timed or logged here; the media thread feeds it and applies its
 * decisions (media/media.c, hw/sw/x264.c).
 *
 * The policy:
 *  - every `window` frames (about one second) it takes the 90th percentile of those
 *    frames' encode times;
 *  - above high_pct percent of the frame interval for over_windows windows in a row (two:
 *    one busy second of another program is not a slow machine) it steps one preset
 *    faster: the encode leaves too little of the interval to the rest of the machine
 *    (viewers' SRTP, the kernel's sends) and a spike past the interval drops a frame;
 *  - below low_pct percent for hold_windows windows in a row it steps one preset slower
 *    (better pictures at the same bitrate). The two thresholds are far apart (a slower
 *    preset costs about twice the time), and a step slower that is undone by a step faster
 *    within hold windows doubles the hold (up to CG_SPEED_HOLD_MAX_FACTOR times), so a
 *    load between two presets does not make it flap;
 *  - the window after a change is not judged: it mixes the two presets, and a preset
 *    change that reopens the encoder waits for the next key frame.
 */
#pragma once

#include <stdint.h>

/* The presets the policy and --x264-preset know, slowest (best pictures) first. */
enum cg_speed_preset {
	CG_SPEED_MEDIUM,
	CG_SPEED_FAST,
	CG_SPEED_FASTER,
	CG_SPEED_VERYFAST,
	CG_SPEED_SUPERFAST,
	CG_SPEED_ULTRAFAST,
	CG_SPEED_N_PRESETS,
};

#define CG_SPEED_WINDOW_MIN	 8u
#define CG_SPEED_WINDOW_MAX	 128u
#define CG_SPEED_HIGH_PCT	 60u /* step faster above this share of the interval ... */
#define CG_SPEED_OVER_WINDOWS	 2u  /* ... for this many windows in a row */
#define CG_SPEED_LOW_PCT	 20u /* room: below this share ... */
#define CG_SPEED_HOLD_WINDOWS	 10u /* ... for this many windows in a row */
#define CG_SPEED_HOLD_MAX_FACTOR 32u /* the hold grows to at most 32 times after bounces */
#define CG_SPEED_PERCENTILE	 90u

/* The preset's x264 name ("veryfast"), or NULL out of range. Any thread. */
const char *cg_speed_preset_name(unsigned preset);
/* The preset called name, or -EINVAL (also for NULL). Any thread. */
int cg_speed_preset_from_name(const char *name);

struct cg_speed_cfg {
	uint32_t interval_usec; /* the frame interval, 1e6 / fps; not 0 */
	unsigned slowest;	/* the range the policy may choose in (inclusive) */
	unsigned fastest;
	unsigned start;	       /* the preset it starts at, within the range */
	unsigned window;       /* frames per decision, CG_SPEED_WINDOW_MIN..MAX */
	unsigned high_pct;     /* 1..100 */
	unsigned over_windows; /* >= 1 */
	unsigned low_pct;      /* below high_pct */
	unsigned hold_windows; /* >= 1 */
};

/*
 * The defaults for fps frames a second: a window of about a second (fps clamped to the
 * window bounds), the thresholds and counts above, the range veryfast..ultrafast starting at
 * veryfast. Slower presets are left out of auto on purpose: encode time is not the only
 * cost, the encoder's CPU is taken from the viewers' workers, and veryfast is what
 * camgate always used. Any thread.
 */
void cg_speed_cfg_default(struct cg_speed_cfg *cfg, uint32_t fps);

/* One policy. Zero-initialise, then cg_speed_init(). Owned by one thread. */
struct cg_speed {
	struct cg_speed_cfg cfg;
	unsigned preset;
	uint32_t samples[CG_SPEED_WINDOW_MAX];
	unsigned n;		/* samples in this window */
	unsigned settle;	/* windows still to ignore after a change */
	unsigned calm;		/* windows with room in a row */
	unsigned over;		/* windows over high_pct in a row */
	unsigned hold;		/* windows of room needed now */
	unsigned since_slower;	/* windows since the last step slower; UINT32_MAX: none */
	uint32_t last_pct_usec; /* the last window's percentile (0 before the first) */
};

/* A change of preset and what made it. */
struct cg_speed_step {
	unsigned from, to;
	uint32_t encode_usec;	/* the window's percentile */
	uint32_t interval_usec; /* of a frame */
};

/* Checks cfg and starts s at cfg->start. Returns 0 or -EINVAL (s unchanged). */
int cg_speed_init(struct cg_speed *s, const struct cg_speed_cfg *cfg);

/*
 * One frame's encode time (microseconds). Returns 1 with *step filled when the preset
 * changes (s->preset is then step->to), else 0. Never fails; no allocation.
 */
int cg_speed_add(struct cg_speed *s, uint32_t encode_usec, struct cg_speed_step *step);
