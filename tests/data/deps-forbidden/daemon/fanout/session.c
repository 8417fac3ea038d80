/* check-deps self-test: a session that knows its worker (no circle, a forbidden edge). */
#include "fanout/worker.h"
