/* check-deps self-test: the edge that closes the circle. */
#include "media/media.h"
