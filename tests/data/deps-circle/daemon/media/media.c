/* check-deps self-test: media → hub → media is a circle. */
#include "fanout/hub.h"
