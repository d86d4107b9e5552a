/* prctl00: no_new_privs, dumpable and child subreaper survive. (Timer slack has no field in
 * CRIU's images.) */
#include "zdtmtst.h"

#include <stdlib.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
	int sub = 0;
	char buf[16];

	test_init(argc, argv);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_DUMPABLE, 0) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1))
		setup_fail("prctl");

	test_daemon();
	test_waitsig();

	check(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs lost");
	check(proc_status_field(0, "NoNewPrivs", buf, sizeof(buf)) == 0 && atoi(buf) == 1, "NoNewPrivs: %s", buf);
	check(prctl(PR_GET_DUMPABLE) == 0, "dumpable %d", prctl(PR_GET_DUMPABLE));
	check(prctl(PR_GET_CHILD_SUBREAPER, &sub) == 0 && sub == 1, "child subreaper %d", sub);
	pass();
	return test_result();
}
