/* SPDX-License-Identifier: GPL-3.0-or-later */
#define CG_LOG_TOPIC "rooms"

#include <errno.h>
#include <string.h>

#include "rooms.h"
#include "signaling.h"
#include "util/log.h"
#include "util/macros.h"

struct cg_rooms {
	const struct cg_signaling_deps *deps;
};

int cg_rooms_new(const struct cg_signaling_deps *deps, struct cg_rooms **ret)
{
	struct cg_rooms *rooms = cg_new0(struct cg_rooms, 1);

	rooms->deps = deps;
	*ret = rooms;
	return 0;
}

struct cg_rooms *cg_rooms_free(struct cg_rooms *rooms)
{
	free(rooms);
	return NULL;
}

enum MHD_Result cg_rooms_handle(struct cg_rooms *rooms, struct MHD_Connection *conn,
				const char *url, const char *method, const uint8_t *body,
				size_t body_len)
{
	static const char text[] = "rooms are not available yet\n";
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	r = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, resp);
	MHD_destroy_response(resp);
	return r;
}
