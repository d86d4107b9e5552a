/* socket-tcp6-est: socket-tcp-est over IPv6 loopback. */
#define FAMILY AF_INET6
#include "socket-tcp-est.c"
