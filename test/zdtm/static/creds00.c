/* creds00: after dropping capabilities (bounding set, permitted, inheritable), setting
 * securebits and switching to non-root uids/gids with setresuid/setresgid, all of it
 * survives: real/effective/saved/fs ids, capability sets, securebits. */
#include "zdtmtst.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Kept: CAP_DAC_OVERRIDE (the pidfile), CAP_KILL, CAP_SETUID; everything else dropped. */
#define KEEP ((1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_KILL) | (1ULL << CAP_SETUID))
#define INH (1ULL << CAP_KILL)
#define SECBITS (SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED)

static int capget_all(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int capset_all(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};

	return syscall(SYS_capset, &h, d);
}

static uint64_t status_hex(const char *key)
{
	char buf[64];

	return proc_status_field(0, key, buf, sizeof(buf)) ? ~0ULL : strtoull(buf, NULL, 16);
}

int main(int argc, char **argv)
{
	uint64_t eff = 0, prm = 0, inh = 0, bnd_want = 0;
	uid_t r, e, s;
	gid_t gr, ge, gs;

	test_init(argc, argv);
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		if (prctl(PR_CAPBSET_READ, c) != 1)
			continue;
		if (c == CAP_SYS_BOOT || c == CAP_NET_RAW || c == CAP_SYS_MODULE) {
			if (prctl(PR_CAPBSET_DROP, c))
				setup_fail("PR_CAPBSET_DROP %d", c);
		} else {
			bnd_want |= 1ULL << c;
		}
	}
	if (prctl(PR_SET_SECUREBITS, SECBITS))
		setup_fail("PR_SET_SECUREBITS");
	if (capset_all(KEEP | (1ULL << CAP_SETGID), KEEP | (1ULL << CAP_SETGID), INH))
		setup_fail("capset");
	if (setresgid(2001, 2002, 2003) || setresuid(1001, 1002, 1003))
		setup_fail("setres[ug]id");
	setfsuid(1004);
	setfsgid(2004);
	if (capset_all(KEEP, KEEP, INH))
		setup_fail("capset after setresuid");

	test_daemon();
	test_waitsig();

	check(getresuid(&r, &e, &s) == 0 && r == 1001 && e == 1002 && s == 1003, "uids %d %d %d", r, e, s);
	check(getresgid(&gr, &ge, &gs) == 0 && gr == 2001 && ge == 2002 && gs == 2003, "gids %d %d %d", gr, ge, gs);
	check(setfsuid(-1) == 1004 && setfsgid(-1) == 2004, "fsuid %d fsgid %d", setfsuid(-1), setfsgid(-1));
	check(capget_all(&eff, &prm, &inh) == 0 && eff == KEEP && prm == KEEP && inh == INH,
	      "caps eff %#llx prm %#llx inh %#llx", (unsigned long long)eff, (unsigned long long)prm,
	      (unsigned long long)inh);
	check(status_hex("CapBnd") == bnd_want, "CapBnd %#llx, want %#llx", (unsigned long long)status_hex("CapBnd"),
	      (unsigned long long)bnd_want);
	check(status_hex("CapAmb") == 0, "CapAmb %#llx", (unsigned long long)status_hex("CapAmb"));
	check(prctl(PR_GET_SECUREBITS) == SECBITS, "securebits %#x", prctl(PR_GET_SECUREBITS));
	pass();
	return test_result();
}
