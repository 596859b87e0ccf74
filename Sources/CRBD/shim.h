// librbd and librados, from Debian's librbd-dev and librados-dev (no pkg-config file).
#include <rados/librados.h>
#include <rbd/librbd.h>
